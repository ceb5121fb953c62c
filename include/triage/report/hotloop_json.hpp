// triage/report/hotloop_json.hpp — the hotloop report as the JSON document
// of docs/cli.md (what triage-hotloop --json prints).
//
// Offers: `to_json_text(…)` (the printed text) and `to_json(report)` → nlohmann::ordered_json: pid, command,
// executable, python_version (null: no stacks), python_error (null unless
// the stacks could not be read), window_ms, hot_percent, total_cpu_percent,
// threads, samples, stops, stopped_ms, elapsed_ms, syscall_window_ms (null:
// not counted), hot_threads (hottest first: the fields of thread_json.hpp,
// then voluntary_switches and involuntary_switches in the window (null:
// not measured), syscall_count and syscalls (null: not counted), loop
// {samples, function and file (the function every sample was in, null:
// none), lines (its line per sample), went_back, back_from, back_to,
// looping, same_line}, native_frames and library_calls ("not available yet")),
// busiest (when no thread is hot: the busiest, with the fields of a hot
// thread; else null),
// files_checked, changed_files [{path, match, deleted}], unchecked_files
// [{path, error}], files_error (null unless the mappings could not be
// read), core (null, or {path, threads, first_thread, bytes_written,
// file_size, allocated_bytes}), verdict (the paragraph, unescaped).
// Dump with ensure_ascii (true) and error_handler_t::replace: target
// strings may hold C1 controls or bytes that are not UTF-8.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   fmt::print("{}\n", triage::report::to_json_text(TRIAGE_TRY(triage::report::hotloop(pid))));
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "triage/base/config.hpp"
#include "triage/report/hotloop_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const hotloop_report& r);

// The same document as text, as triage's programs print it: `indent` spaces
// per level (-1: one line), bytes that are not UTF-8 replaced by U+FFFD.
// Needs no nlohmann-json header in the caller's translation unit; to use
// to_json's document under TRIAGE_SEPARATE_COMPILATION, include
// <nlohmann/json.hpp> (the header declares it only).
[[nodiscard]] TRIAGE_DECL std::string to_json_text(const hotloop_report& r, int indent = 2);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/hotloop_json.ipp"
#endif
