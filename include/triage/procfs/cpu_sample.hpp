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
// `wait_for_window(before, window[, stop_requested])`, which sleeps until
// `window` after `before` began (on CLOCK_MONOTONIC, like the samples), on
// `sleep_until(when[, stop_requested])`: both return false, early, when a
// signal handler ran and `stop_requested` then says stop (Ctrl+C must not
// wait for the end of a long window).
// `sample_threads(dir, tids)` samples only the named threads, read by id
// (for threads known by other means, e.g. a Python snapshot, that a listing
// of /proc/PID/task missed).
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

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/stat.hpp"

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
[[nodiscard]] TRIAGE_DECL long clock_ticks_per_second() noexcept;

namespace detail {
[[nodiscard]] TRIAGE_DECL std::chrono::nanoseconds clock_now(clockid_t clock) noexcept;

[[nodiscard]] TRIAGE_DECL std::optional<double> percent_of(std::chrono::nanoseconds run, std::chrono::nanoseconds interval);
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<cpu_sample> sample_cpu(const proc_dir& dir);

[[nodiscard]] TRIAGE_DECL result<cpu_sample> sample_cpu(pid_t pid);

// Threads of `tids` that are gone count as vanished.
[[nodiscard]] TRIAGE_DECL result<cpu_sample> sample_threads(const proc_dir& dir, std::span<const pid_t> tids);

[[nodiscard]] TRIAGE_DECL std::vector<thread_cpu> cpu_usage(const cpu_sample& before, const cpu_sample& after,
                                                            long ticks_per_second = clock_ticks_per_second());

// Sleeps until `window` has passed since `before` began (at once if it has).
TRIAGE_DECL bool sleep_until(std::chrono::nanoseconds when, const std::function<bool()>& stop_requested = {}) noexcept;
TRIAGE_DECL bool wait_for_window(const cpu_sample& before, std::chrono::nanoseconds window,
                                 const std::function<bool()>& stop_requested = {}) noexcept;

// The sum over threads that have a percentage (the process's CPU%).
[[nodiscard]] TRIAGE_DECL double total_cpu_percent(const std::vector<thread_cpu>& threads) noexcept;

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/cpu_sample.ipp"
#endif
