// triage/report/debuginfo_text.hpp — the debug-information report as text for
// a person (what triage-debuginfo prints).
//
// Offers: `to_text(report, verbose)` →
//  - the process (pid, command line) or the core, and the summary line
//    ("native stacks will be symbolised: ..."), first;
//  - one block per code object: its path (with "(deleted)"); "running",
//    the build-id and where it was read, and "replaced on disk" with the
//    disk's build-id when they differ; "symbols" and "DWARF": the file and
//    the way it was found, or "none"; the dwz alternate; the owning Debian
//    package and what to install; "tried": each attempt that found a file
//    it could not use (CRC or build-id mismatch...), and with `verbose`
//    every attempt.
// Paths and the command line are escaped with escape_controls.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   std::fputs(triage::report::to_text(TRIAGE_TRY(triage::report::debuginfo_of_process(pid))).c_str(), stdout);
#pragma once

#include <string>

#include "triage/base/config.hpp"
#include "triage/report/debuginfo_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const debuginfo_report& report, bool verbose = false);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/debuginfo_text.ipp"
#endif
