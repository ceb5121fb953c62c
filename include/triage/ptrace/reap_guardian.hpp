// triage/ptrace/reap_guardian.hpp — a small process of ours that outlives
// us to reap a forked_copy left behind if we are killed.
//
// Why: a forked_copy (ptrace/forked_copy.hpp) is a child of the target
// with exit signal 0. If our process dies by SIGKILL while the copy lives,
// the kernel kills the copy (PTRACE_O_EXITKILL) and it stays a zombie child
// of the target, which never reaps it (its waits do not see such a child)
// and nobody else may. The same holds for a copy made while we die in the
// clone() itself: nobody holds it, it exits at once (ptrace/
// syscall_injection.hpp) and stays a zombie. The guardian is forked before
// the target is stopped and blocks on a pipe; fork_copy() tells it that a
// fork of the target is under way (`expect_fork`), then the pair (target,
// copy) (`watch`); dispose() tells it the copy was reaped and waits for it
// to exit. When the pipe closes without that word, our process died: the
// guardian waits (at most 2 s) for the copy to become a zombie (if no copy
// was named: each child of the target with exit signal 0 born since the
// fork was announced, which only a clone() like ours makes), stops the
// target for about a millisecond with a ptrace::session of its own, has
// one of its threads reap the copy (wait4, as dispose() does), releases
// it and exits.
// It ignores SIGINT, SIGTERM, SIGHUP and SIGQUIT (a Ctrl-C meant for the
// tool, which cleans up itself, must not end it first), closes every other
// descriptor, and is reaped by its new parent (init or a subreaper) if we
// are gone.
//
// Offers: `reap_guardian::start()` → a guardian (or an error: no process
// could be forked); `expect_fork(target)`; `watch(target, copy,
// copy_in_target)`; `done()` (also the destructor:
// without a watched copy, the guardian just exits); `pid()`.
// Errors: system (fork or pipe failed).
// Thread-safety: one thread at a time. start() forks our process: call it
// before attaching (a fork while the session's tracer thread runs is
// allowed, but the pause would include it).
// Target process: none while we live; after our death, one stop of about a
// millisecond and one wait4 run by one of its threads, only if a copy was
// left.
//
//   auto guardian = TRIAGE_TRY(triage::ptrace::reap_guardian::start());
//   auto s = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto copy = TRIAGE_TRY(triage::ptrace::fork_copy(s, {.guardian = &guardian}));
#pragma once

#include <sys/types.h>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage::ptrace {

class reap_guardian {
public:
    [[nodiscard]] static TRIAGE_DECL result<reap_guardian> start();

    reap_guardian(reap_guardian&& other) noexcept : pid_{other.pid_}, pipe_{std::move(other.pipe_)} { other.pid_ = 0; }
    reap_guardian& operator=(reap_guardian&&) = delete;
    reap_guardian(const reap_guardian&) = delete;
    reap_guardian& operator=(const reap_guardian&) = delete;
    ~reap_guardian() { done(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // A fork of `target` starts now: if we die before watch(), its copy is
    // to be found and reaped.
    TRIAGE_DECL void expect_fork(pid_t target) noexcept;
    // The copy the guardian must reap if we die: its pid in our namespace
    // and in the target's (forked_copy::pid, pid_in_target).
    TRIAGE_DECL void watch(pid_t target, pid_t copy, pid_t copy_in_target) noexcept;
    // Nothing is left to reap: the guardian exits, and is reaped here.
    TRIAGE_DECL void done() noexcept;

private:
    reap_guardian(pid_t pid, unique_fd pipe) noexcept : pid_{pid}, pipe_{std::move(pipe)} {}

    pid_t pid_ = 0;
    unique_fd pipe_;
};

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/reap_guardian.ipp"
#endif
