// triage/report/debuginfo_json.hpp — the debug-information report as the
// JSON document of docs/cli.md (what triage-debuginfo --json prints).
//
// Offers: `to_json_text(report)` and `to_json(report)` →
// nlohmann::ordered_json: pid, core (null: live), command; summary
// {code_objects, with_symbols, with_dwarf, native_symbolised ("all",
// "partly", "none"), line}; objects [{path, deleted, on_disk ("same",
// "replaced on disk", "missing on disk", "not verified"), build_id (null:
// none), build_id_from ("memory", "file"), disk_build_id (null unless it
// differs), symbols {file, way} | null, dwarf {file, way} | null,
// alternate (null), alternate_missing, error (null), package {name,
// architecture, version, source} | null, install (null), attempts [{way
// ("embedded", "build-id", "debuglink", "debuginfod"), path, outcome,
// used}]}].
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   fmt::print("{}\n", triage::report::to_json_text(TRIAGE_TRY(triage::report::debuginfo_of_process(pid))));
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "triage/base/config.hpp"
#include "triage/report/debuginfo_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const debuginfo_report& report);

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const debuginfo_report& report, int indent = 2);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/debuginfo_json.ipp"
#endif
