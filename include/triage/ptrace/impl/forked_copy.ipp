// triage/ptrace/impl/forked_copy.ipp — the definitions of
// triage/ptrace/forked_copy.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <cerrno>
#include <optional>
#include <string>

#include "triage/procfs/status.hpp"
#include "triage/ptrace/forked_copy.hpp"
#include "triage/ptrace/reap_guardian.hpp"
#include "triage/ptrace/syscall_injection.hpp"

namespace triage::ptrace::detail {

// The held thread to run an injected call in: one in a plain ptrace-stop
// (not group-stop, no signal to deliver), preferably outside a system call.
[[nodiscard]] TRIAGE_DECL const traced_thread* injection_thread(const session_core& core) {
    const traced_thread* chosen = nullptr;
    for (const traced_thread& t : core.held) {
        if (!t.slot->stopped.load() || t.slot->group_stop.load() || t.slot->pending_signal.load() != 0) continue;
        user_regs_struct regs{};
        if (::ptrace(PTRACE_GETREGS, t.tid, nullptr, &regs) != 0) continue;
        if (chosen == nullptr) chosen = &t;
        if (static_cast<long long>(regs.orig_rax) < 0) return &t;
    }
    return chosen;
}

// Runs `call` in a thread of the process `core` holds, on its tracer thread.
[[nodiscard]] TRIAGE_DECL result<injected_syscall> run_in_target(session_core& core, const syscall_request& call,
                                                                 const injection_site& site, pid_t* ran_in = nullptr) {
    std::optional<result<injected_syscall>> out;
    core.tracer.run([&] {
        const traced_thread* t = injection_thread(core);
        if (t == nullptr) {
            out = fail(errc::unsupported, "running a system call in " + describe_process(core.pid),
                       "every thread is in group-stop or has a signal to deliver");
            return;
        }
        if (ran_in != nullptr) *ran_in = t->tid;
        out = inject_syscall(t->tid, call, site, session_ptrace_options);
    });
    return std::move(*out);
}

// Has the target reap its zombie child `child` (exit signal 0; its pid as
// the target sees it, in its own PID namespace) in a stop of `core`.
[[nodiscard]] TRIAGE_DECL result<void> reap_in_target(session_core& core, pid_t child, const injection_site& site) {
    const std::string context = "reaping the copy (pid " + std::to_string(child) + " in its namespace) in " + describe_process(core.pid);
    syscall_request wait4{SYS_wait4, {static_cast<std::uint64_t>(child), 0, static_cast<std::uint64_t>(__WALL | WNOHANG), 0, 0, 0}};
    auto call = run_in_target(core, wait4, site);
    if (!call) return fail(std::move(call.error()).within(context));
    if (call->result == child || call->result == -ECHILD) return {};
    if (call->result < 0) return fail_errno(static_cast<int>(-call->result), context + ": wait4 in the target");
    return fail(errc::inconsistent, context, "wait4 in the target returned " + std::to_string(call->result));
}

} // namespace triage::ptrace::detail

namespace triage::ptrace {

[[nodiscard]] TRIAGE_DECL result<forked_copy> fork_copy(const session& s, const fork_options& options) {
    const pid_t pid = s.pid();
    const std::string context = "making a copy-on-write fork of " + detail::describe_process(pid);
    if (!s.held()) return fail(errc::invalid_argument, context, "the session must hold the process stopped");
    detail::session_core& core = *s.core_;
    auto status = procfs::read_status(core.dir);
    if (!status) return fail(std::move(status.error()).within(context));
    if (status->seccomp != 0)
        return fail(errc::unsupported, context,
                    "it runs under seccomp (mode " + std::to_string(status->seccomp) +
                        "), whose filter may kill it for a clone() it does not allow");
    auto site = find_injection_site(pid);
    if (!site) return fail(std::move(site.error()).within(context));

    forked_copy copy;
    copy.target_ = pid;
    copy.options_ = options;
    copy.site_ = *site;
    if (options.guardian != nullptr) options.guardian->expect_fork(pid);
    const auto began = std::chrono::steady_clock::now();
    // Exit signal 0 (the low byte of the flags): see the header.
    syscall_request clone{SYS_clone, {static_cast<std::uint64_t>(CLONE_FILES | CLONE_FS), 0, 0, 0, 0, 0}};
    auto call = detail::run_in_target(core, clone, *site, &copy.forked_by_);
    copy.fork_time_ = std::chrono::steady_clock::now() - began;
    if (!call) return fail(std::move(call.error()).within(context));
    if (call->result < 0) {
        const int e = static_cast<int>(-call->result);
        error failure = error::from_errno(e, context + ": clone() in thread " + std::to_string(copy.forked_by_));
        if (e == EAGAIN) failure.hint = "it may not make another process: RLIMIT_NPROC, or pids.max of its cgroup";
        return fail(std::move(failure));
    }
    // The clone's return is the copy's pid in the target's PID namespace;
    // the event message, its pid in ours (they differ in a container).
    if (!call->new_process)
        return fail(errc::inconsistent, context, "the kernel did not report the copy (pid " + std::to_string(call->result) +
                                                     " in the target's namespace) to us");
    const pid_t child = *call->new_process;
    copy.pid_in_target_ = static_cast<pid_t>(call->result);
    core.tracer.run([&] { core.forks.push_back(child); });
    copy.pid_ = child;
    copy.core_ = s.core_;
    if (!call->new_process_held)  // the copy's destructor has the target reap what is left
        return fail(errc::no_such_process, context, "the copy died as it was born");
    if (options.guardian != nullptr) options.guardian->watch(pid, child, copy.pid_in_target_);
    return copy;
}

TRIAGE_DECL result<void> forked_copy::dispose() {
    if (!core_) return {};
    std::shared_ptr<detail::session_core> core = std::move(core_);
    core_.reset();
    core->tracer.run([&] {
        ::kill(pid_, SIGKILL);
        for (;;) {
            int st = 0;
            const pid_t r = ::waitpid(pid_, &st, __WALL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0 || !WIFSTOPPED(st)) break;
        }
        std::erase(core->forks, pid_);
    });
    result<void> out;
    if (!core->released && !core->signal_arrived()) {
        out = detail::reap_in_target(*core, pid_in_target_, site_);
    } else {
        if (core.use_count() == 1 || core->released) core->tracer.end();
        auto stopped = reap_dead_copy(target_, pid_in_target_, options_.cleanup_stop_timeout);
        if (stopped) cleanup_stopped_for_ = *stopped;
        else out = fail(std::move(stopped.error()));
    }
    if (options_.guardian != nullptr) options_.guardian->done();
    if (!out)
        return fail(std::move(out.error()).within("it stays a zombie child (no memory, one pid) of pid " + std::to_string(target_) +
                                                  " until that exits"));
    return out;
}

[[nodiscard]] TRIAGE_DECL result<std::chrono::nanoseconds> reap_dead_copy(pid_t target, pid_t copy,
                                                                         std::chrono::milliseconds stop_timeout) {
    const std::string context = "reaping the copy of " + detail::describe_process(target);
    auto site = find_injection_site(target);  // before the stop
    if (!site) {
        if (site.error().code == errc::no_such_process) return std::chrono::nanoseconds{0};
        return fail(std::move(site.error()).within(context));
    }
    attach_options again;
    again.stop_timeout = stop_timeout;
    auto s = session::attach(target, again);
    if (!s) {
        if (s.error().code == errc::no_such_process) return std::chrono::nanoseconds{0};
        return fail(std::move(s.error()).within(context));
    }
    auto reaped = detail::reap_in_target(*s->core_, copy, *site);
    auto released = s->release();
    if (!reaped) return fail(std::move(reaped.error()));
    if (!released) return fail(std::move(released.error()));
    return s->stopped_for();
}

} // namespace triage::ptrace
