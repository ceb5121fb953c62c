// triage/report/dump_text.hpp — a live dump's report as text for a person
// (what triage-gcore prints).
//
// Offers: `to_text(report)` →
//   wrote core.1234 for process 1234
//     threads:   26 (first: 1240, 99.8% CPU)
//     mappings:  80, 61 dumped (coredump_filter 0x33)
//     written:   6.1 MiB of data; file 209.4 MiB (6.2 MiB allocated on disk)
//     stopped:   0.006 s, copying to memory (total 0.130 s)
// The path is escaped with escape_controls.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::coredump::dump_process(pid, "core"));
//   std::fputs(triage::report::to_text(r).c_str(), stdout);
#pragma once

#include <chrono>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "triage/base/config.hpp"
#include "triage/base/escape.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/report/progress.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const coredump::dump_report& r);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/dump_text.ipp"
#endif
