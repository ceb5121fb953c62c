// triage/ptrace/session.hpp — stop every thread of a process, read it, let
// it go (RAII); the one stop that snapshots, registers, a syscall window and
// a core borrow.
//
// Offers: `session::attach(pid, options)` seizes (PTRACE_SEIZE) and
// interrupts (PTRACE_INTERRUPT) every thread of `pid` and waits until each
// one has stopped; then `threads()` (sorted tids), `registers(tid)`,
// `general_registers()` (every thread's general registers in one trip to
// the tracer thread: what an unwinder needs, for the shortest stop),
// `stopped_for()`, `stops()`, `let_run(body)` (let the threads run under
// `body`'s control, then stop them again: the syscall watch is built on it),
// and `release()` (also run by the destructor), which detaches every thread,
// resuming it.
//
// Who makes the ptrace requests: a tracer thread the session starts and
// owns (ptrace/tracer_thread.hpp); every member forwards its requests there,
// so a session may be used from any thread, one at a time. The tracer thread
// ends at release(): the kernel then detaches whatever it still traces (see
// "a thread that cannot be stopped" below) and reaps dead tracees. One
// exception: while a forked_copy made in the session lives
// (ptrace/forked_copy.hpp), the thread, which traces that copy, lives on
// after release() and ends with the copy (its end would kill the copy).
//
// How the thread set is made complete (race-free against threads being
// created and exiting while we attach). Both mechanisms are used because
// neither alone is enough:
//   - re-listing: /proc/PID/task is listed, every thread not yet seized is
//     seized and interrupted, we wait until all of them have stopped, and
//     the list is read again, until a listing shows no thread we have not
//     seized (at most `max_rounds` listings). Only a listing made while
//     everything we hold is stopped counts as the final one: the kernel's
//     walk of the thread list can end early when the thread under its
//     cursor exits.
//   - PTRACE_O_TRACECLONE on every seized thread: a thread created by an
//     already-seized thread after the last listing is attached by the
//     kernel itself; we learn its id from the parent's PTRACE_EVENT_CLONE
//     stop (or from its own first stop) and wait for its stop.
//   A thread that exits before it stops is dropped, not an error, and is
//   reaped at once: dead tracees are waited for while we wait for stops.
//   A thread that execs while we attach (PTRACE_O_TRACEEXEC): the kernel
//   kills every other thread and the exec waits until they are reaped — we
//   reap them as they die; the exec'ing thread then takes the leader's tid
//   and stops with PTRACE_EVENT_EXEC, which tells its former tid, forgotten.
//   A leader killed that way never reports its death: if the exec'ing
//   thread is not ours, the leader's tid stops being our child and is
//   dropped from the wait, and the final listing, which checks that the
//   leader's TracerPid is ours, seizes the new leader in another round.
//   Meanwhile the exec holds a lock that PTRACE_SEIZE waits for: if the
//   tracer thread is blocked there while the dead threads are ours, the
//   thread that called attach() reaps them (any thread of our process may)
//   so that the exec, and then our PTRACE_SEIZE, complete — but that
//   PTRACE_SEIZE then attaches the exec'ing thread under the leader's tid,
//   which our books do not show: the attempt is let go (its tracer thread
//   ends) and attach starts over with a new one, within the same budget
//   (errc::inconsistent if execs keep racing it until the budget is spent).
//
// A thread that cannot be stopped. PTRACE_INTERRUPT does not wake a thread
// in uninterruptible sleep (state D: a vfork() parent waiting for its child,
// a read from a hung disk or NFS server). Every wait for stops has a
// deadline, `attach_options::stop_timeout`; when it passes, the threads
// already stopped are detached at once, then attach() returns
// errc::interrupted saying which thread, in which state and system call,
// and after how long the others were released. So no thread is held past
// the budget because another cannot stop. The stuck thread was seized and
// has our interrupt pending, and cannot be detached (PTRACE_DETACH needs a
// ptrace-stop): left alone, it would stop as soon as it leaves D, with
// nobody to let it go. That is why the session's tracer thread ends before
// attach() returns: the kernel then detaches the stuck thread and cancels
// its pending interrupt, so it runs on when it wakes, whether or not our
// process lives on. The same holds for every failure and for let_run().
//
// What it does to the target: every thread is stopped from the first
// PTRACE_INTERRUPT until release() (and during let_run, until the body lets
// them run). `stopped_for()` is the time the target was stopped on
// CLOCK_MONOTONIC (first interrupt → last thread resumed or detached,
// summed over stops); `stops()` counts the stops (1 after attach; each
// let_run that lets the target run adds one). Nothing is written to the
// target. Signals:
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
// SIGBUS, SIGABRT, SIGFPE, SIGILL): see ptrace/release_on_signal.hpp; a wait
// in progress then ends at once with errc::interrupted. If our process is
// killed with SIGKILL, the kernel detaches and resumes every thread. A
// target killed while held: its threads are reaped when the session lets go
// (until then its parent cannot reap it).
//
// Errors: invalid_argument (pid ≤ 0; a thread id rather than a process; a
// tid that is not a held thread; a released session); no_such_process
// (gone, or every thread exited while we attached); already_traced ("pid N
// (comm) is already tracing it", from TracerPid); permission_denied (with
// what to do: root, CAP_SYS_PTRACE, /proc/sys/kernel/yama/ptrace_scope when
// Yama is there); interrupted (a thread did not stop within `stop_timeout`,
// as above, or our process caught a guarded signal: everything is released
// before the error returns); limit_exceeded (the thread list did not settle
// within `max_rounds` listings); system (no tracer thread could be started).
// Thread-safety: any one thread at a time (not two at once, not from a
// signal handler, not in the child of a fork()).
//
//   auto s = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   for (pid_t tid : s.threads()) {
//       auto regs = TRIAGE_TRY(s.registers(tid));
//       fmt::print("{} rip={:#x}\n", tid, regs.instruction_pointer());
//   }
//   TRIAGE_TRY(s.release());  // or let it go out of scope
//   fmt::print("stopped {} us\n", s.stopped_for().count() / 1000);
#pragma once

#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/ptrace_permission.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/comm.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/syscall.hpp"
#include "triage/procfs/wchan.hpp"
#include "triage/ptrace/registers.hpp"
#include "triage/ptrace/release_on_signal.hpp"
#include "triage/ptrace/tracer_thread.hpp"

namespace triage::ptrace {

struct attach_options {
    // How long to wait for all threads to stop after they were interrupted:
    // the longest any thread is held because another does not stop.
    std::chrono::milliseconds stop_timeout{2000};
    // How many times /proc/PID/task may be listed before giving up on a
    // thread set that keeps growing (at least 2: the last listing is a check).
    unsigned max_rounds = 64;
};

// A thread a session traces, with its slot in the registry (what the signal
// handler sees of it).
struct traced_thread {
    pid_t tid = 0;
    tracee_slot* slot = nullptr;
};

namespace detail {
// The ptrace options of every thread a session holds (threads it seizes,
// and those auto-attached at clone, which inherit them).
inline constexpr long session_ptrace_options = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;

// What a waitpid status says about a tracee (see ptrace(2), "Stopped states").
struct stop_report {
    enum kind_t {
        exited,        // WIFEXITED / WIFSIGNALED: gone
        event_stop,    // PTRACE_EVENT_STOP: our interrupt, a new thread's first stop
        group_stop,    // PTRACE_EVENT_STOP with a stopping signal: the process is in group-stop
        clone_event,   // PTRACE_EVENT_CLONE: a new thread, id via PTRACE_GETEVENTMSG
        exec_event,    // PTRACE_EVENT_EXEC: reported under the leader's tid, former tid via PTRACE_GETEVENTMSG
        other_event,   // fork, vfork, ...: stopped, nothing to carry over
        syscall_stop,  // SIGTRAP|0x80 (PTRACE_O_TRACESYSGOOD)
        signal_stop,   // signal-delivery-stop: `signal` must be re-injected
    } kind = exited;
    int signal = 0;
};

[[nodiscard]] constexpr bool is_stopping_signal(int signal) noexcept {
    return signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU;
}

[[nodiscard]] TRIAGE_DECL stop_report classify(int status) noexcept;

// The next report of any tracee of the calling tracer thread (its own
// tracees only: __WNOTHREAD, and a tracer thread has no children), or 0.
[[nodiscard]] TRIAGE_DECL pid_t next_report(int& status) noexcept;

// Waits on a tracer thread for SIGCHLD, which the kernel sends to a tracer
// at every tracee stop (a tracer thread blocks every signal, so sigtimedwait
// takes it). A SIGCHLD that was not about a tracee (a real child of our
// process exiting) is sent again to our process when the waiter goes, for
// the program's own handler. If another of our threads takes the SIGCHLD
// first, the wait just times out: callers poll with waitpid(WNOHANG).
class sigchld_waiter {
public:
    sigchld_waiter() noexcept {
        sigemptyset(&chld_);
        sigaddset(&chld_, SIGCHLD);
    }
    sigchld_waiter(const sigchld_waiter&) = delete;
    sigchld_waiter& operator=(const sigchld_waiter&) = delete;
    ~sigchld_waiter() {
        if (foreign_) ::kill(::getpid(), SIGCHLD);
    }
    // Waits up to `limit` for a SIGCHLD; `is_tracee(pid)` says whose it is.
    template <class IsTracee>
    void wait(std::chrono::nanoseconds limit, IsTracee&& is_tracee) noexcept {
        timespec ts = to_timespec(limit);
        siginfo_t info{};
        if (::sigtimedwait(&chld_, &info, &ts) == SIGCHLD && !is_tracee(info.si_pid))
            foreign_ = true;
    }

private:
    sigset_t chld_{};
    bool foreign_ = false;
};

[[nodiscard]] TRIAGE_DECL std::string describe_process(pid_t pid);

[[nodiscard]] TRIAGE_DECL std::string thread_context(pid_t pid, pid_t tid);

// What a thread that would not stop is doing, from /proc: "is in
// uninterruptible sleep (state D, in vfork, wchan wait_for_vfork_done)".
[[nodiscard]] TRIAGE_DECL std::string describe_unstoppable(const procfs::proc_dir& dir, pid_t tid);

// Everything a session knows. Its tracer thread works on it during a task;
// the session reads it between tasks; the thread waiting for attach writes
// only `reaped_elsewhere` (under `reaped_mutex`).
struct session_core {
    using clock = std::chrono::steady_clock;

    session_core(pid_t pid, procfs::proc_dir dir, attach_options options)
        : pid{pid}, dir{std::move(dir)}, options{options}, signals_at_start{caught_signals()} {}

    pid_t pid;
    procfs::proc_dir dir;
    attach_options options;
    std::uint64_t signals_at_start;
    signal_release_guard guard;            // our handlers, while the session lives
    std::vector<traced_thread> held;       // seized and stopped (running only inside let_run)
    std::vector<traced_thread> awaiting;   // seized and interrupted, stop not seen yet
    std::vector<pid_t> threads;            // sorted tids of `held`: session::threads()
    std::vector<pid_t> gone;               // listed, exited before we could seize them
    std::vector<pid_t> unstoppable;        // the threads that did not stop in time
    std::string unstoppable_state;         // what the first of them was doing then
    clock::time_point stop_began{};        // while stopped: when the stop began
    clock::duration stopped_before{};      // the stops that ended
    unsigned stops = 0;
    std::size_t released_threads = 0;      // detached by release_all
    bool released = false;
    std::mutex reaped_mutex;               // guards reaped_elsewhere
    std::vector<pid_t> reaped_elsewhere;   // reaped by reap_for_exec, to forget
    std::vector<pid_t> forks;              // copies made by fork_copy (forked_copy.hpp): traced, never threads
    bool exec_under_us = false;            // an exec raced our PTRACE_SEIZE: start over
    ptrace::tracer_thread tracer;          // last: ends first, before the state it works on goes

    [[nodiscard]] bool signal_arrived() const noexcept { return caught_signals() != signals_at_start; }

    [[nodiscard]] std::chrono::nanoseconds stopped_for() const noexcept {
        clock::duration total = stopped_before;
        if (stop_began != clock::time_point{}) total += clock::now() - stop_began;
        return std::chrono::duration_cast<std::chrono::nanoseconds>(total);
    }

    void begin_stop() noexcept {
        if (stop_began != clock::time_point{}) return;
        stop_began = clock::now();
        ++stops;
    }
    void end_stop() noexcept {
        if (stop_began == clock::time_point{}) return;
        stopped_before += clock::now() - stop_began;
        stop_began = {};
    }

    [[nodiscard]] static traced_thread* find(std::vector<traced_thread>& in, pid_t tid) noexcept {
        auto it = std::find_if(in.begin(), in.end(), [tid](const traced_thread& t) { return t.tid == tid; });
        return it == in.end() ? nullptr : &*it;
    }
    [[nodiscard]] bool known(pid_t tid) noexcept { return find(held, tid) != nullptr || find(awaiting, tid) != nullptr; }

    // `tid` is no longer ours (exited, or its tid went to another thread).
    void forget(pid_t tid) noexcept {
        for (auto* list : {&held, &awaiting}) {
            std::erase_if(*list, [tid](const traced_thread& t) {
                if (t.tid != tid) return false;
                tracee_registry::unclaim(*t.slot);
                return true;
            });
        }
    }

    // `tid`'s entry; a thread not known yet (one the kernel attached to us
    // at clone) joins `into`.
    traced_thread adopt(pid_t tid, std::vector<traced_thread>& into) {
        if (traced_thread* t = find(held, tid)) return *t;
        if (traced_thread* t = find(awaiting, tid)) return *t;
        traced_thread t{tid, &tracee_registry::claim(pid, tid)};
        into.push_back(t);
        return t;
    }

    void mark_stopped(pid_t tid, bool group_stop) {
        traced_thread t = adopt(tid, held);
        std::erase_if(awaiting, [tid](const traced_thread& a) { return a.tid == tid; });
        if (find(held, tid) == nullptr) held.push_back(t);
        t.slot->group_stop.store(group_stop);
        t.slot->stopped.store(true);
    }

    void sort_threads() {
        std::sort(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.tid < b.tid; });
        threads.clear();
        for (const auto& t : held) threads.push_back(t.tid);
    }

    // What one waitpid report means for the thread set.
    void on_report(pid_t tid, int status) {
        stop_report report = classify(status);
        if (std::find(forks.begin(), forks.end(), tid) != forks.end()) {
            if (report.kind == stop_report::exited) std::erase(forks, tid);
            return;
        }
        unsigned long message = 0;
        switch (report.kind) {
        case stop_report::exited: forget(tid); return;
        case stop_report::clone_event:
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && message != 0 &&
                std::find(gone.begin(), gone.end(), static_cast<pid_t>(message)) == gone.end())
                (void)adopt(static_cast<pid_t>(message), awaiting);  // it reports its own first stop
            break;
        case stop_report::exec_event:
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && static_cast<pid_t>(message) != tid)
                forget(static_cast<pid_t>(message));
            break;
        default: break;
        }
        mark_stopped(tid, report.kind == stop_report::group_stop);
        find(held, tid)->slot->pending_signal.store(report.kind == stop_report::signal_stop ? report.signal : 0);
    }

    std::size_t drain_reports() {
        {
            std::lock_guard lock{reaped_mutex};
            for (pid_t tid : reaped_elsewhere) forget(tid);
            if (!reaped_elsewhere.empty()) exec_under_us = true;
            reaped_elsewhere.clear();
        }
        std::size_t reports = 0;
        int status = 0;
        for (pid_t tid; reports < 4096 && (tid = next_report(status)) != 0; ++reports) on_report(tid, status);
        return reports;
    }

    [[nodiscard]] std::unexpected<error> exec_error() const {
        return fail(errc::inconsistent, "attaching to " + describe_process(pid),
                    "a thread of it exec'd while we seized it, so often that no attempt within the budget completed");
    }

    [[nodiscard]] std::unexpected<error> caught_signal_error(std::string context) const {
        return fail(errc::interrupted, std::move(context),
                    "our process caught signal " + std::to_string(caught_signal()) + "; the target was let go");
    }

    // Asks the kernel about one awaiting thread directly: its report, or
    // that it is no longer our child (an exec gave its tid away, or another
    // waiter of ours took its report). Returns whether anything changed.
    bool ask_directly(pid_t tid) {
        int status = 0;
        const pid_t r = ::waitpid(tid, &status, __WALL | __WNOTHREAD | WNOHANG);
        if (r == tid) on_report(tid, status);
        else if (r < 0) forget(tid);
        return r != 0;
    }

    // Waits until every awaiting thread has stopped or exited (new threads
    // from clone events join the wait), reaping dead tracees meanwhile.
    // Polls with WNOHANG, sleeping in between until a SIGCHLD or for at
    // most 20 µs → 1 ms. Ends early when a guarded signal arrives.
    result<void> wait_for_stops(clock::time_point deadline) {
        long backoff_ns = 20'000;
        std::optional<sigchld_waiter> sigchld;
        for (;;) {
            const bool progress = drain_reports() > 0;
            if (exec_under_us) return exec_error();
            if (awaiting.empty()) return {};
            if (signal_arrived()) return caught_signal_error("waiting for the threads of " + describe_process(pid) + " to stop");
            if (progress) {
                backoff_ns = 20'000;
                continue;
            }
            // A leader killed by another thread's exec never reports its
            // death; if the exec'ing thread, which takes its tid, is not
            // ours, the tid is no longer our child.
            if (backoff_ns == 1'000'000 && find(awaiting, pid) != nullptr && ask_directly(pid)) continue;
            const auto now = clock::now();
            if (now >= deadline) break;
            if (!sigchld) sigchld.emplace();
            sigchld->wait(std::min<clock::duration>(std::chrono::nanoseconds{backoff_ns}, deadline - now),
                          [this](pid_t p) { return known(p) || dir.alive(p); });
            backoff_ns = std::min<long>(backoff_ns * 2, 1'000'000);
        }
        std::vector<pid_t> late;
        for (const traced_thread& t : awaiting) late.push_back(t.tid);
        for (pid_t tid : late) ask_directly(tid);
        if (awaiting.empty()) return {};
        unstoppable.clear();
        for (const traced_thread& t : awaiting) unstoppable.push_back(t.tid);
        unstoppable_state = describe_unstoppable(dir, unstoppable.front());
        return fail(errc::interrupted, "waiting for the threads of " + describe_process(pid) + " to stop",
                    "thread " + std::to_string(unstoppable.front()) + " " + unstoppable_state + " and did not stop within " +
                        std::to_string(options.stop_timeout.count()) + " ms");
    }

    // Seizes and interrupts `tid`. Returns false if the thread is gone.
    result<bool> seize_one(pid_t tid) {
        for (int attempt = 1; ::ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(session_ptrace_options)) != 0;
             ++attempt) {
            const int e = errno;
            if (e == ESRCH) return false;
            if (e != EPERM) return fail_errno(e, thread_context(pid, tid));
            // Already ours (auto-attached at clone), a zombie, another
            // tracer, or really no permission: /proc tells which.
            auto st = procfs::read_status(dir, tid);
            if (!st || st->state == 'Z' || st->state == 'X') return false;
            if (st->tracer_pid == tracer.tid()) break;
            if (st->tracer_pid != 0) return already_traced(pid, tid, st->tracer_pid);
            // A live thread nobody traces: no permission, or the leader's
            // tid, whose zombie an exec'ing thread took over since.
            if (attempt == 3) return fail(errc::permission_denied, thread_context(pid, tid), ptrace_permission_hint());
        }
        begin_stop();
        // ESRCH here means the thread is exiting (waitpid will report it),
        // or that an exec gave the task we seized the leader's tid.
        if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0 && errno == ESRCH && tid != pid) exec_under_us = true;
        (void)adopt(tid, awaiting);
        return true;
    }

    // Called from the thread waiting for attach, while the tracer thread
    // works: a thread of the target that execs holds the target's
    // cred_guard_mutex while it waits for the other threads to be reaped,
    // and PTRACE_SEIZE waits for that mutex; when the dead threads are
    // ours, the tracer thread, blocked in PTRACE_SEIZE, cannot reap them.
    // Any thread of our process may reap our tracees, so when the tracer
    // thread is found inside ptrace() this reaps the target's zombie threads
    // it traces (never the leader: the exec takes care of it), and hands
    // their tids to the tracer thread, which forgets them.
    void reap_for_exec() {
        auto call = procfs::read_syscall(::getpid(), tracer.tid());
        if (!call || call->kind != procfs::syscall_kind::in_syscall || call->number != SYS_ptrace) return;
        auto listed = dir.task_ids();
        if (!listed) return;
        for (pid_t tid : *listed) {
            auto st = procfs::read_status(dir, tid);
            if (tid == pid || !st || st->state != 'Z' || st->tracer_pid != tracer.tid()) continue;
            siginfo_t info{};
            if (::waitid(P_PID, static_cast<id_t>(tid), &info, WEXITED | WNOHANG | __WALL) == 0 && info.si_pid == tid) {
                std::lock_guard lock{reaped_mutex};
                reaped_elsewhere.push_back(tid);
            }
        }
    }

    [[nodiscard]] static std::unexpected<error> already_traced(pid_t pid, pid_t tid, pid_t tracer_tid) {
        return fail(errc::already_traced, thread_context(pid, tid),
                    describe_process(tracer_tid) + " is already tracing it; a process has one tracer at a time: "
                    "detach that one (or end it) first");
    }

    // After an exec by a thread we had not seized, the leader's tid belongs
    // to that thread, which is not ours: forget the old leader's entry. (A
    // leader that exited, a zombie while other threads run, is not held.)
    bool leader_is_ours() {
        auto st = procfs::read_status(dir, pid);
        if (!st || st->state == 'Z' || st->state == 'X' || st->tracer_pid == tracer.tid()) return true;
        forget(pid);
        return false;
    }

    // Rounds of: list /proc/PID/task, seize and interrupt the threads not
    // seen before, wait until every seized thread has stopped. Settled when
    // a listing made while every known thread was stopped shows no new
    // thread (a listing taken while threads exit can end early, so only one
    // taken with everything we hold frozen is trusted).
    result<void> seize_all(clock::time_point deadline) {
        bool settled = false;
        for (unsigned round = 0; round < std::max(2u, options.max_rounds) && !settled; ++round) {
            auto listed = dir.task_ids();
            if (!listed) {
                if (held.empty() && awaiting.empty()) return fail(std::move(listed.error()));
                break;  // the process is exiting; the checks below tell
            }
            settled = round > 0;
            for (pid_t tid : *listed) {
                if (known(tid) || std::find(gone.begin(), gone.end(), tid) != gone.end()) continue;
                settled = false;
                if (!TRIAGE_TRY(seize_one(tid))) gone.push_back(tid);
                if (exec_under_us) return exec_error();
            }
            TRIAGE_TRY(wait_for_stops(deadline));
            if (settled && !leader_is_ours()) settled = false;
        }
        if (!settled && dir.alive())
            return fail(errc::limit_exceeded, "attaching to " + describe_process(pid),
                        "its thread list did not settle after " + std::to_string(options.max_rounds) +
                            " listings; raise attach_options::max_rounds");
        if (held.empty())
            return fail(errc::no_such_process, "attaching to pid " + std::to_string(pid), "every thread exited while we attached");
        sort_threads();
        return {};
    }

    // Interrupts every held thread that runs (inside let_run) and waits for
    // all of them to stop, within the attach budget.
    result<void> stop_running() {
        if (signal_arrived()) return caught_signal_error("stopping " + describe_process(pid) + " again");
        std::erase_if(held, [this](const traced_thread& t) {
            if (t.slot->stopped.load()) return false;
            begin_stop();
            (void)::ptrace(PTRACE_INTERRUPT, t.tid, nullptr, nullptr);  // ESRCH: exiting, waitpid tells
            awaiting.push_back(t);
            return true;
        });
        auto stopped = wait_for_stops(clock::now() + options.stop_timeout);
        sort_threads();
        return stopped;
    }

    // Detaches the stopped threads first, then those that stopped meanwhile;
    // the rest (a thread that never stopped, a dying one) stay for the end
    // of the tracer thread, when the kernel lets them go.
    result<void> release_all() {
        if (released) return {};
        std::optional<error> first_error;
        auto let_go = [&](const traced_thread& t) {
            const int e = t.slot->detach();
            if (e == 0) ++released_threads;
            else if (e != ESRCH && !first_error)
                first_error = error::from_errno(e, "detaching from thread " + std::to_string(t.tid) + " of pid " + std::to_string(pid));
            tracee_registry::unclaim(*t.slot);
        };
        for (int pass = 0; pass < 2; ++pass) {
            for (const traced_thread& t : held) let_go(t);
            held.clear();
            if (pass == 0) drain_reports();
        }
        for (const traced_thread& t : awaiting) tracee_registry::unclaim(*t.slot);
        awaiting.clear();
        threads.clear();
        end_stop();
        released = true;
        if (first_error) return fail(std::move(*first_error));
        return {};
    }

    // The error of a wait that timed out, completed once everything was
    // released: which thread, doing what, and what became of the others.
    [[nodiscard]] error explain(error e) const {
        if (unstoppable.empty()) return e;
        const pid_t first = unstoppable.front();
        std::string who = "thread " + std::to_string(first);
        if (unstoppable.size() > 1) who += " (and " + std::to_string(unstoppable.size() - 1) + " more)";
        const auto held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(stopped_for()).count();
        const std::string others = released_threads == 1
            ? "the other thread was"
            : "the other " + std::to_string(released_threads) + " threads were";
        e.hint = who + " " + unstoppable_state + " and could not be stopped within " +
                 std::to_string(options.stop_timeout.count()) + " ms; " + others + " released after " +
                 std::to_string(held_ms) + " ms, and " + who +
                 ", never stopped, runs on when it wakes; reads that need no stop still work (a nonblocking "
                 "Python snapshot such as triage-pystack --nonblocking, /proc, memory), or try again later";
        return e;
    }
};
} // namespace detail

class session;
class forked_copy;
struct fork_options;
[[nodiscard]] TRIAGE_DECL result<forked_copy> fork_copy(const session& s, const fork_options& options);
[[nodiscard]] TRIAGE_DECL result<std::chrono::nanoseconds> reap_dead_copy(pid_t target, pid_t copy,
                                                                         std::chrono::milliseconds stop_timeout);

class session {
public:
    class run_control;

    [[nodiscard]] static result<session> attach(pid_t pid, attach_options options = {}) {
        if (pid <= 0) return fail(errc::invalid_argument, "attaching to pid " + std::to_string(pid), "a pid is a positive number");
        procfs::proc_dir dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
        auto status = procfs::read_status(dir);
        if (!status) return fail(std::move(status.error()).within("attaching to pid " + std::to_string(pid)));
        if (status->tgid != pid)
            return fail(errc::invalid_argument, "attaching to pid " + std::to_string(pid),
                        "it is a thread of pid " + std::to_string(status->tgid) + "; attach to the process");
        if (status->tracer_pid != 0) return detail::session_core::already_traced(pid, pid, status->tracer_pid);

        // An exec that PTRACE_SEIZE had to wait for (see reap_for_exec)
        // leaves that tracer thread's tracees unreliable: such an attempt
        // is let go, and the attach starts over with a new tracer thread,
        // within the same budget.
        const auto deadline = std::chrono::steady_clock::now() + options.stop_timeout;
        session s;
        for (;;) {
            std::shared_ptr<detail::session_core> previous = std::move(s.core_);
            try {
                s.core_ = std::make_shared<detail::session_core>(pid, std::move(previous ? previous->dir : dir), options);
            } catch (const std::system_error& e) {
                return fail(errc::system, "attaching to " + detail::describe_process(pid),
                            std::string{"cannot start a tracer thread: "} + e.what());
            }
            detail::session_core& core = *s.core_;
            if (previous) {  // the earlier attempts stopped the target too
                core.stopped_before = previous->stopped_before;
                core.stops = previous->stops;
                previous.reset();
            }
            result<void> attached;
            core.tracer.run(
                [&] {
                    attached = core.seize_all(deadline);
                    if (!attached) (void)core.release_all();
                },
                [&] { core.reap_for_exec(); });
            if (attached) return s;
            core.tracer.end();
            if (!core.exec_under_us || std::chrono::steady_clock::now() >= deadline)
                return fail(core.explain(std::move(attached.error())));
        }
    }

    session(session&& other) noexcept = default;
    session& operator=(session&& other) noexcept {
        if (this != &other) {
            (void)release();
            core_ = std::move(other.core_);
        }
        return *this;
    }
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    ~session() { (void)release(); }

    [[nodiscard]] pid_t pid() const noexcept { return core_ ? core_->pid : 0; }
    // Every stopped thread, sorted (empty after release()).
    [[nodiscard]] const std::vector<pid_t>& threads() const noexcept {
        static const std::vector<pid_t> none;
        return core_ ? core_->threads : none;
    }
    // The thread of ours that makes every ptrace request (TracerPid in the
    // target's /proc/PID/status); 0 once released.
    [[nodiscard]] pid_t tracer_tid() const noexcept { return core_ && core_->tracer.running() && !core_->released ? core_->tracer.tid() : 0; }
    // The threads are ours and stopped: not released, not let go because
    // our process caught a guarded signal.
    [[nodiscard]] bool held() const noexcept { return core_ && !core_->released && !core_->signal_arrived(); }

    [[nodiscard]] result<thread_registers> registers(pid_t tid) const {
        std::string context = "reading registers of thread " + std::to_string(tid) + " of pid " + std::to_string(pid());
        if (!held()) return not_held(std::move(context));
        if (!std::binary_search(core_->threads.begin(), core_->threads.end(), tid))
            return fail(errc::invalid_argument, context, "it is not a stopped thread of this session");
        return on_tracer([&]() -> result<thread_registers> {
            if (core_->signal_arrived()) return not_held(context);
            return read_registers(tid);
        });
    }

    // Every held thread's general registers (PTRACE_GETREGS alone: no FP or
    // vector state), in threads() order, in one trip to the tracer thread.
    [[nodiscard]] result<std::vector<std::pair<pid_t, user_regs_struct>>> general_registers() const {
        std::string context = "reading the registers of the threads of pid " + std::to_string(pid());
        if (!held()) return not_held(std::move(context));
        return on_tracer([&]() -> result<std::vector<std::pair<pid_t, user_regs_struct>>> {
            if (core_->signal_arrived()) return not_held(context);
            std::vector<std::pair<pid_t, user_regs_struct>> out;
            out.reserve(core_->threads.size());
            for (pid_t tid : core_->threads) {
                user_regs_struct regs{};
                if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0)
                    return fail_errno(errno, "reading the registers of thread " + std::to_string(tid) + " of pid " +
                                                 std::to_string(pid()));
                out.emplace_back(tid, regs);
            }
            return out;
        });
    }

    // How long the target was stopped (CLOCK_MONOTONIC, summed over stops;
    // up to now while held).
    [[nodiscard]] std::chrono::nanoseconds stopped_for() const noexcept {
        return core_ ? core_->stopped_for() : std::chrono::nanoseconds{0};
    }
    // How many times the session took the target from running to stopped.
    [[nodiscard]] unsigned stops() const noexcept { return core_ ? core_->stops : 0; }

    // Lets the threads run under `body`'s control, then stops them again.
    // `body(run_control&)` runs on the tracer thread with every thread
    // stopped; it resumes them (run_control::resume_all, resume) and waits
    // for their reports itself (waitpid(-1, ..., __WALL | __WNOTHREAD) sees
    // exactly this session's threads), and it reports the threads it saw
    // start (adopt) and exit (exited). When it returns, every thread that
    // runs is interrupted and waited for, within `stop_timeout`; the session
    // holds them all again (threads() includes those born meanwhile). If
    // that stop cannot complete, or our process caught a guarded signal,
    // everything is released and the error says why (as for attach).
    // An exception from `body` is rethrown once the threads are stopped.
    template <class Body>
    result<void> let_run(Body&& body);

    // Detaches (resumes) every thread, re-injecting signals they had
    // dequeued, then ends the tracer thread (unless a forked_copy of this
    // session still lives: see the top). Idempotent. Threads that exited
    // meanwhile are not an error.
    result<void> release() {
        if (!core_) return {};
        if (core_->tracer.is_current())
            return fail(errc::invalid_argument, "releasing pid " + std::to_string(core_->pid),
                        "release() cannot run on the session's own tracer thread (inside let_run)");
        if (!core_->tracer.running()) return {};
        result<void> out;
        core_->tracer.run([&] { out = core_->release_all(); });
        // A forked_copy still alive keeps the tracer thread: its end would
        // kill the copy. The copy's own end ends it.
        if (core_.use_count() == 1) core_->tracer.end();
        return out;
    }

private:
    session() = default;

    template <class F>
    auto on_tracer(F&& f) const -> std::invoke_result_t<F&> {
        std::optional<std::invoke_result_t<F&>> out;
        core_->tracer.run([&] { out.emplace(f()); });
        return std::move(*out);
    }

    [[nodiscard]] std::unexpected<error> not_held(std::string context) const {
        if (core_ && !core_->released && core_->signal_arrived()) return core_->caught_signal_error(std::move(context));
        return fail(errc::invalid_argument, std::move(context), "the session was released");
    }

    friend result<forked_copy> fork_copy(const session& s, const fork_options& options);
    friend result<std::chrono::nanoseconds> reap_dead_copy(pid_t target, pid_t copy, std::chrono::milliseconds stop_timeout);
    friend class forked_copy;

    std::shared_ptr<detail::session_core> core_;
};

// What the body of session::let_run may do; every call is made on the
// tracer thread, from the body.
class session::run_control {
public:
    // The session's threads: all stopped when the body starts.
    [[nodiscard]] const std::vector<traced_thread>& threads() const noexcept { return core_.held; }

    // Resumes every thread with `request` (PTRACE_SYSCALL, PTRACE_CONT),
    // each with the signal it had dequeued; a thread in group-stop is
    // resumed with PTRACE_LISTEN (it stays stopped, as the user wanted).
    // From here the target runs: the session's stop ends.
    void resume_all(int request) noexcept {
        for (const traced_thread& t : core_.held)
            resume(t, t.slot->group_stop.load() ? PTRACE_LISTEN : request, t.slot->pending_signal.exchange(0));
        core_.end_stop();
    }

    // Resumes one thread with `request` (PTRACE_SYSCALL, PTRACE_CONT,
    // PTRACE_LISTEN) and `signal`. False if it is gone.
    bool resume(const traced_thread& t, int request, int signal = 0) noexcept {
        t.slot->stopped.store(false);
        return ::ptrace(static_cast<__ptrace_request>(request), t.tid, nullptr,
                        reinterpret_cast<void*>(static_cast<long>(signal))) == 0;
    }

    // The body saw `t` stop (a waitpid report): until it resumes it, our
    // signal handler may detach it.
    void stopped(const traced_thread& t) noexcept { t.slot->stopped.store(true); }

    // A thread the kernel attached to us (its parent's PTRACE_EVENT_CLONE,
    // or its own first stop) joins the session; it runs until it stops.
    traced_thread adopt(pid_t tid) { return core_.adopt(tid, core_.held); }

    // The body reaped `tid` (it exited, or an exec took its tid away).
    void exited(pid_t tid) noexcept { core_.forget(tid); }

    // Our process caught a guarded signal: end the body now.
    [[nodiscard]] bool signalled() const noexcept { return core_.signal_arrived(); }

private:
    friend class session;
    explicit run_control(detail::session_core& core) noexcept : core_{core} {}
    detail::session_core& core_;
};

template <class Body>
result<void> session::let_run(Body&& body) {
    std::string context = "letting " + detail::describe_process(pid()) + " run";
    if (!held()) return not_held(std::move(context));
    detail::session_core& core = *core_;
    result<void> out;
    std::exception_ptr thrown;
    core.tracer.run([&] {
        run_control control{core};
        try {
            body(control);
        } catch (...) {
            thrown = std::current_exception();
        }
        out = core.stop_running();
        if (!out) (void)core.release_all();
    });
    if (!out) core.tracer.end();
    if (thrown) std::rethrow_exception(thrown);
    if (!out) return fail(core.explain(std::move(out.error()).within(context)));
    return out;
}

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/session.ipp"
#endif
