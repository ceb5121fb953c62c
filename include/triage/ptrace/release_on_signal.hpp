// triage/ptrace/release_on_signal.hpp — let every tracee go when our own
// process is told to stop or crashes.
//
// Offers: the lock-free `tracee_registry` that ptrace::session records each
// seized thread in, and `signal_release_guard`, a reference-counted RAII
// object that installs handlers for SIGINT, SIGTERM, SIGHUP, SIGQUIT
// (requests to stop) and SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL (our own
// crash) while at least one guard lives. Users of the session never touch
// these directly; they are public so that a tool can see what is protected,
// and `caught_signal()` tells a long-running loop that a handler fired.
//
// Who can let a tracee go: only the thread that seized it (ptrace ties a
// tracee to one thread). A session seizes from a tracer thread of its own
// (ptrace/tracer_thread.hpp) that blocks every signal, so the handler
// normally runs on another thread and asks the tracer threads to let go.
// What the handler does, in order, async-signal-safely (no allocation, no
// locks; only ptrace, futex, nanosleep, clock_gettime, sigaction, raise):
//   1. PTRACE_DETACH of every tracee of THIS thread known to be in a
//      ptrace-stop, with the signal it was about to receive, so that the
//      signal is delivered, not lost (this covers our crash on a tracer
//      thread);
//   2. counts the signal (`caught_signal()`, `caught_signals()`) and rings
//      the tracer threads' bell (a futex): each one, idle or between two
//      steps of its work (at most ~1 ms apart), detaches its stopped
//      tracees the same way;
//   3. waits until no tracee of ours is known stopped, at most 250 ms
//      (a tracer thread busy in a caller's own code may not answer: if the
//      signal then ends our process, the kernel detaches every tracee and
//      delivers the signal a stopped one had dequeued);
//   4. restores the disposition that was there before the first guard and
//      re-raises the signal, so the program ends (or its own handler runs)
//      exactly as without triage.
// A signal whose disposition was SIG_IGN when the first guard was made is
// left alone (a `nohup`ed tool keeps ignoring SIGHUP).
// SIGKILL cannot be caught: the kernel then detaches every tracee of the
// dying tracer and resumes it (tests/ptrace checks that the target runs on).
// Limits: a handler that restored its signal stays restored until the last
// guard goes; the handler runs on the faulting stack (use sigaltstack in
// your program if you must survive stack overflow).
// Thread-safe: yes (atomics; install/uninstall under a mutex).
// Target process: the handler detaches (resumes) stopped tracees.
//
//   {
//       triage::ptrace::signal_release_guard guard;   // handlers installed
//       auto& slot = triage::ptrace::tracee_registry::claim(pid, tid);
//       ...                                            // seize, stop, read
//   }                                                  // handlers restored
#pragma once

#include <linux/futex.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <mutex>

#include "triage/base/config.hpp"

namespace triage::ptrace {

// One seized thread, as the signal handler sees it.
struct tracee_slot {
    enum : int { free = 0, attached = 1, released = 2 };
    std::atomic<pid_t> tid{0};          // 0 while the slot is free
    std::atomic<pid_t> pid{0};          // the traced process (tgid)
    std::atomic<pid_t> tracer{0};       // our thread that seized it
    std::atomic<int> pending_signal{0}; // signal to inject when it resumes
    std::atomic<bool> stopped{false};   // known to be in a ptrace-stop
    std::atomic<bool> group_stop{false};  // that stop is a group-stop (resume with PTRACE_LISTEN)
    std::atomic<int> state{free};

    // Detaches once (whoever moves the state from attached wins), injecting
    // the pending signal. Returns 0 or the errno of PTRACE_DETACH. Does
    // nothing (returns 0) when already released. Async-signal-safe.
    int detach() noexcept {
        int expected = attached;
        if (!state.compare_exchange_strong(expected, released)) return 0;
        int signal = pending_signal.exchange(0);
        if (::ptrace(PTRACE_DETACH, tid.load(), nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) == 0)
            return 0;
        int e = errno;
        // Not stopped after all (or not ours): keep it registered as attached
        // so the owner still lets it go, and keep the signal.
        if (signal != 0) pending_signal.store(signal);
        state.store(attached);
        return e;
    }
};

namespace detail {
struct registry_chunk {
    std::array<tracee_slot, 512> slots;
    std::atomic<registry_chunk*> next{nullptr};
};
// Constant-initialised: a handler may walk it before anything was claimed.
inline constinit registry_chunk registry_head{};
} // namespace detail

// Slots for every thread we trace, in chunks linked lock-free; chunks are
// never freed, so the handler can walk them at any moment.
class tracee_registry {
public:
    using chunk = detail::registry_chunk;

    // Takes a free slot for `tid` of `pid`, traced by the calling thread.
    // Never fails (allocates a chunk when all are taken; normal context only).
    [[nodiscard]] static tracee_slot& claim(pid_t pid, pid_t tid) {
        for (chunk* c = &detail::registry_head;; c = c->next.load()) {
            for (tracee_slot& slot : c->slots) {
                pid_t none = 0;
                if (slot.tid.load(std::memory_order_relaxed) == 0 && slot.tid.compare_exchange_strong(none, tid)) {
                    slot.pid.store(pid);
                    slot.tracer.store(static_cast<pid_t>(::syscall(SYS_gettid)));
                    slot.pending_signal.store(0);
                    slot.stopped.store(false);
                    slot.group_stop.store(false);
                    slot.state.store(tracee_slot::attached);
                    return slot;
                }
            }
            if (c->next.load() == nullptr) {
                chunk* fresh = new chunk;
                chunk* expected = nullptr;
                if (!c->next.compare_exchange_strong(expected, fresh)) delete fresh;
            }
        }
    }

    // Returns a slot to the free list (after its tracee was let go).
    static void unclaim(tracee_slot& slot) noexcept {
        slot.state.store(tracee_slot::free);
        slot.stopped.store(false);
        slot.group_stop.store(false);
        slot.pending_signal.store(0);
        slot.tid.store(0);
    }

    // Calls f(slot) for every slot in use. Async-signal-safe if f is.
    template <class F>
    static void for_each(F&& f) noexcept {
        for (chunk* c = &detail::registry_head; c != nullptr; c = c->next.load()) {
            for (tracee_slot& slot : c->slots) {
                if (slot.tid.load() != 0 && slot.state.load() == tracee_slot::attached) f(slot);
            }
        }
    }

};

namespace detail {
inline constexpr std::array<int, 9> guarded_signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
                                                       SIGBUS, SIGABRT, SIGFPE, SIGILL};

struct guard_state {
    std::mutex mutex;
    int users = 0;
    std::array<struct sigaction, NSIG> previous{};
    std::array<std::atomic<bool>, NSIG> installed{};
    std::atomic<int> caught{0};             // the last signal caught
    std::atomic<std::uint64_t> count{0};    // how many were caught
    std::atomic<std::uint32_t> bell{0};     // tracer threads sleep on it (futex)
};

inline constinit guard_state guard_state_instance{};
TRIAGE_DECL guard_state& guards() noexcept;

[[nodiscard]] TRIAGE_DECL timespec to_timespec(std::chrono::nanoseconds limit) noexcept;

// Sleeps while `word` holds `expected`, at most `limit` (or until woken).
// Async-signal-safe.
TRIAGE_DECL void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::chrono::nanoseconds limit) noexcept;

// Wakes every thread sleeping on `word`. Async-signal-safe.
TRIAGE_DECL void futex_wake(std::atomic<std::uint32_t>& word) noexcept;

// Wakes the tracer threads (they look at `caught_signals()` and their work).
TRIAGE_DECL void ring_bell() noexcept;

// Detaches every tracee of the calling thread that is known to be stopped,
// with the signal it had dequeued. Async-signal-safe.
TRIAGE_DECL void let_go_of_stopped_tracees() noexcept;

// True while a tracee of another thread of ours is known to be stopped.
TRIAGE_DECL bool others_hold_stopped_tracees() noexcept;

TRIAGE_DECL void on_guarded_signal(int signal) noexcept;
} // namespace detail

// The last signal a guard's handler caught (0 if none) — lets a loop that
// survives the signal (the program had its own handler) end early.
[[nodiscard]] TRIAGE_DECL int caught_signal() noexcept;

// How many guarded signals the handlers caught so far: a change tells that
// one arrived (whichever it was).
[[nodiscard]] TRIAGE_DECL std::uint64_t caught_signals() noexcept;

class signal_release_guard {
public:
    signal_release_guard() {
        detail::guard_state& g = detail::guards();
        std::lock_guard lock{g.mutex};
        if (g.users++ != 0) return;
        for (int signal : detail::guarded_signals) {
            struct sigaction current {};
            if (::sigaction(signal, nullptr, &current) != 0 || current.sa_handler == SIG_IGN) continue;
            struct sigaction ours {};
            ours.sa_handler = detail::on_guarded_signal;
            ours.sa_flags = SA_RESTART | SA_ONSTACK;
            sigemptyset(&ours.sa_mask);
            g.previous[signal] = current;
            if (::sigaction(signal, &ours, nullptr) == 0) g.installed[signal].store(true);
        }
    }
    signal_release_guard(const signal_release_guard&) = delete;
    signal_release_guard& operator=(const signal_release_guard&) = delete;
    ~signal_release_guard() {
        detail::guard_state& g = detail::guards();
        std::lock_guard lock{g.mutex};
        if (--g.users != 0) return;
        for (int signal : detail::guarded_signals) {
            if (g.installed[signal].exchange(false)) ::sigaction(signal, &g.previous[signal], nullptr);
        }
    }
};

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/release_on_signal.ipp"
#endif
