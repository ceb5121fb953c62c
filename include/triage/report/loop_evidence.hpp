// triage/report/loop_evidence.hpp — is a thread going round a loop? What
// repeated samples of its Python stack show, and nothing more.
//
// Offers: `loop_evidence_of(samples)` → `loop_evidence`, from one thread's
// stacks (innermost first) sampled in time order. The samples are aligned
// from the outermost frame; the `anchor` is the deepest frame that every
// sample has at the same depth with the same code object, below callers
// that are on the same line in every sample: the function the thread
// stayed in (it may call others: those frames come and go).
//  - `lines`: the anchor's line in each sample, in order (0: no line);
//  - `went_back`: between consecutive samples the anchor's line went back
//    (from `back_from` to `back_to`): control returned to an earlier line
//    of the same function called from the same place — a loop in that
//    function, or the same call made again by a loop in a caller;
//  - `looping()`: at least 3 samples, an anchor, and the line went back;
//  - `same_line()`: at least 3 samples whose whole stacks are the same,
//    on the same line (a loop on one line, or one long call: not told apart).
// A sample with no frames leaves no anchor.
// Thread-safe: yes (pure). Signal-safe: no. Target process: none touched.
//
//   std::vector<std::vector<triage::cpython::python_frame>> samples = ...;  // one thread, in time order
//   auto loop = triage::report::loop_evidence_of(samples);
//   if (loop.looping()) fmt::print("{}: line went back from {} to {}\n", loop.anchor->function, loop.back_from, loop.back_to);
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/cpython/stack_snapshot.hpp"

namespace triage::report {

struct loop_evidence {
    std::size_t samples = 0;
    std::optional<cpython::python_frame> anchor;  // as in the last sample
    bool whole_stack_same = false;               // every sample has the same frames (lines of the anchor aside)
    std::vector<int> lines;                      // the anchor's line in each sample
    bool went_back = false;
    int back_from = 0;
    int back_to = 0;

    [[nodiscard]] bool looping() const noexcept { return samples >= 3 && anchor && went_back; }
    [[nodiscard]] bool same_line() const noexcept {
        return samples >= 3 && whole_stack_same && std::ranges::all_of(lines, [&](int l) { return l == lines.front(); });
    }
};

[[nodiscard]] TRIAGE_DECL loop_evidence loop_evidence_of(std::span<const std::vector<cpython::python_frame>> samples);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/loop_evidence.ipp"
#endif
