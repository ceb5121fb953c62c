// triage/report/one_stop.hpp — one ptrace stop of a process serving every
// reader that needs it: the Python stacks, the copy of a core, and
// optionally a system-call window; then the release, then the core file.
//
// Offers: `read_in_one_stop(pid, python, plan, options)` →
// `one_stop_result`. It attaches a ptrace::session (every thread stopped),
// reads the Python stacks with the held session when `python` is given
// (cpython::python_stacks(live_python&, session&): CPU%, names and states
// from `options.cpu`, measured by the caller before the stop), copies the
// core planned in `plan` when given (coredump::copy_dump, `first_tid`
// first), then, with `options.syscalls` > 0, lets the target run under
// ptrace::watch_syscalls for that long (a second stop ends that window);
// releases the session and writes the core (coredump::write_dump) while
// the target runs again.
// Open the Python process (cpython::open_live_python) and plan the core
// (coredump::plan_dump, reserve_copy) before calling: the stop then lasts
// only for the reads.
// Errors: session::attach's (no_such_process, permission_denied,
// already_traced, interrupted), copy_dump's and write_dump's (no_space,
// interrupted, no_such_process), watch_syscalls' (interrupted). A Python
// walk that fails is not an error: `python_failure` says why.
// Thread-safe: one call per process at a time. Signal-safe: no.
// Target process: stopped once, from the first interrupt to the release
// (`stopped_for`, `stops` = 1), for the snapshot and the core copy (a core
// copy of a large process is the long part); with `syscalls`, the window
// lets it run and adds one stop. Released on every exit path (also on
// SIGINT, SIGTERM: ptrace/session.hpp).
//
//   auto py = TRIAGE_TRY(triage::cpython::open_live_python(pid));
//   auto plan = TRIAGE_TRY(triage::coredump::plan_dump(pid, "core." + std::to_string(pid)));
//   triage::coredump::reserve_copy(plan);
//   auto r = TRIAGE_TRY(triage::report::read_in_one_stop(pid, &py, std::move(plan), {.first_tid = hot_tid}));
//   fmt::print("stopped {} times, {} us\n", r.stops, r.stopped_for.count() / 1000);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <span>
#include <utility>

#include "triage/base/config.hpp"
#include "triage/base/error.hpp"
#include "triage/base/result.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/cpython/python_stacks_report.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/ptrace/syscall_watch.hpp"

namespace triage::cpython {
struct live_python;  // live_python.hpp
} // namespace triage::cpython

namespace triage::report {

struct one_stop_options {
    std::span<const procfs::thread_cpu> cpu{};  // measured before the stop: CPU%, names, states
    std::optional<pid_t> first_tid;             // the thread the core opens on (default: the main thread)
    std::chrono::milliseconds syscalls{0};      // after the reads, count system calls this long (0: no)
};

struct one_stop_result {
    std::optional<cpython::python_stacks_report> stacks;  // with a live_python whose walk succeeded
    std::optional<error> python_failure;                  // with a live_python whose walk failed
    std::optional<ptrace::syscall_watch_result> syscalls; // with options.syscalls
    std::optional<coredump::dump_report> core;            // with a plan
    unsigned stops = 0;                                   // 1, or 2 with a system-call window
    std::chrono::nanoseconds stopped_for{0};              // summed over the stops
};

[[nodiscard]] TRIAGE_DECL result<one_stop_result> read_in_one_stop(pid_t pid, cpython::live_python* python,
                                                                    std::optional<coredump::dump_plan> plan,
                                                                    const one_stop_options& options = {});

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/one_stop.ipp"
#endif
