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

#include "triage/base/config.hpp"
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
[[nodiscard]] TRIAGE_DECL bool same_thread(const cpython::thread_stack& a, const cpython::thread_stack& b);

[[nodiscard]] TRIAGE_DECL bool same_frames(const cpython::thread_stack& a, const cpython::thread_stack& b);
} // namespace detail::stack_diff

[[nodiscard]] TRIAGE_DECL stack_diff diff_stacks(const cpython::python_stacks_report& before, const cpython::python_stacks_report& after);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/stack_diff.ipp"
#endif
