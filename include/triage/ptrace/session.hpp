// triage/ptrace/session.hpp — stop every thread of a process, read it, let
// it go (RAII).
//
// Offers: `session::attach(pid, options)` seizes (PTRACE_SEIZE) and
// interrupts (PTRACE_INTERRUPT) every thread of `pid` and waits, with
// __WALL, until each one has stopped; then `threads()` (sorted),
// `registers(tid)`, `stopped_duration()`, and `release()` (also run by the
// destructor) which detaches every thread, resuming it.
//
// How the thread set is made complete (race-free against threads being
// created and exiting while we attach). Both mechanisms are used because
// neither alone is enough:
//   - re-listing: /proc/PID/task is listed, every thread not yet seized is
//     seized and interrupted, we wait until all of them have stopped, and
//     the list is read again, until a listing shows no thread we have not
//     seized (at most `max_rounds` listings). This finds threads created by
//     threads we had not seized yet. Only a listing made while everything
//     we hold is stopped counts as the final one: the kernel's walk of the
//     thread list can end early when the thread under its cursor exits.
//   - PTRACE_O_TRACECLONE on every seized thread: a thread created by an
//     already-seized thread after the last listing is attached by the
//     kernel itself; we learn its id from the parent's PTRACE_EVENT_CLONE
//     stop and wait for its own stop. This closes the gap between the last
//     listing and the stop of its creator, which listing alone cannot.
//   A thread that exits before it stops is dropped, not an error. A thread
//   the kernel auto-attached before our listing showed it is recognised by
//   TracerPid being us.
//
// What it does to the target: every thread is stopped from the first
// PTRACE_INTERRUPT until release(); `stopped_duration()` is that time on
// CLOCK_MONOTONIC (first interrupt → last PTRACE_DETACH, or → now while
// held). Nothing is written to the target. Signals:
//   - a signal the target receives while stopped stays pending in the
//     kernel and is delivered after release (the threads dequeue it then);
//   - a signal a thread had already dequeued when it stopped
//     (a signal-delivery-stop seen by waitpid) is re-injected with
//     PTRACE_DETACH's signal argument, so it is not lost;
//   - a target that is in group-stop (SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU) when
//     we attach, or that is sent one while held, is in group-stop again
//     after release: triage never continues a process the user stopped.
// Release happens on scope exit, on exceptions (destructor), and when our
// process gets SIGINT, SIGTERM, SIGHUP, SIGQUIT or crashes (SIGSEGV,
// SIGBUS, SIGABRT, SIGFPE, SIGILL): see ptrace/release_on_signal.hpp. If
// our process is killed with SIGKILL, the kernel detaches and resumes every
// thread. A target killed while held: release reaps the threads that were
// dying when it detached (as their tracer, only we can; until then the
// target's parent cannot reap the process), waiting up to 2 s for them.
//
// Errors: invalid_argument (pid ≤ 0; a call from another thread than the one
// that attached; a tid that is not a held thread); no_such_process (gone, or
// every thread exited while we attached); already_traced ("pid N (comm) is
// already tracing it", from TracerPid); permission_denied (with what to do:
// root, CAP_SYS_PTRACE, /proc/sys/kernel/yama/ptrace_scope when Yama is
// there); interrupted (a thread did not stop within `stop_timeout`, e.g. in
// uninterruptible sleep, state D — everything is released before the error
// returns; release waits for such a thread to stop, since a seized thread can
// only be detached once stopped); limit_exceeded (the thread list did not
// settle within `max_rounds` listings).
// Thread-safety: ptrace ties a tracee to the THREAD that attached: call every
// member from that thread (a session may be moved, not used, elsewhere).
// Signal-safety: no (the signal path is in release_on_signal.hpp).
//
//   auto s = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   for (pid_t tid : s.threads()) {
//       auto regs = TRIAGE_TRY(s.registers(tid));
//       fmt::print("{} rip={:#x}\n", tid, regs.instruction_pointer());
//   }
//   TRIAGE_TRY(s.release());  // or let it go out of scope
//   fmt::print("stopped {} us\n", s.stopped_duration().count() / 1000);
#pragma once

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/read_file.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/comm.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/status.hpp"
#include "triage/ptrace/registers.hpp"
#include "triage/ptrace/release_on_signal.hpp"

namespace triage::ptrace {

struct attach_options {
    // How long to wait for all threads to stop after they were interrupted.
    std::chrono::milliseconds stop_timeout{2000};
    // How many times /proc/PID/task may be listed before giving up on a
    // thread set that keeps growing (at least 2: the last listing is a check).
    unsigned max_rounds = 64;
};

namespace detail {
[[nodiscard]] inline pid_t current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// What a waitpid status says about a tracee (see ptrace(2), "Stopped states").
struct stop_report {
    enum kind_t {
        exited,        // WIFEXITED / WIFSIGNALED: gone
        event_stop,    // PTRACE_EVENT_STOP: our interrupt, a new thread's first stop
        group_stop,    // PTRACE_EVENT_STOP with a stopping signal: the process is in group-stop
        clone_event,   // PTRACE_EVENT_CLONE: a new thread, id via PTRACE_GETEVENTMSG
        other_event,   // exec, fork, ...: stopped, nothing to carry over
        syscall_stop,  // SIGTRAP|0x80 (PTRACE_O_TRACESYSGOOD)
        signal_stop,   // signal-delivery-stop: `signal` must be re-injected
    } kind = exited;
    int signal = 0;
};

[[nodiscard]] constexpr bool is_stopping_signal(int signal) noexcept {
    return signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU;
}

[[nodiscard]] inline stop_report classify(int status) noexcept {
    if (!WIFSTOPPED(status)) return {stop_report::exited, 0};
    int signal = WSTOPSIG(status);
    int event = (status >> 16) & 0xff;
    if (event == PTRACE_EVENT_STOP)
        return {is_stopping_signal(signal) ? stop_report::group_stop : stop_report::event_stop, signal};
    if (event == PTRACE_EVENT_CLONE) return {stop_report::clone_event, 0};
    if (event != 0) return {stop_report::other_event, 0};
    if (signal == (SIGTRAP | 0x80)) return {stop_report::syscall_stop, 0};
    return {stop_report::signal_stop, signal};
}

// Waits for SIGCHLD, which the kernel sends to a tracer at every tracee
// stop: blocks it on this thread while alive, waits with sigtimedwait, and
// re-raises on destruction a SIGCHLD it swallowed that was not about a
// tracee (a real child's exit the program's own handler must see).
// If another of our threads takes the SIGCHLD first, the wait just times
// out: callers poll with waitpid(WNOHANG) anyway.
class sigchld_waiter {
public:
    sigchld_waiter() noexcept {
        sigemptyset(&chld_);
        sigaddset(&chld_, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &chld_, &previous_);
    }
    sigchld_waiter(const sigchld_waiter&) = delete;
    sigchld_waiter& operator=(const sigchld_waiter&) = delete;
    ~sigchld_waiter() {
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
        if (foreign_) ::raise(SIGCHLD);
    }
    // Waits up to `limit` for a SIGCHLD; `is_tracee(pid)` says whose it is.
    template <class IsTracee>
    void wait(std::chrono::nanoseconds limit, IsTracee&& is_tracee) noexcept {
        timespec ts{static_cast<time_t>(limit.count() / 1'000'000'000), static_cast<long>(limit.count() % 1'000'000'000)};
        siginfo_t info{};
        if (::sigtimedwait(&chld_, &info, &ts) == SIGCHLD && !is_tracee(info.si_pid)) foreign_ = true;
    }

private:
    sigset_t chld_{};
    sigset_t previous_{};
    bool foreign_ = false;
};

// One thread we have seized.
struct tracee {
    pid_t tid = 0;
    tracee_slot* slot = nullptr;
};

[[nodiscard]] inline std::string describe_process(pid_t pid) {
    auto name = procfs::read_comm(pid);
    std::string out = "pid " + std::to_string(pid);
    if (name) out += " (" + std::string{name->view()} + ")";
    return out;
}

// The hint for EPERM: what to do, naming what applies on this machine.
[[nodiscard]] inline std::string permission_hint() {
    std::string hint = "run as root or grant CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep on the tool)";
    auto scope = read_file("/proc/sys/kernel/yama/ptrace_scope");
    if (!scope) {
        hint += "; Yama is not active here (no /proc/sys/kernel/yama/ptrace_scope), so the cause is a "
                "different user or a target that is not dumpable (setuid, PR_SET_DUMPABLE)";
        return hint;
    }
    std::string_view value = trim(*scope);
    hint += "; /proc/sys/kernel/yama/ptrace_scope is " + std::string{value};
    if (value == "1") hint += " (only ancestors may attach: use root/CAP_SYS_PTRACE or set it to 0)";
    else if (value == "2") hint += " (only CAP_SYS_PTRACE may attach)";
    else if (value == "3") hint += " (attaching is disabled until reboot)";
    return hint;
}

[[nodiscard]] inline std::string thread_context(pid_t pid, pid_t tid) {
    if (pid == tid) return "attaching to " + describe_process(pid);
    return "attaching to thread " + std::to_string(tid) + " of " + describe_process(pid);
}
} // namespace detail

class session;
namespace detail {
struct session_access;
}

class session {
public:
    [[nodiscard]] static result<session> attach(pid_t pid, attach_options options = {}) {
        if (pid <= 0) return fail(errc::invalid_argument, "attaching to pid " + std::to_string(pid), "a pid is a positive number");
        procfs::proc_dir dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
        auto status = procfs::read_status(dir);
        if (!status) return fail(std::move(status.error()).within("attaching to pid " + std::to_string(pid)));
        if (status->tgid != pid)
            return fail(errc::invalid_argument, "attaching to pid " + std::to_string(pid),
                        "it is a thread of pid " + std::to_string(status->tgid) + "; attach to the process");
        if (status->tracer_pid != 0) return already_traced(pid, pid, status->tracer_pid);

        session s;
        s.pid_ = pid;
        s.tracer_ = detail::current_tid();
        s.guard_ = std::make_unique<signal_release_guard>();
        s.released_ = false;
        auto attached = s.seize_all(dir, options);
        if (!attached) {
            (void)s.release();
            return fail(std::move(attached.error()));
        }
        return s;
    }

    session(session&& other) noexcept { *this = std::move(other); }
    session& operator=(session&& other) noexcept {
        if (this != &other) {
            (void)release();
            pid_ = other.pid_;
            tracer_ = other.tracer_;
            threads_ = std::move(other.threads_);
            tracees_ = std::move(other.tracees_);
            awaiting_ = std::move(other.awaiting_);
            guard_ = std::move(other.guard_);
            first_interrupt_ = other.first_interrupt_;
            released_at_ = other.released_at_;
            released_ = std::exchange(other.released_, true);
            other.threads_.clear();
            other.tracees_.clear();
            other.awaiting_.clear();
        }
        return *this;
    }
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    ~session() { (void)release(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // Every stopped thread, sorted (empty after release()).
    [[nodiscard]] const std::vector<pid_t>& threads() const noexcept { return threads_; }
    // The thread of ours that attached; every call must come from it.
    [[nodiscard]] pid_t tracer_thread() const noexcept { return tracer_; }
    [[nodiscard]] bool held() const noexcept { return !released_; }

    [[nodiscard]] result<thread_registers> registers(pid_t tid) const {
        std::string context = "reading registers of thread " + std::to_string(tid) + " of pid " + std::to_string(pid_);
        if (released_) return fail(errc::invalid_argument, context, "the session was released");
        if (!std::binary_search(threads_.begin(), threads_.end(), tid))
            return fail(errc::invalid_argument, context, "it is not a stopped thread of this session");
        if (detail::current_tid() != tracer_)
            return fail(errc::invalid_argument, context,
                        "ptrace requests must come from thread " + std::to_string(tracer_) + ", which attached");
        return read_registers(tid);
    }

    // CLOCK_MONOTONIC time from the first PTRACE_INTERRUPT to the last
    // PTRACE_DETACH (or to now while the threads are held).
    [[nodiscard]] std::chrono::nanoseconds stopped_duration() const noexcept {
        if (first_interrupt_ == std::chrono::steady_clock::time_point{}) return std::chrono::nanoseconds{0};
        auto end = released_ ? released_at_ : std::chrono::steady_clock::now();
        return std::chrono::duration_cast<std::chrono::nanoseconds>(end - first_interrupt_);
    }

    // Detaches (resumes) every thread, re-injecting signals they had
    // dequeued. Idempotent. Threads that exited meanwhile are not an error.
    result<void> release() {
        if (released_) return {};
        if (!awaiting_.empty()) (void)wait_for_stops(std::nullopt);
        std::optional<error> first_error;
        std::vector<pid_t> exiting;
        for (detail::tracee& t : tracees_) {
            int e = t.slot->detach();
            if (e != 0 && e != ESRCH && !first_error)
                first_error = error::from_errno(e, "detaching from thread " + std::to_string(t.tid) + " of pid " + std::to_string(pid_));
            if (e == ESRCH) exiting.push_back(t.tid);
            tracee_registry::unclaim(*t.slot);
        }
        reap_exiting(exiting);
        released_at_ = std::chrono::steady_clock::now();
        released_ = true;
        tracees_.clear();
        threads_.clear();
        guard_.reset();
        if (first_error) return fail(std::move(*first_error));
        return {};
    }

private:
    friend struct detail::session_access;

    session() = default;

    [[nodiscard]] static std::unexpected<error> already_traced(pid_t pid, pid_t tid, pid_t tracer) {
        return fail(errc::already_traced, detail::thread_context(pid, tid),
                    detail::describe_process(tracer) + " is already tracing it; a process has one tracer at a time: "
                    "detach that one (or end it) first");
    }

    // A thread not stopped yet is registered `awaiting_`; stopped ones go to
    // `tracees_`.
    bool known(pid_t tid) const noexcept {
        auto same = [tid](const detail::tracee& t) { return t.tid == tid; };
        return std::any_of(tracees_.begin(), tracees_.end(), same) ||
               std::any_of(awaiting_.begin(), awaiting_.end(), same);
    }

    void note_interrupt() noexcept {
        if (first_interrupt_ == std::chrono::steady_clock::time_point{})
            first_interrupt_ = std::chrono::steady_clock::now();
    }

    // Seizes and interrupts `tid`. Returns false if the thread is gone.
    result<bool> seize_one(const procfs::proc_dir& dir, pid_t tid) {
        tracee_slot& slot = tracee_registry::claim(pid_, tid);
        constexpr long options = PTRACE_O_TRACECLONE;
        if (::ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(options)) != 0) {
            int e = errno;
            bool ours = false;
            if (e == EPERM) {
                // Already ours (auto-attached at clone), a zombie, another
                // tracer, or really no permission: /proc tells which.
                auto st = procfs::read_status(dir, tid);
                if (!st || st->state == 'Z' || st->state == 'X') {
                    tracee_registry::unclaim(slot);
                    return false;
                }
                if (st->tracer_pid == tracer_) {
                    ours = true;
                } else if (st->tracer_pid != 0) {
                    tracee_registry::unclaim(slot);
                    return already_traced(pid_, tid, st->tracer_pid);
                } else {
                    tracee_registry::unclaim(slot);
                    return fail(errc::permission_denied, detail::thread_context(pid_, tid), detail::permission_hint());
                }
            }
            if (!ours) {
                tracee_registry::unclaim(slot);
                if (e == ESRCH) return false;
                return fail_errno(e, detail::thread_context(pid_, tid));
            }
        }
        note_interrupt();
        // ESRCH here means the thread is exiting; waitpid will report it.
        (void)::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
        awaiting_.push_back({tid, &slot});
        return true;
    }

    // Rounds of: list /proc/PID/task, seize and interrupt the threads not
    // seen before, wait until every seized thread has stopped. Settled when
    // a listing made while every known thread was stopped shows no new
    // thread (a listing taken while threads exit can end early, so only one
    // taken with everything we hold frozen is trusted).
    result<void> seize_all(const procfs::proc_dir& dir, const attach_options& options) {
        std::vector<pid_t> gone;
        const auto deadline = std::chrono::steady_clock::now() + options.stop_timeout;
        bool settled = false;
        for (unsigned round = 0; round < std::max(2u, options.max_rounds) && !settled; ++round) {
            auto listed = dir.task_ids();
            if (!listed) {
                if (tracees_.empty() && awaiting_.empty()) return fail(std::move(listed.error()));
                break;  // the process is exiting; waiting below tells
            }
            settled = round > 0;
            for (pid_t tid : *listed) {
                if (known(tid) || std::find(gone.begin(), gone.end(), tid) != gone.end()) continue;
                settled = false;
                bool seized = TRIAGE_TRY(seize_one(dir, tid));
                if (!seized) gone.push_back(tid);
            }
            TRIAGE_TRY(wait_for_stops(deadline));
        }
        if (!settled && dir.alive())
            return fail(errc::limit_exceeded, "attaching to " + detail::describe_process(pid_),
                        "its thread list did not settle after " + std::to_string(options.max_rounds) +
                            " listings; raise attach_options::max_rounds");
        if (tracees_.empty()) return fail(errc::no_such_process, "attaching to pid " + std::to_string(pid_), "every thread exited while we attached");
        sort_threads();
        return {};
    }

    void sort_threads() {
        std::sort(tracees_.begin(), tracees_.end(), [](const auto& a, const auto& b) { return a.tid < b.tid; });
        threads_.clear();
        for (const auto& t : tracees_) threads_.push_back(t.tid);
    }

    // Records what a stop means for `t` (which is now stopped, or gone).
    // Returns false if the thread is gone.
    bool record_stop(detail::tracee t, int status) {
        detail::stop_report report = detail::classify(status);
        if (report.kind == detail::stop_report::exited) {
            tracee_registry::unclaim(*t.slot);
            return false;
        }
        if (report.kind == detail::stop_report::clone_event) {
            unsigned long child = 0;
            if (::ptrace(PTRACE_GETEVENTMSG, t.tid, nullptr, &child) == 0 && child != 0 &&
                !known(static_cast<pid_t>(child))) {
                // Auto-attached by the kernel; it starts in PTRACE_EVENT_STOP.
                awaiting_.push_back({static_cast<pid_t>(child), &tracee_registry::claim(pid_, static_cast<pid_t>(child))});
            }
        }
        if (report.kind == detail::stop_report::signal_stop) t.slot->pending_signal.store(report.signal);
        t.slot->stopped.store(true);
        return true;
    }

    // Waits until every awaiting thread has stopped or exited; new threads
    // from clone events join the wait. Polls with WNOHANG (a blocking wait
    // on one thread could hang on a thread in state D, and waiting on -1
    // would reap children that are not ours), sleeping in between until a
    // SIGCHLD (a tracee stopped) or for at most 20 µs → 1 ms.
    result<void> wait_for_stops(std::optional<std::chrono::steady_clock::time_point> deadline) {
        long backoff_ns = 20'000;
        if (awaiting_.empty()) return {};
        detail::sigchld_waiter sigchld;
        while (!awaiting_.empty()) {
            bool progress = false;
            for (std::size_t i = 0; i < awaiting_.size();) {
                detail::tracee t = awaiting_[i];
                int status = 0;
                pid_t r = ::waitpid(t.tid, &status, __WALL | WNOHANG);
                if (r == 0 || (r < 0 && errno == EINTR)) {
                    ++i;
                    continue;
                }
                progress = true;
                awaiting_.erase(awaiting_.begin() + static_cast<std::ptrdiff_t>(i));
                if (r < 0) {  // ECHILD: no longer ours (gone, or let go by a signal handler)
                    tracee_registry::unclaim(*t.slot);
                    continue;
                }
                if (record_stop(t, status)) tracees_.push_back(t);
            }
            if (awaiting_.empty()) break;
            if (progress) {
                backoff_ns = 20'000;
                continue;
            }
            if (deadline && std::chrono::steady_clock::now() > *deadline) {
                pid_t stuck = awaiting_.front().tid;
                auto st = procfs::read_status(pid_, stuck);
                std::string state = st ? std::string(1, st->state) : std::string{"?"};
                return fail(errc::interrupted,
                            "waiting for thread " + std::to_string(stuck) + " of " + detail::describe_process(pid_) + " to stop",
                            "it did not stop in time (state " + state +
                                "; D is uninterruptible sleep); everything was released, try again or raise "
                                "attach_options::stop_timeout");
            }
            sigchld.wait(std::chrono::nanoseconds{backoff_ns}, [this](pid_t p) { return known(p); });
            backoff_ns = std::min<long>(backoff_ns * 2, 1'000'000);
        }
        return {};
    }

    // Threads that were no longer in a stop when we detached are exiting
    // (the process was killed under us). Until their tracer reaps them they
    // stay zombies, and the process's parent cannot reap the process: wait
    // for each (bounded: one that is stuck exiting is left to the kernel,
    // which reaps it when we exit), detaching any that stops once more.
    static void reap_exiting(std::vector<pid_t> tids) noexcept {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
        while (!tids.empty()) {
            std::erase_if(tids, [](pid_t tid) {
                int status = 0;
                const pid_t r = ::waitpid(tid, &status, __WALL | WNOHANG);
                if (r == tid && WIFSTOPPED(status)) {
                    const int signal = (status >> 16) == 0 ? WSTOPSIG(status) : 0;  // re-inject a dequeued signal
                    return ::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) == 0;
                }
                return r == tid || (r < 0 && errno != EINTR);  // reaped, or not ours to wait for
            });
            if (tids.empty() || std::chrono::steady_clock::now() >= deadline) return;
            ::usleep(500);
        }
    }

    pid_t pid_ = 0;
    pid_t tracer_ = 0;
    std::vector<pid_t> threads_;
    std::vector<detail::tracee> tracees_;   // stopped threads
    std::vector<detail::tracee> awaiting_;  // seized, stop not seen yet
    std::unique_ptr<signal_release_guard> guard_;
    std::chrono::steady_clock::time_point first_interrupt_{};
    std::chrono::steady_clock::time_point released_at_{};
    bool released_ = true;
};

} // namespace triage::ptrace
