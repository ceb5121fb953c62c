// triage/report/impl/top_json.ipp — the definitions of
// triage/report/top_json.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "triage/report/detail/json.hpp"
#include "triage/report/thread_json.hpp"
#include "triage/report/top_json.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const top_report& report) {
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

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const top_report& report, int indent) {
    return detail::json_text(to_json(report), indent);
}

} // namespace triage::report
