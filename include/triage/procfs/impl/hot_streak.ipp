// triage/procfs/impl/hot_streak.ipp — the definitions of
// triage/procfs/hot_streak.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/hot_streak.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<hot_streak> wait_until_hot(const proc_dir& dir, const hot_streak_options& options) {
    const auto started = std::chrono::steady_clock::now();
    std::map<pid_t, std::vector<double>> streaks;  // threads hot in every interval since their streak began
    auto before = TRIAGE_TRY(sample_cpu(dir));
    for (;;) {
        wait_for_window(before, options.interval);
        auto after = TRIAGE_TRY(sample_cpu(dir));
        auto usage = cpu_usage(before, after);
        std::map<pid_t, std::vector<double>> still;
        std::optional<pid_t> best;
        for (const auto& t : usage) {
            if (t.cpu_percent.value_or(0) < options.cpu_percent) continue;
            auto& streak = still[t.stat.tid];
            if (auto it = streaks.find(t.stat.tid); it != streaks.end()) streak = std::move(it->second);
            streak.push_back(*t.cpu_percent);
            if (streak.size() >= options.samples && (!best || streak.back() > still[*best].back())) best = t.stat.tid;
        }
        if (best) return hot_streak{*best, std::move(still[*best]), std::move(usage)};
        streaks = std::move(still);
        before = std::move(after);
        if (options.timeout && std::chrono::steady_clock::now() - started >= *options.timeout) {
            return fail(errc::interrupted,
                        "watching process " + std::to_string(dir.pid()) + ": no thread stayed at " +
                            std::to_string(static_cast<int>(options.cpu_percent)) + "% CPU for " +
                            std::to_string(options.samples) + " intervals of " + std::to_string(options.interval.count()) +
                            " ms within " + std::to_string(options.timeout->count()) + " ms");
        }
    }
}

} // namespace triage::procfs
