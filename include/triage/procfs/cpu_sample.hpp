// triage/procfs/cpu_sample.hpp — per-thread CPU usage from two samples.
//
// Offers: `sample_cpu(pid)` / `sample_cpu(dir)` → `cpu_sample` (the stat
// record of every thread plus CLOCK_MONOTONIC and CLOCK_BOOTTIME at the
// sweep), and `cpu_usage(before, after)` → one `thread_cpu` per thread of
// `after`: CPU% = Δ(utime+stime) / sysconf(_SC_CLK_TCK) / Δmonotonic × 100,
// so 100% is one core busy for the whole window (a process can exceed 100).
// Threads in only one sample:
//   - gone by `after`: dropped;
//   - new in `after` and started inside the window (their starttime, on the
//     boot clock, is not before `before`): measured from 0 ticks, over the
//     whole window;
//   - new in `after` but older than the window (the first sweep missed it,
//     or the tid was reused): reported with no percentage (nullopt).
// A tid whose starttime changed between samples is a new thread.
// Errors: sample_cpu returns no_such_process / permission_denied for the
// process; threads that vanish mid-sweep are skipped.
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only.
//
//   auto dir = TRIAGE_TRY(triage::procfs::proc_dir::open(pid));
//   auto before = TRIAGE_TRY(triage::procfs::sample_cpu(dir));
//   std::this_thread::sleep_for(std::chrono::milliseconds{500});
//   auto after = TRIAGE_TRY(triage::procfs::sample_cpu(dir));
//   for (const auto& t : triage::procfs::cpu_usage(before, after)) ...
#pragma once

#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/tasks.hpp"

namespace triage::procfs {

struct cpu_sample {
    pid_t pid = 0;
    std::chrono::nanoseconds monotonic{0};  // CLOCK_MONOTONIC, middle of the sweep
    std::chrono::nanoseconds boottime{0};   // CLOCK_BOOTTIME, same moment (the clock of starttime)
    std::vector<task_stat> threads;         // sorted by tid
    std::size_t vanished = 0;               // threads listed but gone before their stat was read
};

struct thread_cpu {
    task_stat stat;                     // from the later sample
    std::optional<double> cpu_percent;  // nullopt: no baseline for this thread
    std::uint64_t ticks = 0;            // CPU clock ticks used inside the window
};

// sysconf(_SC_CLK_TCK): the unit of utime, stime and starttime (100 on Linux).
[[nodiscard]] inline long clock_ticks_per_second() noexcept {
    long hz = ::sysconf(_SC_CLK_TCK);
    return hz > 0 ? hz : 100;
}

namespace detail {
[[nodiscard]] inline std::chrono::nanoseconds clock_now(clockid_t clock) noexcept {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
}
} // namespace detail

[[nodiscard]] inline result<cpu_sample> sample_cpu(const proc_dir& dir) {
    cpu_sample sample;
    sample.pid = dir.pid();
    auto mono_start = detail::clock_now(CLOCK_MONOTONIC);
    auto boot_start = detail::clock_now(CLOCK_BOOTTIME);
    stat_view threads = TRIAGE_TRY(tasks(dir));
    sample.threads.reserve(threads.listed());
    for (const task_stat& t : threads) sample.threads.push_back(t);
    if (sample.threads.empty() && threads.first_error()) return fail(*threads.first_error());
    if (sample.threads.empty()) return fail(errc::no_such_process, "sampling " + dir.path(whole_process, "task"));
    sample.vanished = threads.vanished();
    sample.monotonic = mono_start + (detail::clock_now(CLOCK_MONOTONIC) - mono_start) / 2;
    sample.boottime = boot_start + (detail::clock_now(CLOCK_BOOTTIME) - boot_start) / 2;
    return sample;
}

[[nodiscard]] inline result<cpu_sample> sample_cpu(pid_t pid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return sample_cpu(dir);
}

[[nodiscard]] inline std::vector<thread_cpu> cpu_usage(const cpu_sample& before, const cpu_sample& after,
                                                       long ticks_per_second = clock_ticks_per_second()) {
    using std::chrono::duration;
    const double window_seconds = duration<double>(after.monotonic - before.monotonic).count();
    const double hz = static_cast<double>(ticks_per_second);
    // starttime is in whole ticks: a thread started within one tick before
    // `before` may read as slightly older; accept it as new.
    const double before_boot_ticks = duration<double>(before.boottime).count() * hz - 1.0;
    auto percent = [&](std::uint64_t ticks) -> std::optional<double> {
        if (window_seconds <= 0) return std::nullopt;
        return static_cast<double>(ticks) / hz / window_seconds * 100.0;
    };

    std::vector<thread_cpu> out;
    out.reserve(after.threads.size());
    for (const task_stat& now : after.threads) {
        auto it = std::lower_bound(before.threads.begin(), before.threads.end(), now.tid,
                                   [](const task_stat& t, pid_t tid) { return t.tid < tid; });
        thread_cpu row{now, std::nullopt, 0};
        if (it != before.threads.end() && it->tid == now.tid && it->starttime == now.starttime) {
            row.ticks = now.cpu_ticks() >= it->cpu_ticks() ? now.cpu_ticks() - it->cpu_ticks() : 0;
            row.cpu_percent = percent(row.ticks);
        } else if (static_cast<double>(now.starttime) >= before_boot_ticks) {
            row.ticks = now.cpu_ticks();
            row.cpu_percent = percent(row.ticks);
        }
        out.push_back(row);
    }
    return out;
}

// The sum over threads that have a percentage (the process's CPU%).
[[nodiscard]] inline double total_cpu_percent(const std::vector<thread_cpu>& threads) noexcept {
    double total = 0;
    for (const auto& t : threads) total += t.cpu_percent.value_or(0.0);
    return total;
}

} // namespace triage::procfs
