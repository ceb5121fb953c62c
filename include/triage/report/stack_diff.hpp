// triage/report/stack_diff.hpp — what changed between two Python stack
// reports of one process (two cores written minutes apart, or two live
// reads): which threads appeared, vanished, or are somewhere else.
//
// Offers: `diff_stacks(before, after)` → `stack_diff`: the threads whose
// stacks differ (`changes`, in `after`'s order, then those only in
// `before`), each with its stack before and after (nullopt: not there),
// and how many threads are the same. Threads are matched by kernel tid
// when both reports know it, else by threading.get_ident(); stacks are
// compared by function, file and line of every frame (not by addresses:
// two cores of one process may hold the same code at the same place).
// Thread-safe: yes (pure). Signal-safe: no. Target process: none touched.
//
//   auto a = TRIAGE_TRY(triage::cpython::python_stacks(std::string{"core.1"}));
//   auto b = TRIAGE_TRY(triage::cpython::python_stacks(std::string{"core.2"}));
//   for (const auto& c : triage::report::diff_stacks(a, b).changes)
//       fmt::print("{} {}\n", c.before ? "changed" : "new", c.after ? c.after->python_ident : c.before->python_ident);
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <vector>

#include "triage/cpython/python_stacks_report.hpp"

namespace triage::report {

struct stack_change {
    std::optional<cpython::thread_stack> before;  // nullopt: a new thread
    std::optional<cpython::thread_stack> after;   // nullopt: the thread is gone
};

struct stack_diff {
    std::vector<stack_change> changes;
    std::size_t same = 0;  // threads in both with the same frames
};

namespace detail::stack_diff {
[[nodiscard]] inline bool same_thread(const cpython::thread_stack& a, const cpython::thread_stack& b) {
    return a.tid && b.tid ? *a.tid == *b.tid : a.python_ident == b.python_ident;
}

[[nodiscard]] inline bool same_frames(const cpython::thread_stack& a, const cpython::thread_stack& b) {
    return std::ranges::equal(a.frames, b.frames, [](const cpython::python_frame& x, const cpython::python_frame& y) {
        return x.function == y.function && x.file == y.file && x.line == y.line;
    });
}
} // namespace detail::stack_diff

[[nodiscard]] inline stack_diff diff_stacks(const cpython::python_stacks_report& before, const cpython::python_stacks_report& after) {
    namespace d = detail::stack_diff;
    stack_diff out;
    for (const auto& t : after.threads) {
        auto was = std::ranges::find_if(before.threads, [&](const auto& b) { return d::same_thread(b, t); });
        if (was == before.threads.end()) out.changes.push_back({std::nullopt, t});
        else if (d::same_frames(*was, t)) ++out.same;
        else out.changes.push_back({*was, t});
    }
    for (const auto& t : before.threads) {
        if (std::ranges::none_of(after.threads, [&](const auto& a) { return d::same_thread(t, a); }))
            out.changes.push_back({t, std::nullopt});
    }
    return out;
}

} // namespace triage::report
