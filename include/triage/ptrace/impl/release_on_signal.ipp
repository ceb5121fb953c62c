// triage/ptrace/impl/release_on_signal.ipp — the definitions of
// triage/ptrace/release_on_signal.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/ptrace/release_on_signal.hpp"

namespace triage::ptrace::detail {

TRIAGE_DECL guard_state& guards() noexcept { return guard_state_instance; }

[[nodiscard]] TRIAGE_DECL timespec to_timespec(std::chrono::nanoseconds limit) noexcept {
    return {static_cast<time_t>(limit.count() / 1'000'000'000), static_cast<long>(limit.count() % 1'000'000'000)};
}

TRIAGE_DECL void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::chrono::nanoseconds limit) noexcept {
    timespec ts = to_timespec(limit);
    (void)::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

TRIAGE_DECL void futex_wake(std::atomic<std::uint32_t>& word) noexcept {
    (void)::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

TRIAGE_DECL void ring_bell() noexcept {
    guards().bell.fetch_add(1);
    futex_wake(guards().bell);
}

TRIAGE_DECL void let_go_of_stopped_tracees() noexcept {
    const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
    tracee_registry::for_each([self](tracee_slot& slot) {
        if (slot.tracer.load() == self && slot.stopped.load()) (void)slot.detach();
    });
}

TRIAGE_DECL bool others_hold_stopped_tracees() noexcept {
    const pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
    bool held = false;
    tracee_registry::for_each([&](tracee_slot& slot) {
        if (slot.tracer.load() != self && slot.stopped.load()) held = true;
    });
    return held;
}

TRIAGE_DECL void on_guarded_signal(int signal) noexcept {
    int saved_errno = errno;
    guard_state& g = guards();
    let_go_of_stopped_tracees();
    g.caught.store(signal);
    g.count.fetch_add(1);
    ring_bell();
    for (int waited_ms = 0; waited_ms < 250 && others_hold_stopped_tracees(); ++waited_ms) {
        timespec one_ms{0, 1'000'000};
        ::nanosleep(&one_ms, nullptr);
    }
    if (signal > 0 && signal < NSIG && g.installed[signal].exchange(false))
        ::sigaction(signal, &g.previous[signal], nullptr);
    errno = saved_errno;
    ::raise(signal);  // blocked until we return; then the old disposition acts
}

} // namespace triage::ptrace::detail

namespace triage::ptrace {

[[nodiscard]] TRIAGE_DECL int caught_signal() noexcept { return detail::guards().caught.load(); }

[[nodiscard]] TRIAGE_DECL std::uint64_t caught_signals() noexcept { return detail::guards().count.load(); }

} // namespace triage::ptrace
