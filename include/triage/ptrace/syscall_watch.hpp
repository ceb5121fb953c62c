// triage/ptrace/syscall_watch.hpp — count the system calls of every thread
// of a process for a short window (an `strace -c -f` of a few hundred ms),
// so that "this thread makes no system calls" is a measured fact.
//
// Offers: `watch_syscalls(pid, window, options)` → `syscall_watch_result`:
// per thread {tid, name, total, syscalls (name → count), by_number,
// blocked_in, started, exited}, plus how long the target was stopped.
//
// How: a ptrace::session stops every thread; each gets
// PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE and is resumed with
// PTRACE_SYSCALL; every syscall-entry-stop is one call, named with
// PTRACE_GET_SYSCALL_INFO (Linux ≥ 5.3; older kernels: entry/exit alternate
// and the number is orig_rax). Signals a thread receives in the window are
// re-injected at once; a thread put in group-stop (SIGSTOP, SIGTSTP, ...)
// stays stopped (PTRACE_LISTEN); threads created in the window are
// followed (`started`), threads that exit keep their counts (`exited`). At
// the deadline every thread is interrupted and detached with any signal it
// had dequeued.
// A thread blocked in a system call when the window opens (futex, read,
// nanosleep...) is restarted by the kernel after our interrupt; that one
// restart is not counted but reported as `blocked_in` (its number), so an
// idle thread shows 0 calls, not 1.
//
// What it does to the target: stops it twice briefly (attach, end) and
// stops each thread at the entry and the exit of every system call it makes
// during the window (a syscall-heavy thread runs much slower while
// watched; a thread that makes no calls runs at full speed).
// `stopped()` = `attach_pause` (first interrupt → last thread resumed into
// the window) + `detach_pause` (first interrupt at the deadline → last
// detach) + `stops_in_window` (for every stop in the window, the time from
// our waitpid seeing it to our resuming it; summed over threads, so it can
// exceed the wall-clock window, and the few µs the kernel takes to tell us
// about each stop are not included: a lower bound of per-thread stop time).
// Errors: those of session::attach; interrupted (our process caught SIGINT &
// co. during the window: everything is released first). A call made through
// the 32-bit ABI (int 0x80) is counted under number -1 ("syscall_-1").
// Thread-safety: call from any thread; the whole watch runs on it. It blocks
// SIGCHLD on the calling thread during the window (tracee stops send SIGCHLD
// to the tracer; we wait for it with sigtimedwait, falling back to polling
// every ≤ 1 ms), then restores the mask and re-raises a SIGCHLD it took that
// was not about a tracee.
//
//   auto w = TRIAGE_TRY(triage::ptrace::watch_syscalls(pid, std::chrono::milliseconds{300}));
//   for (const auto& t : w.threads)
//       fmt::print("{} {} {} calls\n", t.tid, t.name, t.total);
//   fmt::print("target stopped {:.3f} ms\n", w.stopped().count() / 1e6);
#pragma once

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include "triage/ptrace/release_on_signal.hpp"
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
    std::chrono::nanoseconds window{0};             // resume of the last thread → deadline
    std::chrono::nanoseconds attach_pause{0};
    std::chrono::nanoseconds detach_pause{0};
    std::chrono::nanoseconds stops_in_window{0};
    std::uint64_t stops = 0;                        // stops handled in the window

    [[nodiscard]] std::chrono::nanoseconds stopped() const noexcept { return attach_pause + stops_in_window + detach_pause; }
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
struct session_access {
    static std::vector<tracee>& tracees(session& s) noexcept { return s.tracees_; }
    static std::vector<tracee>& awaiting(session& s) noexcept { return s.awaiting_; }
    static result<void> wait_for_stops(session& s, std::chrono::steady_clock::time_point deadline) {
        return s.wait_for_stops(deadline);
    }
    static std::chrono::steady_clock::time_point first_interrupt(const session& s) noexcept { return s.first_interrupt_; }
};

// Per thread state while watching.
struct watched_thread {
    tracee t;
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

inline void resume(const tracee& t, int signal) noexcept {
    t.slot->stopped.store(false);
    (void)::ptrace(PTRACE_SYSCALL, t.tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal)));
}

inline std::string thread_name(pid_t pid, pid_t tid) {
    auto n = procfs::read_comm(pid, tid);
    return n ? std::string{n->view()} : std::string{};
}
} // namespace detail

[[nodiscard]] inline result<syscall_watch_result> watch_syscalls(pid_t pid, std::chrono::milliseconds window,
                                                                 attach_options options = {}) {
    using clock = std::chrono::steady_clock;
    const int caught_before = caught_signal();
    session s = TRIAGE_TRY(session::attach(pid, options));
    auto& tracees = detail::session_access::tracees(s);

    std::map<pid_t, detail::watched_thread> watched;
    auto watch = [&](const detail::tracee& t, bool started) -> detail::watched_thread& {
        detail::watched_thread& w = watched[t.tid];
        w.t = t;
        w.counts.tid = t.tid;
        w.counts.started = started;
        return w;
    };
    constexpr long options_in_window = PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD;
    for (const detail::tracee& t : tracees) {
        detail::watched_thread& w = watch(t, false);
        (void)::ptrace(PTRACE_SETOPTIONS, t.tid, nullptr, reinterpret_cast<void*>(options_in_window));
        user_regs_struct regs{};
        if (::ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) == 0 &&
            detail::is_restart_code(static_cast<long long>(regs.rax)) && static_cast<long long>(regs.orig_rax) >= 0) {
            w.counts.blocked_in = static_cast<long>(regs.orig_rax);
            w.skip_restart = static_cast<long>(regs.orig_rax);
        }
    }

    syscall_watch_result out;
    out.pid = pid;
    for (const detail::tracee& t : tracees) detail::resume(t, t.slot->pending_signal.exchange(0));
    const clock::time_point window_start = clock::now();
    out.attach_pause = window_start - detail::session_access::first_interrupt(s);
    const clock::time_point deadline = window_start + window;
    for (auto& [tid, w] : watched) w.counts.name = detail::thread_name(pid, tid);

    // A new thread (clone event, or its own first stop seen first).
    auto adopt = [&](pid_t tid) -> detail::watched_thread& {
        auto it = watched.find(tid);
        if (it != watched.end()) return it->second;
        detail::tracee t{tid, &tracee_registry::claim(pid, tid)};
        tracees.push_back(t);
        detail::watched_thread& w = watch(t, true);
        return w;
    };
    auto forget = [&](detail::watched_thread& w) {
        w.running = false;
        w.counts.exited = true;
        tracee_registry::unclaim(*w.t.slot);
        std::erase_if(tracees, [&](const detail::tracee& t) { return t.tid == w.t.tid; });
    };
    std::size_t running = watched.size();
    // Handles one wait status of a watched thread and lets it run on.
    auto handle = [&](detail::watched_thread& w, int status) {
        const clock::time_point seen = clock::now();
        w.t.slot->stopped.store(true);
        detail::stop_report report = detail::classify(status);
        switch (report.kind) {
        case detail::stop_report::exited:
            forget(w);
            --running;
            return;
        case detail::stop_report::syscall_stop:
            if (auto nr = detail::syscall_entry(w)) detail::count_call(w, *nr);
            detail::resume(w.t, 0);
            break;
        case detail::stop_report::signal_stop: detail::resume(w.t, report.signal); break;
        case detail::stop_report::group_stop:
            // Stay in group-stop, as without us; PTRACE_LISTEN still reports.
            w.t.slot->stopped.store(false);
            (void)::ptrace(PTRACE_LISTEN, w.t.tid, nullptr, nullptr);
            break;
        case detail::stop_report::clone_event: {
            unsigned long child = 0;
            pid_t parent = w.t.tid;
            detail::tracee parent_tracee = w.t;
            if (::ptrace(PTRACE_GETEVENTMSG, parent, nullptr, &child) == 0 && child != 0 &&
                !watched.contains(static_cast<pid_t>(child))) {
                adopt(static_cast<pid_t>(child));  // std::map: `w` stays valid
                ++running;
            }
            detail::resume(parent_tracee, 0);
            break;
        }
        case detail::stop_report::event_stop:
        case detail::stop_report::other_event: detail::resume(w.t, 0); break;
        }
        ++out.stops;
        out.stops_in_window += clock::now() - seen;
    };
    auto find_running = [&](pid_t tid) -> detail::watched_thread* {
        auto it = watched.find(tid);
        if (it != watched.end()) return it->second.running ? &it->second : nullptr;
        // A thread of the target whose first stop came before its parent's
        // clone event.
        if (procfs::read_status(pid, tid)) {
            ++running;
            return &adopt(tid);
        }
        return nullptr;
    };

    auto is_tracee = [&](pid_t p) { return watched.contains(p) || procfs::read_status(pid, p).has_value(); };
    std::optional<detail::sigchld_waiter> sigchld{std::in_place};  // SIGCHLD wakes us when a tracee stops
    bool scan_each = false;  // a child of ours that is not a tracee has news: poll tracees one by one
    while (running > 0 && clock::now() < deadline && caught_signal() == caught_before) {
        bool progress = false;
        if (!scan_each) {
            for (int drained = 0; drained < 4096; ++drained) {
                siginfo_t info{};
                if (::waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL | __WNOTHREAD) != 0 ||
                    info.si_pid == 0)
                    break;
                detail::watched_thread* w = find_running(info.si_pid);
                if (w == nullptr) {
                    scan_each = true;
                    break;
                }
                int status = 0;
                if (::waitpid(w->t.tid, &status, __WALL | WNOHANG) <= 0) break;
                handle(*w, status);
                progress = true;
            }
        }
        if (scan_each) {
            for (auto& [tid, w] : watched) {
                if (!w.running) continue;
                int status = 0;
                if (::waitpid(tid, &status, __WALL | WNOHANG) > 0) {
                    handle(w, status);
                    progress = true;
                }
            }
        }
        if (progress) continue;
        auto remaining = deadline - clock::now();
        if (remaining <= clock::duration::zero()) break;
        sigchld->wait(std::min<std::chrono::nanoseconds>(remaining, std::chrono::milliseconds{1}), is_tracee);
    }
    out.window = clock::now() - window_start;
    sigchld.reset();

    // Stop everyone again and let go.
    const clock::time_point end_start = clock::now();
    auto& awaiting = detail::session_access::awaiting(s);
    for (auto& [tid, w] : watched) {
        if (!w.running) continue;
        (void)::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
        awaiting.push_back(w.t);
    }
    tracees.clear();
    auto stopped = detail::session_access::wait_for_stops(s, clock::now() + options.stop_timeout);
    for (const detail::tracee& t : tracees) {
        if (!watched.contains(t.tid)) adopt(t.tid);
    }
    // Threads that vanished while we stopped them exited in the window.
    for (auto& [tid, w] : watched) {
        if (w.running && std::none_of(tracees.begin(), tracees.end(), [&](const auto& t) { return t.tid == tid; }) &&
            std::none_of(awaiting.begin(), awaiting.end(), [&](const auto& t) { return t.tid == tid; })) {
            w.running = false;
            w.counts.exited = true;
        }
    }
    auto released = s.release();
    out.detach_pause = clock::now() - end_start;
    if (!stopped) return fail(std::move(stopped.error()));
    if (!released) return fail(std::move(released.error()));
    if (caught_signal() != caught_before)
        return fail(errc::interrupted, "watching the system calls of pid " + std::to_string(pid),
                    "our process caught signal " + std::to_string(caught_signal()) + "; the target was released");

    for (auto& [tid, w] : watched) {
        if (!w.counts.exited) w.counts.name = detail::thread_name(pid, tid);
        out.threads.push_back(std::move(w.counts));
    }
    return out;
}

} // namespace triage::ptrace
