// triage/ptrace/forked_copy.hpp — a copy-on-write fork of a stopped
// process: the whole memory image of the moment of the stop, for the price
// of its page tables, readable at leisure after the target was let go.
//
// Offers: `fork_copy(session, options)`, which, while `session` holds every
// thread of the target stopped, makes one thread run a clone() system call
// (ptrace/syscall_injection.hpp) and returns the `forked_copy`: the new
// process, traced by the session's tracer thread from birth and held in its
// first stop, so it never runs one instruction of its own; `pid()`;
// `forked_by()`; `fork_time()`; `dispose()` (also the destructor), which
// kills and reaps it; `cleanup_stopped_for()`.
// Read the copy's memory through /proc/PID/mem, process_vm_readv or
// /proc/PID/pagemap of `pid()` (memory::live_process, coredump::page_map);
// the registers and everything else that is per thread come from the
// session's stop, since the copy has one thread only.
//
// The clone: flags CLONE_FILES | CLONE_FS and exit signal 0.
//   - Exit signal 0: the target gets no SIGCHLD, and its waits do not see
//     the copy (wait/waitpid(-1)/waitid(P_ALL) see a child whose exit signal
//     is not SIGCHLD only with __WCLONE or __WALL, which no runtime passes:
//     a SIGCHLD handler or a reaping loop of the target never meets it).
//     Not CLONE_PARENT: the copy would then be a child of the target's
//     parent (systemd, a shell, a gunicorn-style master reaping with
//     waitpid(-1)), which would get SIGCHLD and reap a pid it never made;
//     and it is refused in a PID namespace's init.
//   - CLONE_FILES: the copy shares the target's descriptor table instead of
//     holding a second reference to every open file, so a socket, pipe or
//     flock the target closes during the dump is closed at once, as if no
//     copy existed. CLONE_FS shares its cwd/root/umask (nothing to copy).
// What the target can observe: one pid consumed (the copy lives in its
// cgroup and counts against pids.max and RLIMIT_NPROC; when those are
// exhausted the clone fails with EAGAIN and fork_copy says so); while the
// copy lives, the target's writes to its private memory take copy-on-write
// faults (each first write to a page copies it: memory charged to its
// cgroup, up to the pages the target rewrites while the dump runs);
// mappings with MADV_DONTFORK are absent from the copy and those with
// MADV_WIPEONFORK read as zeros there (VmFlags dc and wf in the target's
// smaps say which: a reader says so); `ps` shows the copy, a child of the target in state t,
// until it is disposed of. After the copy is killed, it is a zombie child of
// the target (exit signal 0, invisible to its waits): dispose() stops the
// target again for about a millisecond (a new session, or the same one if it
// is still held) and has one of its threads reap that pid with
// wait4(pid, NULL, __WALL | WNOHANG): the second stop is
// `cleanup_stopped_for()`.
// Safety: a target with a seccomp filter (Seccomp ≠ 0 in its status) is
// refused, since a filter may kill a process for a clone(); the copy gets
// PTRACE_O_EXITKILL as soon as it first stops, so our end for any reason,
// SIGKILL included, kills it. If we die during the clone() itself, the
// target's thread puts itself back and a copy nobody holds exits at once
// with status 0 without running the target's code (syscall_injection.hpp).
// Either way the copy stays a zombie (no memory, one pid) until the target
// exits, unless a reap_guardian (options.guardian) reaps it.
//
// Errors: invalid_argument (the session is not held), unsupported (seccomp;
// no thread that can run the call: every one is in group-stop or has a
// signal to deliver; not x86-64), resource_exhausted-like failures of the
// clone as errc::system with its errno (EAGAIN: pids.max or RLIMIT_NPROC;
// ENOMEM), no_such_process (the target died).
// Thread-safety: like the session: one thread at a time.
// Target process: one thread runs one clone() (registers and signal mask
// saved and put back, an interrupted system call restarted as if nothing
// happened); a second, short stop at dispose().
//
//   auto s = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto copy = TRIAGE_TRY(triage::ptrace::fork_copy(s));
//   TRIAGE_TRY(s.release());                    // the target runs on
//   auto mem = TRIAGE_TRY(triage::memory::live_process::open(copy.pid()));
//   ...                                         // read the frozen image
//   TRIAGE_TRY(copy.dispose());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/ptrace/syscall_injection.hpp"

namespace triage::ptrace {

class reap_guardian;

struct fork_options {
    // How long dispose() may wait for the target's threads to stop for the
    // reap (the second stop); the zombie stays if they do not.
    std::chrono::milliseconds cleanup_stop_timeout{2000};
    // Told about the copy, so that it reaps it if we are killed
    // (ptrace/reap_guardian.hpp); none: a SIGKILL leaves a zombie.
    reap_guardian* guardian = nullptr;
};

class forked_copy {
public:
    forked_copy(forked_copy&& other) noexcept = default;
    forked_copy& operator=(forked_copy&& other) noexcept {
        if (this != &other) {
            (void)dispose();
            core_ = std::move(other.core_);
            pid_ = other.pid_;
            pid_in_target_ = other.pid_in_target_;
            target_ = other.target_;
            forked_by_ = other.forked_by_;
            fork_time_ = other.fork_time_;
            cleanup_stopped_for_ = other.cleanup_stopped_for_;
            options_ = other.options_;
            site_ = other.site_;
        }
        return *this;
    }
    forked_copy(const forked_copy&) = delete;
    forked_copy& operator=(const forked_copy&) = delete;
    ~forked_copy() { (void)dispose(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }  // in our PID namespace
    [[nodiscard]] pid_t pid_in_target() const noexcept { return pid_in_target_; }  // in the target's
    [[nodiscard]] pid_t target() const noexcept { return target_; }
    [[nodiscard]] pid_t forked_by() const noexcept { return forked_by_; }  // the thread that ran the clone
    [[nodiscard]] std::chrono::nanoseconds fork_time() const noexcept { return fork_time_; }
    [[nodiscard]] bool alive() const noexcept { return core_ != nullptr; }
    // The second stop's length (0 until dispose()).
    [[nodiscard]] std::chrono::nanoseconds cleanup_stopped_for() const noexcept { return cleanup_stopped_for_; }

    // Kills the copy and has the target reap it. Idempotent. An error says
    // that the zombie could not be reaped (the copy is dead either way).
    TRIAGE_DECL result<void> dispose();

private:
    friend result<forked_copy> fork_copy(const session& s, const fork_options& options);
    forked_copy() = default;

    std::shared_ptr<detail::session_core> core_;
    pid_t pid_ = 0;
    pid_t pid_in_target_ = 0;
    pid_t target_ = 0;
    pid_t forked_by_ = 0;
    std::chrono::nanoseconds fork_time_{0};
    std::chrono::nanoseconds cleanup_stopped_for_{0};
    fork_options options_;
    injection_site site_;  // where the clone ran: the reap in dispose() runs there too, with no search in the stop
};

[[nodiscard]] TRIAGE_DECL result<forked_copy> fork_copy(const session& s, const fork_options& options = {});

// Stops `target` (a session of its own, within `stop_timeout`) and has one
// of its threads reap its dead child `copy` (wait4(copy, NULL, __WALL |
// WNOHANG); `copy` is the pid as the target sees it, in its PID namespace):
// what dispose() does once the copy's session was released.
// Returns how long the target was stopped; a target that is gone is not an
// error (its children went to init).
[[nodiscard]] TRIAGE_DECL result<std::chrono::nanoseconds> reap_dead_copy(pid_t target, pid_t copy,
                                                                         std::chrono::milliseconds stop_timeout);

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/forked_copy.ipp"
#endif
