// An oracle for CPU use that does not go through /proc: the kernel's
// per-process CPU clock (clock_getcpuclockid), in nanoseconds.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace triage_test {

// CPU time used so far by every thread of `pid`, in seconds.
inline double process_cpu_seconds(pid_t pid) {
    clockid_t clock{};
    timespec ts{};
    if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &ts) != 0)
        throw std::runtime_error("no CPU clock for the victim");
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The share of one core `pid` used over `window`, in percent: what this
// machine gives a spinning thread right now (less than 100 when it is
// loaded by other work).
inline double process_cpu_percent(pid_t pid, std::chrono::milliseconds window) {
    double before = process_cpu_seconds(pid);
    auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(window);
    double used = process_cpu_seconds(pid) - before;
    return 100.0 * used / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace triage_test
