// triage/report/top_report.hpp — which threads of a process are hot and
// what each is doing: the investigation triage-top runs, in one call.
//
// Offers: `top(pid, options)` → `top_report`: CPU% of every thread over
// `interval` (procfs/cpu_sample.hpp), hottest first, each with what it is
// doing right after (user space, or the system call it is blocked in and
// where in the kernel it sleeps), its tid inside the process's PID
// namespace when that is another one, and, with `syscalls` > 0, the system
// calls each thread then makes in that window (ptrace/syscall_watch.hpp).
// `command` is the command line, or "[comm]" for a kernel thread.
// Errors: those of sample_cpu (no_such_process, permission_denied), of
// read_activities (permission_denied for syscall/wchan) and of
// watch_syscalls (already_traced, permission_denied, interrupted).
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only;
// with `syscalls`, stops each thread at every system call it makes in that
// window (`stopped_for` says how long in total).
//
//   auto r = TRIAGE_TRY(triage::report::top(pid, {.interval = std::chrono::milliseconds{500}}));
//   for (const auto& t : r.threads) fmt::print("{} {:.1f}%\n", t.tid, t.cpu_percent.value_or(0));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/ns_tids.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/ptrace/syscall_watch.hpp"
#include "triage/report/thread_report.hpp"

namespace triage::report {

struct top_options {
    std::chrono::milliseconds interval{1000};  // the CPU window
    std::chrono::milliseconds syscalls{0};     // then count system calls this long (0: do not attach)
};

struct top_report {
    pid_t pid = 0;
    std::string command;
    std::chrono::nanoseconds interval{0};      // as asked
    double total_cpu_percent = 0;              // the process: can exceed 100
    std::vector<thread_report> threads;        // hottest first
    // With syscalls: the watched window, how many calls, and how long the
    // target was stopped in total.
    std::optional<std::chrono::nanoseconds> syscall_window;
    std::uint64_t syscall_total = 0;
    std::optional<std::chrono::nanoseconds> stopped_for;
};

[[nodiscard]] TRIAGE_DECL result<top_report> top(pid_t pid, const top_options& options = {});

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/top_report.ipp"
#endif
