// triage/ptrace/syscall_watch.hpp — count the system calls of every thread
// of a process for a short window (an `strace -c -f` of a few hundred ms),
// so that "this thread makes no system calls" is a measured fact.
//
// Offers: `watch_syscalls(session, window)` runs the window on a session the
// caller holds (one stop, many readers: read registers or memory before and
// after, from the same session, then release it), and
// `watch_syscalls(pid, window, options)` attaches its own session for it.
// Both return `syscall_watch_result`: per thread {tid, name, total, syscalls
// (name → count), by_number, blocked_in, started, exited}, plus how long the
// target was stopped (`stopped_for()`).
//
// How: on the session's tracer thread (session::let_run), each thread gets
// PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC and is
// resumed with PTRACE_SYSCALL; every syscall-entry-stop is one call, named
// with PTRACE_GET_SYSCALL_INFO (Linux ≥ 5.3; older kernels: entry/exit
// alternate and the number is orig_rax). Signals a thread receives in the
// window are re-injected at once; a thread put in group-stop (SIGSTOP,
// SIGTSTP, ...) stays stopped (PTRACE_LISTEN), and so does one that was in
// group-stop when the window opened; threads created in the window are
// followed (`started`) and join the session; threads that exit keep their
// counts (`exited`); a thread that execs takes the leader's tid (its former
// tid is reported exited). At the deadline every thread is interrupted and
// the session holds them all stopped again (the borrowing overload returns
// with the session held; the other releases it).
// A thread blocked in a system call when the window opens (futex, read,
// nanosleep...) is restarted by the kernel after our interrupt; that one
// restart is not counted but reported as `blocked_in` (its number), so an
// idle thread shows 0 calls, not 1.
//
// What it does to the target: the window lets it run (the session's
// `stops()` grows by one: the stop at the end), and stops each thread at
// the entry and the exit of every system call it makes during the window
// (a syscall-heavy thread runs much slower while watched; a thread that
// makes no calls runs at full speed).
// `stopped_for()` = `attach_pause` (the target stopped before the window:
// for the borrowing overload, from the call to the last thread resumed; for
// the other, from the first interrupt) + `detach_pause` (the deadline → every
// thread stopped again; plus the release for the other overload) +
// `stops_in_window` (for every stop in the window, the time from our
// waitpid seeing it to our resuming it; summed over threads, so it can
// exceed the wall-clock window, and the few µs the kernel takes to tell us
// about each stop are not included: a lower bound of per-thread stop time).
// Errors: those of session::attach; invalid_argument (a released session);
// interrupted (our process caught SIGINT & co. during the window, or a
// thread could not be stopped again within the attach budget: everything
// is released first, and the session with it). A call made through the
// 32-bit ABI (int 0x80) is counted under number -1 ("syscall_-1").
// Thread-safety: call from any thread (the window runs on the session's
// tracer thread), one call per session at a time.
//
//   auto s = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto w = TRIAGE_TRY(triage::ptrace::watch_syscalls(s, std::chrono::milliseconds{300}));
//   for (const auto& t : w.threads)
//       fmt::print("{} {} {} calls\n", t.tid, t.name, t.total);
//   auto regs = TRIAGE_TRY(s.registers(pid));  // the same session, stopped again
//   fmt::print("target stopped {:.3f} ms\n", s.stopped_for().count() / 1e6);
#pragma once

#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/comm.hpp"
#include "triage/procfs/syscall_names.hpp"
#include "triage/ptrace/session.hpp"

namespace triage::ptrace {

struct thread_syscalls {
    pid_t tid = 0;
    std::string name;                                        // comm, as at the end (or when last seen)
    std::uint64_t total = 0;                                 // system calls entered in the window
    std::map<std::string, std::uint64_t, std::less<>> syscalls;  // name → count ("syscall_N" if unnamed)
    std::map<long, std::uint64_t> by_number;                 // number → count
    std::optional<long> blocked_in;                          // in this call when the window opened
    bool started = false;                                    // created during the window
    bool exited = false;                                     // exited during the window
};

struct syscall_watch_result {
    pid_t pid = 0;
    std::vector<thread_syscalls> threads;           // sorted by tid
    std::chrono::nanoseconds window{0};             // resume of every thread → deadline
    std::chrono::nanoseconds attach_pause{0};
    std::chrono::nanoseconds detach_pause{0};
    std::chrono::nanoseconds stops_in_window{0};
    std::uint64_t stops = 0;                        // stops handled in the window

    [[nodiscard]] std::chrono::nanoseconds stopped_for() const noexcept { return attach_pause + stops_in_window + detach_pause; }
    [[nodiscard]] std::uint64_t total() const noexcept {
        std::uint64_t sum = 0;
        for (const auto& t : threads) sum += t.total;
        return sum;
    }
};

// The name of x86-64 system call `nr`, or "syscall_<nr>" when the table has
// none.
[[nodiscard]] TRIAGE_DECL std::string syscall_display_name(long nr);

namespace detail {
// Per thread state while watching.
struct watched_thread {
    traced_thread t;
    thread_syscalls counts;
    std::optional<long> skip_restart;  // the restart of `blocked_in` is not a new call
    bool in_syscall = false;           // for kernels without PTRACE_GET_SYSCALL_INFO
    bool running = true;
};

// -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK:
// what rax holds in a thread interrupted inside a system call.
[[nodiscard]] constexpr bool is_restart_code(long long rax) noexcept {
    return rax == -512 || rax == -513 || rax == -514 || rax == -516;
}

inline constexpr long restart_syscall_number = 219;

// Which system call a syscall-entry-stop is; nullopt for an exit stop.
[[nodiscard]] TRIAGE_DECL std::optional<long> syscall_entry(watched_thread& w);

TRIAGE_DECL void count_call(watched_thread& w, long nr);

TRIAGE_DECL std::string thread_name(pid_t pid, pid_t tid);

// When the window opened (every thread resumed) and closed (the deadline).
struct window_times {
    std::chrono::steady_clock::time_point opened{};
    std::chrono::steady_clock::time_point closed{};
};

// The window itself, run on the tracer thread by session::let_run: fills
// `watched` and `out` (window, stops, stops_in_window) and `times`.
TRIAGE_DECL void watch_window(session::run_control& run, std::chrono::milliseconds window, syscall_watch_result& out,
                              std::map<pid_t, watched_thread>& watched, window_times& times);
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<syscall_watch_result> watch_syscalls(session& s, std::chrono::milliseconds window);

[[nodiscard]] TRIAGE_DECL result<syscall_watch_result> watch_syscalls(pid_t pid, std::chrono::milliseconds window,
                                                                      attach_options options = {});

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/syscall_watch.ipp"
#endif
