// triage/report/thread_json.hpp — one thread of the per-thread join
// (thread_report.hpp) as a JSON object: a row of triage-top --json, a line
// of triage-threads, a hot thread of triage-hotloop --json.
//
// Offers: `to_json_text(…)` (the printed text) and `to_json(row)` → nlohmann::ordered_json: tid, ns_tid (null
// unless the process is in another PID namespace), name, cpu_percent
// (null: no baseline), state (the kernel's letter), in_user_space,
// activity (null: not read), syscall (the call it is blocked in, null in
// user space), wchan (null when running or unknown); and when the row has a
// Python stack: python_ident, holds_gil, waits_for_gil, frames [{function, file, line}]
// (innermost first). System-call counts are the caller's to add: whether
// they were counted is a fact of the report, not of the row.
// Dump with ensure_ascii (true) and error_handler_t::replace: target
// strings may hold C1 controls or bytes that are not UTF-8.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   for (const auto& row : rows) fmt::print("{}\n", triage::report::to_json_text(row, -1));
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "triage/base/config.hpp"
#include "triage/report/thread_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const thread_report& row);

// The same document as text, as triage's programs print it: `indent` spaces
// per level (-1: one line), bytes that are not UTF-8 replaced by U+FFFD.
// Needs no nlohmann-json header in the caller's translation unit; to use
// to_json's document under TRIAGE_SEPARATE_COMPILATION, include
// <nlohmann/json.hpp> (the header declares it only).
[[nodiscard]] TRIAGE_DECL std::string to_json_text(const thread_report& row, int indent = 2);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/thread_json.ipp"
#endif
