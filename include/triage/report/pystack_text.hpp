// triage/report/pystack_text.hpp — the Python stacks report as text for a
// person (what triage-pystack prints).
//
// Offers: `to_text(report)` → the whole report:
//   Process 1234: /usr/bin/python3 service.py
//   Python 3.11.2 (/usr/bin/python3.11)
//   Target stopped for 1.204 ms for a consistent snapshot
//
//   Thread 1260 "python3" holds GIL running 99.1%
//       find_anchor (service.py:41)
//       ...
// one block per thread (report/python_format.hpp), in the report's order.
// Every target-supplied string (command line, paths, names, files,
// errors) is escaped with escape_controls: the text holds no control
// character but the newlines that end its lines.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::cpython::python_stacks(pid));
//   std::fputs(triage::report::to_text(r).c_str(), stdout);
#pragma once

#include <chrono>
#include <iterator>
#include <string>

#include <fmt/core.h>

#include "triage/base/config.hpp"
#include "triage/base/escape.hpp"
#include "triage/cpython/python_stacks_report.hpp"
#include "triage/report/python_format.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const cpython::python_stacks_report& r);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/pystack_text.ipp"
#endif
