// triage/report/hot_dump.hpp — what comes before a core when the moment
// matters: wait until a thread (or the process) has stayed hot for a
// sliding window, then record a short Python profile beside the core, as
// one step that hands coredump::dump_process the thread to put first.
//
// Offers: `before_dump(pid, core_path, options)` → `dump_preamble`:
//  - with `when_hot`: procfs::wait_until_hot over `for_seconds` of
//    `every`-long intervals (at least one), watching any thread, one
//    thread (`thread`) or the process's total (`whole_process`: 200 is two
//    cores); `hot_tid` is the thread that stayed hot (the hottest of the
//    last interval for the process's total), for dump_options::first_tid;
//  - with `stacks_for`: the Python stacks of threads on a CPU at 100 Hz for
//    that long, never stopping the process, into CORE.folded (mode 0600,
//    replacing a file only with `replace`), through record_profile_file;
//    a process that is not Python still gets its core (the profile's
//    member says why there is none);
//  - `members`: what it did as JSON members to add to the dump's document:
//    "trigger" {scope, tid, cpu_percent [each interval], interval_seconds}
//    and "profile" {path, samples, rate_hz} or {error}.
//  `to_json_text(report, preamble)`: the dump's document (dump_json.hpp)
//  with those members, as triage-gcore --json prints it.
//  `notice` is told, before the wait, what is watched; `outcome` each
//  result line (null: silent, e.g. for JSON output).
// Errors: wait_until_hot's (no_such_process, not_found for a `thread` not
// in the process, interrupted: the timeout passed or `stop_requested`);
// interrupted when `stop_requested` ends the profile (its file is removed).
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc while it
// waits; the profile reads its memory, never stopping it.
//
//   auto pre = TRIAGE_TRY(triage::report::before_dump(pid, "core.1234",
//       {.when_hot = triage::report::hot_trigger{.cpu_percent = 90, .for_seconds = 5}, .stacks_for = 2.0}));
//   options.first_tid = pre.hot_tid;
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/coredump/live_dump.hpp"

namespace triage::report {

struct hot_trigger {
    double cpu_percent = 90;                 // of one core (whole_process: of the machine, 200 = two cores)
    double for_seconds = 1;                  // the sliding window
    std::chrono::milliseconds every{500};    // one measurement a period
    double timeout_seconds = 0;              // give up after this long (0: never)
    bool whole_process = false;
    pid_t thread = 0;                        // watch only this thread (0: any)
};

struct hot_dump_options {
    std::optional<hot_trigger> when_hot;
    std::optional<double> stacks_for;        // seconds of Python stacks recorded first (nullopt: none)
    bool replace = false;                    // CORE.folded may replace a regular file
    std::function<bool()> stop_requested;    // true ends the wait or the profile (interrupted)
    std::function<void(std::string_view)> notice;   // what is watched, before the wait
    std::function<void(std::string_view)> outcome;  // a line per result
};

struct dump_preamble {
    std::optional<pid_t> hot_tid;                                        // for dump_options::first_tid
    nlohmann::ordered_json members = nlohmann::ordered_json::object();  // "trigger", "profile"
};

[[nodiscard]] TRIAGE_DECL result<dump_preamble> before_dump(pid_t pid, const std::string& core_path,
                                                            const hot_dump_options& options);

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const coredump::dump_report& report, const dump_preamble& preamble);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/hot_dump.ipp"
#endif
