// triage/report/top_json.hpp — the top report as the JSON document of
// docs/cli.md (what triage-top --json prints).
//
// Offers: `to_json_text(…)` (the printed text) and `to_json(report)` → nlohmann::ordered_json: pid, command,
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
//   fmt::print("{}\n", triage::report::to_json_text(TRIAGE_TRY(triage::report::top(pid))));
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "triage/base/config.hpp"
#include "triage/report/top_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const top_report& report);

// The same document as text, as triage's programs print it: `indent` spaces
// per level (-1: one line), bytes that are not UTF-8 replaced by U+FFFD.
// Needs no nlohmann-json header in the caller's translation unit; to use
// to_json's document under TRIAGE_SEPARATE_COMPILATION, include
// <nlohmann/json.hpp> (the header declares it only).
[[nodiscard]] TRIAGE_DECL std::string to_json_text(const top_report& report, int indent = 2);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/top_json.ipp"
#endif
