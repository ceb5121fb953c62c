// triage/report/impl/debuginfo_json.ipp — the definitions of
// triage/report/debuginfo_json.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <nlohmann/json.hpp>

#include "triage/report/debuginfo_json.hpp"
#include "triage/report/detail/json.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const debuginfo_report& report) {
    using json = nlohmann::ordered_json;
    auto text_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    auto found = [](const std::string& file, elf::debug_way way) {
        return file.empty() ? json(nullptr) : json{{"file", file}, {"way", elf::to_string(way)}};
    };
    json doc;
    doc["pid"] = report.pid;
    doc["core"] = text_or_null(report.core);
    doc["command"] = report.command;
    doc["summary"] = {{"code_objects", report.summary.code_objects},
                      {"with_symbols", report.summary.with_symbols},
                      {"with_dwarf", report.summary.with_dwarf},
                      {"native_symbolised", report.summary.native_symbolised},
                      {"line", report.summary.line}};
    json objects = json::array();
    for (const auto& row : report.objects) {
        json attempts = json::array();
        for (const auto& a : row.debug.attempts)
            attempts.push_back({{"way", elf::to_string(a.way)}, {"path", a.path}, {"outcome", a.outcome}, {"used", a.used}});
        json package = nullptr;
        if (row.package)
            package = {{"name", row.package->name}, {"architecture", row.package->architecture},
                       {"version", row.package->version}, {"source", row.package->source}};
        objects.push_back({
            {"path", row.path},
            {"deleted", row.deleted},
            {"on_disk", row.on_disk},
            {"build_id", text_or_null(row.build_id)},
            {"build_id_from", row.build_id_from},
            {"disk_build_id", text_or_null(row.disk_build_id)},
            {"symbols", found(row.debug.symbols, row.debug.symbols_from)},
            {"dwarf", found(row.debug.dwarf, row.debug.dwarf_from)},
            {"alternate", text_or_null(row.debug.alternate)},
            {"alternate_missing", row.debug.alternate_missing},
            {"error", text_or_null(row.error)},
            {"package", std::move(package)},
            {"install", text_or_null(row.install)},
            {"attempts", std::move(attempts)},
        });
    }
    doc["objects"] = std::move(objects);
    return doc;
}

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const debuginfo_report& report, int indent) {
    return detail::json_text(to_json(report), indent);
}

} // namespace triage::report
