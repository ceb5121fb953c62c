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
[[nodiscard]] inline std::string syscall_display_name(long nr) {
    std::string_view name = procfs::syscall_name(nr);
    return name.empty() ? "syscall_" + std::to_string(nr) : std::string{name};
}

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
[[nodiscard]] inline std::optional<long> syscall_entry(watched_thread& w) {
    __ptrace_syscall_info info{};
    long n = ::ptrace(PTRACE_GET_SYSCALL_INFO, w.t.tid, reinterpret_cast<void*>(sizeof info), &info);
    if (n > 0) {
        if (info.op != PTRACE_SYSCALL_INFO_ENTRY) return std::nullopt;
        if (info.arch != 0xc000003e /* AUDIT_ARCH_X86_64 */) return -1;
        return static_cast<long>(info.entry.nr);
    }
    // Older kernel: stops alternate entry/exit.
    w.in_syscall = !w.in_syscall;
    if (!w.in_syscall) return std::nullopt;
    errno = 0;
    long nr = ::ptrace(PTRACE_PEEKUSER, w.t.tid, reinterpret_cast<void*>(offsetof(user_regs_struct, orig_rax)), nullptr);
    if (errno != 0) return std::nullopt;
    return nr;
}

inline void count_call(watched_thread& w, long nr) {
    if (w.skip_restart && (nr == *w.skip_restart || nr == restart_syscall_number)) {
        w.skip_restart.reset();
        return;
    }
    w.skip_restart.reset();
    ++w.counts.total;
    ++w.counts.by_number[nr];
    ++w.counts.syscalls[syscall_display_name(nr)];
}

inline std::string thread_name(pid_t pid, pid_t tid) {
    auto n = procfs::read_comm(pid, tid);
    return n ? std::string{n->view()} : std::string{};
}

// When the window opened (every thread resumed) and closed (the deadline).
struct window_times {
    std::chrono::steady_clock::time_point opened{};
    std::chrono::steady_clock::time_point closed{};
};

// The window itself, run on the tracer thread by session::let_run: fills
// `watched` and `out` (window, stops, stops_in_window) and `times`.
inline void watch_window(session::run_control& run, std::chrono::milliseconds window, syscall_watch_result& out,
                         std::map<pid_t, watched_thread>& watched, window_times& times) {
    const pid_t pid = out.pid;
    using clock = std::chrono::steady_clock;
    auto watch = [&](const traced_thread& t, bool started) -> watched_thread& {
        watched_thread& w = watched[t.tid];
        w.t = t;
        w.counts.tid = t.tid;
        w.counts.started = started;
        return w;
    };
    constexpr long options_in_window = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD;
    for (const traced_thread& t : run.threads()) {
        watched_thread& w = watch(t, false);
        (void)::ptrace(PTRACE_SETOPTIONS, t.tid, nullptr, reinterpret_cast<void*>(options_in_window));
        user_regs_struct regs{};
        if (::ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) == 0 && is_restart_code(static_cast<long long>(regs.rax)) &&
            static_cast<long long>(regs.orig_rax) >= 0) {
            w.counts.blocked_in = static_cast<long>(regs.orig_rax);
            w.skip_restart = static_cast<long>(regs.orig_rax);
        }
    }
    run.resume_all(PTRACE_SYSCALL);
    times.opened = clock::now();
    const clock::time_point deadline = times.opened + window;
    for (auto& [tid, w] : watched) w.counts.name = thread_name(pid, tid);  // kept if it exits in the window

    std::size_t running = watched.size();
    auto gone = [&](watched_thread& w) {
        if (!w.running) return;
        w.running = false;
        w.counts.exited = true;
        --running;
        run.exited(w.t.tid);
    };
    // Handles one wait status of a thread of the session and lets it run on.
    auto handle = [&](pid_t tid, int status) {
        const clock::time_point seen = clock::now();
        auto it = watched.find(tid);
        if (it == watched.end()) {  // a new thread whose first stop came before its parent's clone event
            it = watched.find(watch(run.adopt(tid), true).t.tid);
            ++running;
        }
        watched_thread& w = it->second;
        run.stopped(w.t);
        stop_report report = classify(status);
        unsigned long message = 0;
        switch (report.kind) {
        case stop_report::exited: gone(w); return;
        case stop_report::syscall_stop:
            if (auto nr = syscall_entry(w)) count_call(w, *nr);
            run.resume(w.t, PTRACE_SYSCALL);
            break;
        case stop_report::signal_stop: run.resume(w.t, PTRACE_SYSCALL, report.signal); break;
        case stop_report::group_stop:
            // Stay in group-stop, as without us; PTRACE_LISTEN still reports.
            run.resume(w.t, PTRACE_LISTEN);
            break;
        case stop_report::clone_event:
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && message != 0 &&
                !watched.contains(static_cast<pid_t>(message))) {
                watch(run.adopt(static_cast<pid_t>(message)), true);  // std::map: `w` stays valid
                ++running;
            }
            run.resume(w.t, PTRACE_SYSCALL);
            break;
        case stop_report::exec_event:
            // The exec'ing thread now has the leader's tid; its own is gone.
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && static_cast<pid_t>(message) != tid) {
                if (auto former = watched.find(static_cast<pid_t>(message)); former != watched.end()) gone(former->second);
                else run.exited(static_cast<pid_t>(message));
            }
            run.resume(w.t, PTRACE_SYSCALL);
            break;
        case stop_report::event_stop:
        case stop_report::other_event: run.resume(w.t, PTRACE_SYSCALL); break;
        }
        ++out.stops;
        out.stops_in_window += clock::now() - seen;
    };

    auto is_tracee = [&](pid_t p) { return watched.contains(p); };
    sigchld_waiter sigchld;  // SIGCHLD wakes us when a tracee stops
    while (running > 0 && clock::now() < deadline && !run.signalled()) {
        bool progress = false;
        int status = 0;
        for (int drained = 0; drained < 4096; ++drained) {
            const pid_t tid = next_report(status);
            if (tid == 0) break;
            handle(tid, status);
            progress = true;
        }
        if (progress) continue;
        auto remaining = deadline - clock::now();
        if (remaining <= clock::duration::zero()) break;
        sigchld.wait(std::min<std::chrono::nanoseconds>(remaining, std::chrono::milliseconds{1}), is_tracee);
    }
    times.closed = clock::now();
    out.window = times.closed - times.opened;
}
} // namespace detail

[[nodiscard]] inline result<syscall_watch_result> watch_syscalls(session& s, std::chrono::milliseconds window) {
    using clock = std::chrono::steady_clock;
    const clock::time_point called = clock::now();
    syscall_watch_result out;
    out.pid = s.pid();
    std::map<pid_t, detail::watched_thread> watched;
    detail::window_times times;
    TRIAGE_TRY(s.let_run([&](session::run_control& run) { detail::watch_window(run, window, out, watched, times); }));
    out.attach_pause = times.opened - called;
    out.detach_pause = clock::now() - times.closed;
    // Everything is stopped again: names as at the end of the window.
    for (auto& [tid, w] : watched) {
        if (!w.counts.exited) w.counts.name = detail::thread_name(out.pid, tid);
        out.threads.push_back(std::move(w.counts));
    }
    return out;
}

[[nodiscard]] inline result<syscall_watch_result> watch_syscalls(pid_t pid, std::chrono::milliseconds window,
                                                                 attach_options options = {}) {
    session s = TRIAGE_TRY(session::attach(pid, options));
    const auto stopped_at_attach = s.stopped_for();
    auto out = watch_syscalls(s, window);
    const auto release_started = std::chrono::steady_clock::now();
    auto released = s.release();
    if (!out) return out;
    out->attach_pause += stopped_at_attach;
    out->detach_pause += std::chrono::steady_clock::now() - release_started;
    if (!released) return fail(std::move(released.error()));
    return out;
}

} // namespace triage::ptrace
