// triage/report/impl/plt_json.ipp — the definitions of
// triage/report/plt_json.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "triage/report/detail/json.hpp"
#include "triage/report/plt_json.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const plt_report& report) {
    using json = nlohmann::ordered_json;
    using std::chrono::duration;
    const double seconds = duration<double>(report.window).count();
    const auto rate = [&](std::uint64_t calls) { return seconds > 0 ? static_cast<double>(calls) / seconds : 0.0; };
    json doc;
    doc["pid"] = report.pid;
    doc["command"] = report.command;
    doc["backend"] = report.backend;
    doc["backend_reason"] = report.backend_reason;
    doc["thread"] = detail::or_null(report.only_thread);
    doc["hot_cpu_percent"] = detail::or_null(report.hot_cpu_percent);
    doc["setup_ms"] = duration<double, std::milli>(report.setup).count();
    doc["window_ms"] = duration<double, std::milli>(report.window).count();
    doc["teardown_ms"] = duration<double, std::milli>(report.teardown).count();
    doc["teardown_estimate_ms"] = duration<double, std::milli>(report.teardown_estimate).count();
    doc["target_stopped_ms"] = duration<double, std::milli>(report.target_stopped).count();
    doc["world_stops"] = report.world_stops;
    doc["children_cleaned"] = report.children_cleaned;
    doc["interrupted"] = report.interrupted;
    doc["target_exited"] = report.target_exited;
    doc["probes"] = report.probes;
    doc["objects_searched"] = report.objects_searched;
    doc["total_calls"] = report.total_calls;
    doc["calls_per_second"] = rate(report.total_calls);
    doc["kernel_ns_per_call"] = detail::or_null(report.kernel_ns_per_call);
    json functions = json::array();
    for (const auto& f : report.functions) {
        json threads = json::array();
        for (const auto& t : f.threads) threads.push_back({{"tid", t.tid}, {"calls", t.calls}});
        functions.push_back({
            {"function", f.function},
            {"caller", f.caller.empty() ? json(nullptr) : json(f.caller)},
            {"probed_object", f.probed_object},
            {"kind", plt::to_string(f.kind)},
            {"address", f.address},
            {"calls", f.calls},
            {"calls_per_second", rate(f.calls)},
            {"share", report.total_calls ? static_cast<double>(f.calls) / static_cast<double>(report.total_calls) : 0.0},
            {"threads", std::move(threads)},
        });
    }
    doc["functions"] = std::move(functions);
    json threads = json::array();
    for (const auto& t : report.threads) {
        threads.push_back({
            {"tid", t.tid},
            {"name", t.name},
            {"calls", t.calls},
            {"cpu_percent", detail::or_null(t.cpu_percent)},
            {"kernel_ms", duration<double, std::milli>(t.kernel_time).count()},
            {"added_late", t.added_late},
        });
    }
    doc["threads"] = std::move(threads);
    json skipped = json::array();
    for (const auto& s : report.skipped) {
        skipped.push_back({{"object", s.object},
                           {"function", s.function.empty() ? json(nullptr) : json(s.function)},
                           {"reason", s.reason}});
    }
    doc["skipped"] = std::move(skipped);
    json trace = json::array();
    for (const auto& c : report.trace) {
        trace.push_back({{"tid", c.tid},
                         {"at_ms", duration<double, std::milli>(c.at).count()},
                         {"function", c.function},
                         {"caller", c.caller.empty() ? json(nullptr) : json(c.caller)},
                         {"call", c.call},
                         {"called_from", c.called_from.empty() ? json(nullptr) : json(c.called_from)},
                         {"types_from", c.types_from.empty() ? json(nullptr) : json(c.types_from)}});
    }
    doc["trace"] = std::move(trace);
    doc["trace_full"] = report.trace_full;
    return doc;
}

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const plt_report& report, int indent) {
    return detail::json_text(to_json(report), indent);
}

} // namespace triage::report
