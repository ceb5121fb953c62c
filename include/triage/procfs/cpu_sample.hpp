// triage/procfs/cpu_sample.hpp — per-thread CPU use from two samples: the
// one CPU sampler of triage.
//
// Offers: `sample_cpu(dir)` / `sample_cpu(pid)` → `cpu_sample`: for every
// thread its stat record, its run time in nanoseconds (schedstat.hpp) and
// the CLOCK_MONOTONIC time taken right after that thread's run time was
// read; `cpu_usage(before, after)` → one `thread_cpu` per thread of `after`:
//   CPU% = Δrun time / Δ(that thread's own timestamps) × 100,
// so 100% is one core busy for the whole window, and a sweep over many
// threads does not stretch or shrink any thread's window. Then
// `total_cpu_percent` (the process: can exceed 100), and
// `wait_for_window(before, window)`, which sleeps until `window` after
// `before` began (on CLOCK_MONOTONIC, like the samples).
// Accuracy: the kernel brings a running thread's run time up to date only at
// scheduler ticks and context switches, so each reading is up to one tick
// (1/CONFIG_HZ: 4 ms at the usual 250 Hz) behind, and a percentage is off by
// at most one tick over the window (±40% for a 10 ms window, ±2% for
// 200 ms). A reading above 100% is that error, never real for one thread:
// `cpu_percent` is clamped to [0, 100]; `run_time` and `interval` keep the
// raw numbers.
// Threads in only one sample:
//   - gone by `after`: dropped;
//   - new in `after` (or a tid whose starttime changed: a reused tid) and
//     started inside the window: measured from its start (stat's starttime,
//     on the boot clock, in 10 ms clock ticks: the interval is rounded up,
//     so the percentage is never overstated for it);
//   - new in `after` but older than the window (the first sweep missed
//     it): nullopt.
// Errors: sample_cpu returns no_such_process / permission_denied for the
// process, not_found on a kernel without schedstat files; threads that
// vanish mid-sweep are skipped.
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only
// (stat and schedstat of each thread).
//
//   auto dir = TRIAGE_TRY(triage::procfs::proc_dir::open(pid));
//   auto before = TRIAGE_TRY(triage::procfs::sample_cpu(dir));
//   triage::procfs::wait_for_window(before, std::chrono::milliseconds{200});
//   auto after = TRIAGE_TRY(triage::procfs::sample_cpu(dir));
//   for (const auto& t : triage::procfs::cpu_usage(before, after)) ...
#pragma once

#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/tasks.hpp"

namespace triage::procfs {

struct thread_sample {
    task_stat stat;
    std::chrono::nanoseconds run_time{0};  // on a CPU since the thread started
    std::chrono::nanoseconds at{0};        // CLOCK_MONOTONIC right after run_time was read
};

struct cpu_sample {
    pid_t pid = 0;
    std::chrono::nanoseconds started{0};      // CLOCK_MONOTONIC as the sweep began
    std::chrono::nanoseconds boot_offset{0};  // CLOCK_BOOTTIME − CLOCK_MONOTONIC (starttime's clock)
    std::vector<thread_sample> threads;       // sorted by tid
    std::size_t vanished = 0;                 // threads listed but gone before they were read
};

struct thread_cpu {
    task_stat stat;                          // from the later sample
    std::optional<double> cpu_percent;       // of one core, 0–100; nullopt: no baseline
    std::chrono::nanoseconds run_time{0};    // on a CPU within `interval`
    std::chrono::nanoseconds interval{0};    // what this thread was measured over
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

[[nodiscard]] inline std::optional<double> percent_of(std::chrono::nanoseconds run, std::chrono::nanoseconds interval) {
    if (interval.count() <= 0) return std::nullopt;
    double p = 100.0 * static_cast<double>(run.count()) / static_cast<double>(interval.count());
    return std::clamp(p, 0.0, 100.0);
}
} // namespace detail

[[nodiscard]] inline result<cpu_sample> sample_cpu(const proc_dir& dir) {
    cpu_sample sample;
    sample.pid = dir.pid();
    sample.started = detail::clock_now(CLOCK_MONOTONIC);
    sample.boot_offset = detail::clock_now(CLOCK_BOOTTIME) - detail::clock_now(CLOCK_MONOTONIC);
    stat_view threads = TRIAGE_TRY(tasks(dir));
    sample.threads.reserve(threads.listed());
    std::optional<error> first_error;
    for (const task_stat& t : threads) {
        auto s = read_schedstat(dir, t.tid);
        const auto at = detail::clock_now(CLOCK_MONOTONIC);
        if (s) {
            sample.threads.push_back({t, s->run_time, at});
        } else if (s.error().code == errc::no_such_process) {
            ++sample.vanished;
        } else if (!first_error) {
            first_error = std::move(s.error());
        }
    }
    sample.vanished += threads.vanished();
    if (!first_error) first_error = threads.first_error();
    if (sample.threads.empty() && first_error) return fail(std::move(*first_error));
    if (sample.threads.empty()) return fail(errc::no_such_process, "sampling " + dir.path(whole_process, "task"));
    return sample;
}

[[nodiscard]] inline result<cpu_sample> sample_cpu(pid_t pid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return sample_cpu(dir);
}

[[nodiscard]] inline std::vector<thread_cpu> cpu_usage(const cpu_sample& before, const cpu_sample& after,
                                                       long ticks_per_second = clock_ticks_per_second()) {
    using std::chrono::nanoseconds;
    const nanoseconds tick{1'000'000'000 / std::max(ticks_per_second, 1L)};
    std::vector<thread_cpu> out;
    out.reserve(after.threads.size());
    for (const thread_sample& now : after.threads) {
        auto it = std::lower_bound(before.threads.begin(), before.threads.end(), now.stat.tid,
                                   [](const thread_sample& t, pid_t tid) { return t.stat.tid < tid; });
        thread_cpu row{now.stat, std::nullopt, {}, {}};
        if (it != before.threads.end() && it->stat.tid == now.stat.tid && it->stat.starttime == now.stat.starttime) {
            row.run_time = std::max(now.run_time - it->run_time, nanoseconds{0});
            row.interval = now.at - it->at;
        } else {
            // Its start on the monotonic clock, rounded down to a tick; one
            // that rounds to before the window began by less than a tick may
            // have started inside it.
            const nanoseconds start = tick * static_cast<std::int64_t>(now.stat.starttime) - after.boot_offset;
            if (start + tick <= before.started) {
                out.push_back(row);
                continue;
            }
            row.run_time = now.run_time;
            row.interval = now.at - start;
        }
        row.cpu_percent = detail::percent_of(row.run_time, row.interval);
        out.push_back(row);
    }
    return out;
}

// Sleeps until `window` has passed since `before` began (at once if it has).
inline void wait_for_window(const cpu_sample& before, std::chrono::nanoseconds window) {
    const std::chrono::nanoseconds end = before.started + window;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(end);
    const timespec until{static_cast<time_t>(seconds.count()), static_cast<long>((end - seconds).count())};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
    }
}

// The sum over threads that have a percentage (the process's CPU%).
[[nodiscard]] inline double total_cpu_percent(const std::vector<thread_cpu>& threads) noexcept {
    double total = 0;
    for (const auto& t : threads) total += t.cpu_percent.value_or(0.0);
    return total;
}

} // namespace triage::procfs
