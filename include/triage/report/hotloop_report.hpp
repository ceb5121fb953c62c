// triage/report/hotloop_report.hpp — the whole investigation of a spinning
// process in one call (what triage-hotloop runs): which threads are hot,
// whether they wait in the kernel or make system calls, where each is in
// Python and whether it holds the GIL, whether it goes round a loop, which
// of the files it runs changed on disk, and optionally a core of the scene.
//
// Offers: `hotloop(pid, options)` → `hotloop_report`. In order:
//  1. the CPU window (`window`, procfs/cpu_sample.hpp) opens; each thread's
//     context switches are read (/proc/PID/task/TID/status);
//  2. while it runs, nothing stopped: the mapped code is compared with the
//     disk (changed_files.hpp), the core is planned and its room reserved
//     (with `core`), the Python process is opened and every thread's stack
//     is sampled `samples` times, spread over the window, without stopping
//     it (cpython::consistent_snapshot);
//  3. the window closes: CPU% per thread, what each is doing (user space or
//     which system call), context switches in the window; threads at or
//     above `hot_percent` are hot;
//  4. one stop (one_stop.hpp): the Python stacks of every thread, the core
//     copy with the hottest thread first, and with `syscalls` > 0 a
//     system-call count on the held session (a second stop ends it);
//     released; the core is written.
// Each hot thread's loop evidence (loop_evidence.hpp) comes from its
// samples and the stack read while stopped, matched by thread identity.
// A process that is not Python is investigated all the same: no stacks,
// and `python_failure` says why.
// Errors: those of sample_cpu and read_activities (no_such_process,
// permission_denied), plan_dump's (an output path refused, no_space) and
// read_in_one_stop's (attach, core copy and write, the system-call window).
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc and its
// memory; stopped once (`stops`, `stopped_for`: about a millisecond for 26
// threads without a core; the core copy adds its time), twice with
// `syscalls`; nothing is written to it.
//
//   auto r = TRIAGE_TRY(triage::report::hotloop(pid, {.window = std::chrono::milliseconds{250}}));
//   for (const auto& h : r.hot) fmt::print("{} {:.1f}%\n", h.row.tid, h.row.cpu_percent.value_or(0));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/error.hpp"
#include "triage/base/result.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/report/changed_files.hpp"
#include "triage/report/loop_evidence.hpp"
#include "triage/report/thread_report.hpp"

namespace triage::report {

struct hotloop_options {
    std::chrono::milliseconds window{250};  // the CPU window; the stack samples are spread over it
    double hot_percent = 50;                // a thread using at least this share of one core is hot
    std::size_t samples = 20;               // Python stack samples in the window, read without stopping (0: none)
    std::chrono::milliseconds syscalls{0};  // count system calls this long on the held session (0: no; adds a stop)
    std::optional<std::string> core;        // write a core file here, from the same stop
    coredump::dump_options dump{};          // how (replace, filter, cancel flag)
};

struct hot_thread {
    thread_report row;                                // CPU%, activity after the window, syscalls, Python stack
    std::optional<std::uint64_t> voluntary_switches;  // in the window: each one a wait in the kernel
    std::optional<std::uint64_t> involuntary_switches;
    loop_evidence loop;                               // its stack samples, then the stack read while stopped
};

struct hotloop_report {
    pid_t pid = 0;
    std::string command;
    std::string executable;                // /proc/PID/exe, " (deleted)" when replaced on disk
    std::string python_version;            // "" when no stacks were read
    std::optional<error> python_failure;   // why there are no Python stacks
    std::chrono::nanoseconds window{0};
    double hot_percent = 0;
    double total_cpu_percent = 0;          // the process: can exceed 100
    std::size_t threads = 0;
    std::size_t samples = 0;               // stack samples taken in the window
    std::vector<hot_thread> hot;           // hottest first
    std::optional<hot_thread> busiest;     // when no thread is hot: the busiest, investigated the same way
    changed_files_report files;
    std::optional<error> files_failure;    // the mappings could not be read
    unsigned stops = 0;
    std::chrono::nanoseconds stopped_for{0};
    std::optional<std::chrono::nanoseconds> syscall_window;
    std::optional<coredump::dump_report> core;
    std::chrono::nanoseconds elapsed{0};   // the whole investigation, core included
};

[[nodiscard]] TRIAGE_DECL result<hotloop_report> hotloop(pid_t pid, const hotloop_options& options = {});

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/hotloop_report.ipp"
#endif
