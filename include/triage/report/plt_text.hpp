// triage/report/plt_text.hpp — the library-call count as text for a person
// (what triage-plt prints).
//
// Offers: `to_text(report, per_thread)` →
//  - a header: pid and command line, the window, which threads (all, or the
//    one chosen with its CPU%), the backend, how many call sites in how
//    many objects, how long placing and removing them took, and that the
//    target was never stopped;
//  - a table like `ltrace -c`, most calls first:
//      CALLS  CALLS/S  SHARE  FUNCTION  CALLED FROM
//    CALLED FROM is the calling object's file name and the stub kind, or
//    "every caller (at OBJECT)" for a function counted at its definition
//    (a -fno-plt caller);
//  - the total, calls per second and the kernel time per counted call;
//  - the threads, most calls first (tid, name, CPU%, calls; "started
//    during the window" for threads added late); with `per_thread`, under
//    each thread its functions;
//  - what was skipped and why.
// Names from the target (command line, thread names) are escaped with
// escape_controls.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::report::count_library_calls(pid));
//   std::fputs(triage::report::to_text(r).c_str(), stdout);
#pragma once

#include <string>

#include "triage/base/config.hpp"
#include "triage/report/plt_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const plt_report& report, bool per_thread = false);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/plt_text.ipp"
#endif
