// triage/report/thread_report.hpp — everything known about each thread of
// a process, joined by tid: /proc (stat, CPU%, what it is doing), the
// system calls it made in a watched window, its Python stack.
//
// Offers: `thread_report` (tid, ns_tid, stat, cpu_percent, and optional
// activity, syscalls, python) and the join, in stages a tool picks from:
//  - `thread_reports(cpu)`: one row per thread of a CPU measurement
//    (procfs/cpu_sample.hpp), hottest first;
//  - `read_activities(dir, rows)`: what each thread is doing now (user
//    space, or which system call and where in the kernel it sleeps); rows
//    of threads that exited since are dropped;
//  - `join_ns_tids(rows, ids)`: each thread's tid inside the process's PID
//    namespace, when that is another one (procfs/ns_tids.hpp);
//  - `join_syscalls(rows, watch)`: counts from ptrace/syscall_watch.hpp;
//  - `join_python(rows, stacks)`: stacks from cpython/python_stacks.hpp.
// A join leaves a row's field empty when the other side has no such tid
// (a thread born or gone between the measurements), and ignores the other
// side's threads that have no row (or, for Python, no known tid).
// Errors: read_activities returns the first error that is not a thread
// exiting (permission_denied: syscall and wchan need ptrace access).
// Thread-safe: yes (distinct rows). Signal-safe: no. Target process:
// read_activities reads /proc only; the joins touch nothing.
//
//   auto rows = triage::report::thread_reports(procfs::cpu_usage(before, after));
//   TRIAGE_TRY(triage::report::read_activities(dir, rows));
//   triage::report::join_python(rows, TRIAGE_TRY(triage::cpython::python_stacks(pid)));
//   for (const auto& r : rows) fmt::print("{} {:.1f}%\n", r.tid, r.cpu_percent.value_or(0));
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/python_stacks_report.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/hottest.hpp"
#include "triage/procfs/ns_tids.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/ptrace/syscall_watch.hpp"

namespace triage::report {

struct thread_report {
    pid_t tid = 0;
    std::optional<pid_t> ns_tid;                      // inside the process's PID namespace, when another
    procfs::task_stat stat;                           // as the CPU window ended (name: stat.comm)
    std::optional<double> cpu_percent;                // of one core, 0–100; nullopt: no baseline
    std::optional<procfs::thread_activity> activity;  // read after the window
    std::optional<ptrace::thread_syscalls> syscalls;  // made in a watched window
    std::optional<cpython::thread_stack> python;      // its Python stack
};

[[nodiscard]] TRIAGE_DECL std::vector<thread_report> thread_reports(std::span<const procfs::thread_cpu> cpu);

[[nodiscard]] TRIAGE_DECL result<void> read_activities(const procfs::proc_dir& dir, std::vector<thread_report>& rows);

namespace detail {
template <class Other, class Tid, class Assign>
void join_by_tid(std::vector<thread_report>& rows, std::span<const Other> others, Tid tid_of, Assign assign) {
    for (auto& row : rows) {
        auto it = std::ranges::find_if(others, [&](const Other& o) { return tid_of(o) == row.tid; });
        if (it != others.end()) assign(row, *it);
    }
}
} // namespace detail

TRIAGE_DECL void join_ns_tids(std::vector<thread_report>& rows, const procfs::ns_tid_map& ids);

TRIAGE_DECL void join_syscalls(std::vector<thread_report>& rows, const ptrace::syscall_watch_result& watch);

TRIAGE_DECL void join_python(std::vector<thread_report>& rows, const cpython::python_stacks_report& stacks);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/thread_report.ipp"
#endif
