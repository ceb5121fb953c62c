// triage/procfs/hot_streak.hpp — wait until a thread of a process stays
// hot: at or above a CPU share for a number of consecutive intervals (the
// moment a watcher should save the scene).
//
// Offers: `wait_until_hot(dir, options)` → `hot_streak`: the thread that
// first stayed at or above `cpu_percent` (of one core) for `samples`
// consecutive intervals of `interval` (the hottest, when several did at
// once), its share in each of them, and the last interval's CPU use of
// every thread (cpu_sample.hpp), for a report that follows.
// Errors: sample_cpu's (no_such_process when the process exits while
// watched, permission_denied); interrupted when `timeout` passes first
// ("no thread ... stayed hot ...").
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only
// (stat and schedstat of each thread, twice per interval); never stops it.
//
//   auto dir = TRIAGE_TRY(triage::procfs::proc_dir::open(pid));
//   auto hot = TRIAGE_TRY(triage::procfs::wait_until_hot(dir, {.cpu_percent = 90, .samples = 3}));
//   fmt::print("thread {} stayed hot: {}%\n", hot.tid, hot.cpu_percent.back());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

struct hot_streak_options {
    double cpu_percent = 90;                         // of one core, in every interval of the streak
    unsigned samples = 3;                            // consecutive intervals
    std::chrono::milliseconds interval{500};
    std::optional<std::chrono::milliseconds> timeout;  // give up after this long (nullopt: never)
};

struct hot_streak {
    pid_t tid = 0;
    std::vector<double> cpu_percent;  // its share in each interval of the streak, oldest first
    std::vector<thread_cpu> last;     // every thread's CPU use over the last interval
};

[[nodiscard]] TRIAGE_DECL result<hot_streak> wait_until_hot(const proc_dir& dir, const hot_streak_options& options = {});

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/hot_streak.ipp"
#endif
