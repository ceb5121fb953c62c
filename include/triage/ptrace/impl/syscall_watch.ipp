// triage/ptrace/impl/syscall_watch.ipp — the definitions of
// triage/ptrace/syscall_watch.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/ptrace/syscall_watch.hpp"

namespace triage::ptrace {

[[nodiscard]] TRIAGE_DECL std::string syscall_display_name(long nr) {
    std::string_view name = procfs::syscall_name(nr);
    return name.empty() ? "syscall_" + std::to_string(nr) : std::string{name};
}

} // namespace triage::ptrace

namespace triage::ptrace::detail {

[[nodiscard]] TRIAGE_DECL std::optional<long> syscall_entry(watched_thread& w) {
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

TRIAGE_DECL void count_call(watched_thread& w, long nr) {
    if (w.skip_restart && (nr == *w.skip_restart || nr == restart_syscall_number)) {
        w.skip_restart.reset();
        return;
    }
    w.skip_restart.reset();
    ++w.counts.total;
    ++w.counts.by_number[nr];
    ++w.counts.syscalls[syscall_display_name(nr)];
}

TRIAGE_DECL std::string thread_name(pid_t pid, pid_t tid) {
    auto n = procfs::read_comm(pid, tid);
    return n ? std::string{n->view()} : std::string{};
}

TRIAGE_DECL void watch_window(session::run_control& run, std::chrono::milliseconds window, syscall_watch_result& out,
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

} // namespace triage::ptrace::detail

namespace triage::ptrace {

[[nodiscard]] TRIAGE_DECL result<syscall_watch_result> watch_syscalls(session& s, std::chrono::milliseconds window) {
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

[[nodiscard]] TRIAGE_DECL result<syscall_watch_result> watch_syscalls(pid_t pid, std::chrono::milliseconds window,
                                                                      attach_options options) {
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
