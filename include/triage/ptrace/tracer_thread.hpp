// triage/ptrace/tracer_thread.hpp — the thread of ours that makes every
// ptrace request of one session, and whose end lets go of whatever it still
// traces.
//
// Offers: `tracer_thread` (used by ptrace::session; public so that its
// guarantee can be read and tested): `run(f)` runs `f` on the thread and
// waits for it (an exception `f` throws is rethrown in the caller), and
// `run(f, stalled)` calls `stalled()` on the caller's thread every 2 ms
// while it waits;
// `tid()`; `end()` (also the destructor) ends the thread and returns once
// the kernel has dropped it.
//
// Why a thread of its own: ptrace ties a tracee to the one thread that
// seized it, and a seized thread that never stops — one in uninterruptible
// sleep (state D: a vfork() waiting for its child, a wait on a disk or a
// hung NFS server) — can neither be detached (PTRACE_DETACH needs a
// ptrace-stop) nor told to forget our PTRACE_INTERRUPT: when it leaves D it
// stops, and stays stopped until its tracer thread detaches it. The one
// thing that always lets it go is the end of its tracer thread: the kernel
// then detaches every tracee that thread still has (exit_ptrace), cancels
// their pending interrupts, lets a stopped one run on with the signal it had
// dequeued, and reaps the dead ones (which its parent could not reap while
// we traced them). A session's tracer thread ends when the session is
// released, so no thread of the target depends on our process living on.
//
// Signals: the thread blocks every signal (a signal for our process is taken
// by another thread, whose handler asks this one to let go: see
// ptrace/release_on_signal.hpp); it sleeps on the guards' bell when idle and
// detaches its stopped tracees when woken after a guarded signal.
// Errors: the constructor throws std::system_error when no thread can be
// started (ptrace::session turns that into an error value).
// Thread-safe: `run` may be called from any thread, one call at a time
// (serialised by a mutex); `run` from the tracer thread itself runs `f`
// directly. Not signal-safe; not usable in the child of a fork().
// Target process: none by itself; see ptrace/session.hpp.
//
//   triage::ptrace::tracer_thread tracer;
//   long seized = 0;
//   tracer.run([&] { seized = ::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr); });
//   tracer.end();  // tid is let go by the kernel, stopped or not
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>

#include "triage/base/config.hpp"
#include "triage/ptrace/release_on_signal.hpp"

namespace triage::ptrace {

namespace detail {
[[nodiscard]] TRIAGE_DECL pid_t current_tid() noexcept;
} // namespace detail

class tracer_thread {
public:
    tracer_thread() : signals_seen_{caught_signals()} {
        sigset_t all{};
        sigset_t previous{};
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);  // the new thread inherits the mask
        try {
            thread_ = std::thread([this] { loop(); });
        } catch (...) {
            pthread_sigmask(SIG_SETMASK, &previous, nullptr);
            throw;
        }
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        run([this] { tid_ = detail::current_tid(); });
    }
    tracer_thread(const tracer_thread&) = delete;
    tracer_thread& operator=(const tracer_thread&) = delete;
    ~tracer_thread() { end(); }

    // The thread's id (our process's, as /proc/PID/status TracerPid shows it).
    [[nodiscard]] pid_t tid() const noexcept { return tid_; }
    [[nodiscard]] bool is_current() const noexcept { return detail::current_tid() == tid_; }
    [[nodiscard]] bool running() const noexcept { return thread_.joinable(); }

    // Runs `f()` on the tracer thread and waits for it to return.
    template <class F>
    void run(F&& f) {
        run(std::forward<F>(f), [] {});
    }

    // The same; while `f` runs longer than a slice (2 ms), the calling thread
    // calls `stalled()` once per slice (to help from outside a tracer thread
    // that the kernel blocks: see ptrace::session).
    template <class F, class Stalled>
    void run(F&& f, Stalled&& stalled) {
        if (is_current()) {
            f();
            return;
        }
        std::lock_guard lock{callers_};
        task_ = [](void* callable) { (*static_cast<std::remove_reference_t<F>*>(callable))(); };
        task_argument_ = &f;
        posted_.store(1, std::memory_order_release);
        detail::ring_bell();
        for (bool first = true; posted_.load(std::memory_order_acquire) != 0; first = false) {
            if (!first) stalled();
            detail::futex_wait(posted_, 1, std::chrono::milliseconds{2});
        }
        if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    }

    // Ends the thread; returns once the kernel has let go of its tracees
    // (waiting up to 1 s for that). Idempotent. Not from the thread itself.
    void end() noexcept {
        if (!thread_.joinable() || is_current()) return;
        ending_.store(true);
        detail::ring_bell();
        thread_.join();
        // join() returns when the thread released its stack, a little before
        // the kernel runs exit_ptrace() for it; the thread id disappears after.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{1};
        while (::syscall(SYS_tgkill, ::getpid(), tid_, 0) == 0 && std::chrono::steady_clock::now() < deadline)
            ::usleep(50);
    }

private:
    void loop() noexcept {
        for (;;) {
            const std::uint32_t rung = detail::guards().bell.load();
            if (posted_.load(std::memory_order_acquire) == 1) {
                try {
                    task_(task_argument_);
                } catch (...) {
                    failure_ = std::current_exception();
                }
                posted_.store(0, std::memory_order_release);
                detail::futex_wake(posted_);
                continue;
            }
            if (ending_.load()) return;
            if (caught_signals() != signals_seen_) {
                signals_seen_ = caught_signals();
                detail::let_go_of_stopped_tracees();
            }
            detail::futex_wait(detail::guards().bell, rung, std::chrono::seconds{1});
        }
    }

    std::mutex callers_;
    std::atomic<std::uint32_t> posted_{0};  // 1 while a task waits to be run or runs
    void (*task_)(void*) = nullptr;
    void* task_argument_ = nullptr;
    std::exception_ptr failure_;
    std::atomic<bool> ending_{false};
    std::uint64_t signals_seen_ = 0;
    pid_t tid_ = 0;
    std::thread thread_;  // last: starts once everything above is in place
};

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/tracer_thread.ipp"
#endif
