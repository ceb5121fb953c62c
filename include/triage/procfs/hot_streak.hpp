// triage/procfs/hot_streak.hpp — wait until a process stays hot: a thread
// (or the whole process) at or above a CPU share for a number of consecutive
// intervals, a sliding window that forgets what came before it (not the
// lifetime average, which a thread turning hot after a week never moves):
// the moment a watcher should save the scene.
//
// Offers: `wait_until_hot(dir, options)` → `hot_streak`. With the default
// scope, `any_thread`: the thread that first stayed at or above
// `cpu_percent` (of one core) for `samples` consecutive intervals of
// `interval` (the hottest, when several did at once), and its share in each
// of them; `options.thread` watches that one thread only. With
// `whole_process`: the process's share (the sum over its threads: 250 is
// two and a half cores) in each interval of the streak, and `tid` the
// hottest thread of the last one. Either way `last` holds every thread's
// CPU use over the last interval (cpu_sample.hpp), for a report that
// follows.
// Errors: sample_cpu's (no_such_process when the process exits while
// watched, permission_denied; not_found when `options.thread` is not one
// of its threads, or exits); interrupted when `timeout` passes first ("no
// thread ... stayed hot ...") or `stop_requested` says stop (asked after
// each interval and when a signal interrupts the wait).
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only
// (stat and schedstat of each thread, once per interval); never stops it.
//
//   auto dir = TRIAGE_TRY(triage::procfs::proc_dir::open(pid));
//   auto hot = TRIAGE_TRY(triage::procfs::wait_until_hot(dir, {.cpu_percent = 90, .samples = 3}));
//   fmt::print("thread {} stayed hot: {}%\n", hot.tid, hot.cpu_percent.back());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

enum class hot_scope {
    any_thread,     // one thread at or above the share (of one core)
    whole_process,  // the sum over the process's threads
};

struct hot_streak_options {
    double cpu_percent = 90;                         // of one core, in every interval of the streak
    unsigned samples = 3;                            // consecutive intervals
    std::chrono::milliseconds interval{500};
    std::optional<std::chrono::milliseconds> timeout;  // give up after this long (nullopt: never)
    hot_scope scope = hot_scope::any_thread;
    std::optional<pid_t> thread;                     // any_thread: watch only this one
    std::function<bool()> stop_requested;            // true ends the wait (interrupted)
};

struct hot_streak {
    pid_t tid = 0;                    // the hot thread (whole_process: the hottest in the last interval)
    std::vector<double> cpu_percent;  // its (the process's) share in each interval of the streak, oldest first
    std::vector<thread_cpu> last;     // every thread's CPU use over the last interval
};

[[nodiscard]] TRIAGE_DECL result<hot_streak> wait_until_hot(const proc_dir& dir, const hot_streak_options& options = {});

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/hot_streak.ipp"
#endif
