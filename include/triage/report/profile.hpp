// triage/report/profile.hpp — a sampling profile: the ticks of
// cpython::sample_stacks folded into distinct stacks with their sample
// counts, the shape every profile format is written from
// (profile_formats.hpp).
//
// Offers: `profile{options}`, `add(tick)`, and what was folded: `frames()`
// (each distinct function, file and, with `options.lines`, line), `stacks()`
// (outermost frame first, in first-seen order, with their counts), `threads()`
// (labels: "1234 MainThread", or "all threads" when they are not kept
// apart), and counts: `samples()` kept, `idle_samples()` left out (the
// thread was not on a CPU; kept with `options.idle`), `gil_dropped()` (not
// holding the GIL, with `options.gil_only`), `empty_samples()` (a thread
// with no Python frame: a C thread, or one between calls; with native
// frames, a thread with none of either). A tick sampled with native frames
// is folded from its merged stacks (Python frames in place of the
// interpreter's; a native frame is its function, else "??", and its source
// file, else its object).
// Frames are interned and stacks hashed: adding a tick of 26 threads costs
// a few microseconds once its stacks have been seen.
// Thread-safe: no (one profile per thread). Signal-safe: no.
// Target process: none (plain values).
//
//   triage::report::profile p{{.idle = false}};
//   TRIAGE_TRY(triage::cpython::sample_stacks(py, opts, [&](const auto& tick) { p.add(tick); }));
//   std::string folded = triage::report::to_collapsed(p);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/cpython/sampler.hpp"

namespace triage::report {

struct profile_options {
    bool idle = false;        // keep samples of threads not on a CPU
    bool gil_only = false;    // keep only samples of the thread holding the GIL
    bool by_thread = false;   // a stack tree per thread (else one for all)
    bool lines = true;        // frames are function+file+line (else function+file)
};

struct profile_frame {
    std::string function;
    std::string file;
    int line = 0;  // 0: not kept, or none

    friend bool operator==(const profile_frame&, const profile_frame&) = default;
};

struct profile_stack {
    std::uint32_t thread = 0;            // index into threads()
    std::vector<std::uint32_t> frames;   // indexes into frames(), outermost first
    std::uint64_t samples = 0;
};

class profile {
public:
    explicit profile(profile_options options = {}) : options_{options} {}

    TRIAGE_DECL void add(const cpython::sampling_tick& tick);

    [[nodiscard]] const profile_options& options() const noexcept { return options_; }
    [[nodiscard]] const std::vector<profile_frame>& frames() const noexcept { return frames_; }
    [[nodiscard]] const std::vector<profile_stack>& stacks() const noexcept { return stacks_; }
    [[nodiscard]] const std::vector<std::string>& threads() const noexcept { return threads_; }
    [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
    [[nodiscard]] std::uint64_t idle_samples() const noexcept { return idle_; }
    [[nodiscard]] std::uint64_t gil_dropped() const noexcept { return gil_dropped_; }
    [[nodiscard]] std::uint64_t empty_samples() const noexcept { return empty_; }

private:
    struct frame_key_hash {
        std::size_t operator()(const profile_frame& f) const noexcept;
    };
    struct stack_key_hash {
        std::size_t operator()(const std::vector<std::uint32_t>& s) const noexcept;
    };
    [[nodiscard]] std::uint32_t thread_index(const cpython::thread_sample& t);
    [[nodiscard]] std::uint32_t frame_id(profile_frame frame);
    [[nodiscard]] std::uint32_t frame_id(const cpython::python_frame& f);
    [[nodiscard]] std::uint32_t frame_id(const unwind::native_symbol& s);

    profile_options options_;
    std::vector<profile_frame> frames_;
    std::unordered_map<profile_frame, std::uint32_t, frame_key_hash> frame_ids_;
    std::vector<profile_stack> stacks_;
    // Key: the thread's index, then the stack's frames.
    std::unordered_map<std::vector<std::uint32_t>, std::size_t, stack_key_hash> stack_ids_;
    std::vector<std::string> threads_;
    std::map<std::tuple<std::uint64_t, pid_t>, std::uint32_t> thread_ids_;  // by ident and tid
    std::vector<std::uint32_t> key_;  // scratch
    std::uint64_t samples_ = 0, idle_ = 0, gil_dropped_ = 0, empty_ = 0;
};

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/profile.ipp"
#endif
