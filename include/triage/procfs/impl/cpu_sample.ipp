// triage/procfs/impl/cpu_sample.ipp — the definitions of
// triage/procfs/cpu_sample.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <algorithm>
#include <cerrno>

#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/tasks.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL long clock_ticks_per_second() noexcept {
    long hz = ::sysconf(_SC_CLK_TCK);
    return hz > 0 ? hz : 100;
}

} // namespace triage::procfs

namespace triage::procfs::detail {

[[nodiscard]] TRIAGE_DECL std::chrono::nanoseconds clock_now(clockid_t clock) noexcept {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec};
}

[[nodiscard]] TRIAGE_DECL std::optional<double> percent_of(std::chrono::nanoseconds run, std::chrono::nanoseconds interval) {
    if (interval.count() <= 0) return std::nullopt;
    double p = 100.0 * static_cast<double>(run.count()) / static_cast<double>(interval.count());
    return std::clamp(p, 0.0, 100.0);
}

// An empty sample of `dir`'s process, its clocks read now.
[[nodiscard]] TRIAGE_DECL cpu_sample begin_sample(const proc_dir& dir) {
    cpu_sample sample;
    sample.pid = dir.pid();
    sample.started = clock_now(CLOCK_MONOTONIC);
    sample.boot_offset = clock_now(CLOCK_BOOTTIME) - clock_now(CLOCK_MONOTONIC);
    return sample;
}

// Adds the thread of `stat` with its run time read now; a thread that is
// gone counts as vanished, another failure is kept in `first_error`.
TRIAGE_DECL void add_thread(const proc_dir& dir, const task_stat& stat, cpu_sample& sample, std::optional<error>& first_error) {
    auto s = read_schedstat(dir, stat.tid);
    const auto at = clock_now(CLOCK_MONOTONIC);
    if (s) {
        sample.threads.push_back({stat, s->run_time, at});
    } else if (s.error().code == errc::no_such_process) {
        ++sample.vanished;
    } else if (!first_error) {
        first_error = std::move(s.error());
    }
}

} // namespace triage::procfs::detail

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<cpu_sample> sample_cpu(const proc_dir& dir) {
    cpu_sample sample = detail::begin_sample(dir);
    stat_view threads = TRIAGE_TRY(tasks(dir));
    sample.threads.reserve(threads.listed());
    std::optional<error> first_error;
    for (const task_stat& t : threads) detail::add_thread(dir, t, sample, first_error);
    sample.vanished += threads.vanished();
    if (!first_error) first_error = threads.first_error();
    if (sample.threads.empty() && first_error) return fail(std::move(*first_error));
    if (sample.threads.empty()) return fail(errc::no_such_process, "sampling " + dir.path(whole_process, "task"));
    return sample;
}

[[nodiscard]] TRIAGE_DECL result<cpu_sample> sample_threads(const proc_dir& dir, std::span<const pid_t> tids) {
    cpu_sample sample = detail::begin_sample(dir);
    std::optional<error> first_error;
    for (pid_t tid : tids) {
        auto stat = read_stat(dir, tid);
        if (stat) detail::add_thread(dir, *stat, sample, first_error);
        else if (stat.error().code == errc::no_such_process) ++sample.vanished;
        else if (!first_error) first_error = std::move(stat.error());
    }
    if (sample.threads.empty() && first_error) return fail(std::move(*first_error));
    std::sort(sample.threads.begin(), sample.threads.end(),
              [](const thread_sample& a, const thread_sample& b) { return a.stat.tid < b.stat.tid; });
    return sample;
}

[[nodiscard]] TRIAGE_DECL result<cpu_sample> sample_cpu(pid_t pid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return sample_cpu(dir);
}

[[nodiscard]] TRIAGE_DECL std::vector<thread_cpu> cpu_usage(const cpu_sample& before, const cpu_sample& after,
                                                            long ticks_per_second) {
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

TRIAGE_DECL bool sleep_until(std::chrono::nanoseconds when, const std::function<bool()>& stop_requested) noexcept {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(when);
    const timespec at{static_cast<time_t>(seconds.count()), static_cast<long>((when - seconds).count())};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
        if (stop_requested && stop_requested()) return false;
    }
    return true;
}

TRIAGE_DECL bool wait_for_window(const cpu_sample& before, std::chrono::nanoseconds window,
                                 const std::function<bool()>& stop_requested) noexcept {
    return sleep_until(before.started + window, stop_requested);
}

[[nodiscard]] TRIAGE_DECL double total_cpu_percent(const std::vector<thread_cpu>& threads) noexcept {
    double total = 0;
    for (const auto& t : threads) total += t.cpu_percent.value_or(0.0);
    return total;
}

} // namespace triage::procfs
