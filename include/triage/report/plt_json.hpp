// triage/report/plt_json.hpp — the library-call count as the JSON document
// of docs/cli.md (what triage-plt --json prints).
//
// Offers: `to_json_text(report)` (the printed text) and `to_json(report)` →
// nlohmann::ordered_json: pid, command, backend, backend_reason, thread
// (null: all threads), hot_cpu_percent, setup_ms, window_ms, teardown_ms
// (closing the probes after the window), teardown_estimate_ms (what the
// budget was checked against), interrupted, target_exited,
// probes, objects_searched, total_calls, calls_per_second,
// kernel_ns_per_call (null: too few calls to measure); functions, most
// calls first: function, caller (null: counted at the function, every
// caller), probed_object, kind ("plt", "plt.sec", "plt.got", "got"),
// address, calls, calls_per_second, share (0–1), threads [{tid, calls}];
// threads, most calls first: tid, name, calls, cpu_percent, kernel_ms,
// added_late; skipped [{object, function (null: the whole object), reason}].
// Dumped with ensure_ascii, invalid UTF-8 replaced (report/detail/json.hpp).
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   fmt::print("{}\n", triage::report::to_json_text(TRIAGE_TRY(triage::report::count_library_calls(pid))));
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "triage/base/config.hpp"
#include "triage/report/plt_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const plt_report& report);

// The same document as text: `indent` spaces per level (-1: one line).
[[nodiscard]] TRIAGE_DECL std::string to_json_text(const plt_report& report, int indent = 2);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/plt_json.ipp"
#endif
