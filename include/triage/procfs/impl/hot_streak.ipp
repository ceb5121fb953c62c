// triage/procfs/impl/hot_streak.ipp — the definitions of
// triage/procfs/hot_streak.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "triage/procfs/hot_streak.hpp"

namespace triage::procfs {

namespace detail::hot {
// "a thread stays at 90% CPU or more for 3 intervals of 500 ms", or
// (`missed`) "no thread stayed at ...".
[[nodiscard]] TRIAGE_DECL std::string condition(const hot_streak_options& o, bool missed) {
    std::string who = o.scope == hot_scope::whole_process ? "the process"
                      : o.thread                          ? "thread " + std::to_string(*o.thread)
                      : missed                            ? "no thread"
                                                          : "a thread";
    std::string verb = !missed ? " stays" : o.scope == hot_scope::any_thread && !o.thread ? " stayed" : " did not stay";
    return who + verb + " at " + std::to_string(static_cast<int>(o.cpu_percent)) + "% CPU or more for " +
           std::to_string(o.samples) + " intervals of " + std::to_string(o.interval.count()) + " ms";
}
} // namespace detail::hot

[[nodiscard]] TRIAGE_DECL result<hot_streak> wait_until_hot(const proc_dir& dir, const hot_streak_options& options) {
    const auto started = std::chrono::steady_clock::now();
    std::map<pid_t, std::vector<double>> streaks;  // threads hot in every interval since their streak began
    std::vector<double> process_streak;            // whole_process: its share in every interval since
    auto before = TRIAGE_TRY(sample_cpu(dir));
    const std::string watching = "watching process " + std::to_string(dir.pid()) + ": ";
    auto absent = [&](const cpu_sample& sample) {
        return options.thread && std::ranges::none_of(sample.threads, [&](const auto& t) { return t.stat.tid == *options.thread; });
    };
    for (;;) {
        if (absent(before)) {
            return fail(errc::not_found, watching + "thread " + std::to_string(*options.thread) +
                                             " is not one of its threads (or it exited)");
        }
        if (!wait_for_window(before, options.interval, options.stop_requested) ||
            (options.stop_requested && options.stop_requested())) {
            return fail(errc::interrupted, watching + "interrupted while waiting until " + detail::hot::condition(options, false));
        }
        auto after = TRIAGE_TRY(sample_cpu(dir));
        auto usage = cpu_usage(before, after);
        if (options.scope == hot_scope::whole_process) {
            const double total = total_cpu_percent(usage);
            if (total < options.cpu_percent) process_streak.clear();
            else process_streak.push_back(total);
            if (!process_streak.empty() && process_streak.size() >= options.samples) {
                auto hottest = std::ranges::max_element(usage, {}, [](const thread_cpu& t) { return t.cpu_percent.value_or(0); });
                return hot_streak{hottest == usage.end() ? dir.pid() : hottest->stat.tid, std::move(process_streak),
                                  std::move(usage)};
            }
        } else {
            std::map<pid_t, std::vector<double>> still;
            std::optional<pid_t> best;
            for (const auto& t : usage) {
                if (t.cpu_percent.value_or(0) < options.cpu_percent || (options.thread && t.stat.tid != *options.thread)) continue;
                auto& streak = still[t.stat.tid];
                if (auto it = streaks.find(t.stat.tid); it != streaks.end()) streak = std::move(it->second);
                streak.push_back(*t.cpu_percent);
                if (streak.size() >= options.samples && (!best || streak.back() > still[*best].back())) best = t.stat.tid;
            }
            if (best) return hot_streak{*best, std::move(still[*best]), std::move(usage)};
            streaks = std::move(still);
        }
        before = std::move(after);
        if (options.timeout && std::chrono::steady_clock::now() - started >= *options.timeout) {
            return fail(errc::interrupted, watching + detail::hot::condition(options, true) + " within " +
                                               std::to_string(options.timeout->count()) + " ms");
        }
    }
}

} // namespace triage::procfs
