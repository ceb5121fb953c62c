// triage/report/dump_json.hpp — a live dump's report as the JSON document of
// docs/cli.md (what triage-gcore --json prints).
//
// Offers: `to_json_text(…)` (the printed text) and `to_json(report)` → nlohmann::ordered_json: pid, path, threads,
// first_thread (its tid), first_thread_cpu_percent (null: not measured),
// mappings, mappings_dumped, coredump_filter ("0x33"), bytes_to_copy,
// bytes_written, file_size, allocated_bytes, copied_to_memory,
// stopped_seconds, elapsed_seconds. Dump with error_handler_t::replace: a
// path need not be UTF-8.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::coredump::dump_process(pid, "core"));
//   fmt::print("{}\n", triage::report::to_json_text(r));
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "triage/base/config.hpp"
#include "triage/coredump/live_dump.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const coredump::dump_report& r);

// The same document as text, as triage's programs print it: `indent` spaces
// per level (-1: one line), bytes that are not UTF-8 replaced by U+FFFD.
// Needs no nlohmann-json header in the caller's translation unit; to use
// to_json's document under TRIAGE_SEPARATE_COMPILATION, include
// <nlohmann/json.hpp> (the header declares it only).
[[nodiscard]] TRIAGE_DECL std::string to_json_text(const coredump::dump_report& r, int indent = 2);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/dump_json.ipp"
#endif
