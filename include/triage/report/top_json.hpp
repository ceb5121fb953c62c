// triage/report/top_json.hpp — the top report as the JSON document of
// docs/cli.md (what triage-top --json prints).
//
// Offers: `to_json(report)` → nlohmann::ordered_json: pid, command,
// interval_ms, total_cpu_percent, stopped_ms (with system calls counted),
// threads, hottest first: tid, ns_tid (null unless the process is in
// another PID namespace), name, cpu_percent (null: no baseline), state
// (the kernel's letter), in_user_space, activity, syscall (the call it is
// blocked in, null in user space), wchan (null when running or unknown),
// and with system calls counted, syscall_count and syscalls (name → count;
// both null for a thread that exited before the watch began).
// Dump with ensure_ascii (true): target strings may hold C1 controls such
// as U+009B, which a terminal obeys even inside a JSON string.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto doc = triage::report::to_json(TRIAGE_TRY(triage::report::top(pid)));
//   fmt::print("{}\n", doc.dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace));
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "triage/report/thread_json.hpp"
#include "triage/report/top_report.hpp"

namespace triage::report {

[[nodiscard]] inline nlohmann::ordered_json to_json(const top_report& report) {
    using json = nlohmann::ordered_json;
    using std::chrono::duration;
    json threads = json::array();
    for (const auto& row : report.threads) {
        auto& thread = threads.emplace_back(to_json(row));
        if (report.syscall_window) {
            // A thread that exited before the watch began has no counts.
            thread["syscall_count"] = row.syscalls ? json(row.syscalls->total) : json(nullptr);
            thread["syscalls"] = row.syscalls ? json(row.syscalls->syscalls) : json(nullptr);
        }
    }
    json doc;
    doc["pid"] = report.pid;
    doc["command"] = report.command;
    doc["interval_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(report.interval).count();
    doc["total_cpu_percent"] = report.total_cpu_percent;
    if (report.syscall_window) doc["stopped_ms"] = duration<double, std::milli>(report.stopped_for.value_or(std::chrono::nanoseconds{0})).count();
    doc["threads"] = std::move(threads);
    return doc;
}

} // namespace triage::report
