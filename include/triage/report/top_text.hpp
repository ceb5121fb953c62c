// triage/report/top_text.hpp — the top report as text for a person (what
// triage-top prints).
//
// Offers: `to_text(report, limit)` → a header (pid and command line, thread
// count and process CPU%, and with system calls counted, how many and how
// long the target was stopped), then a table, one thread per row, hottest
// first, at most `limit` rows (0: all):
//   TID  [NS TID]  NAME  CPU%  S  [SYSCALLS]  WHERE
// WHERE is "user space", the system call a thread is blocked in, or its
// state, with the kernel function it sleeps in. NS TID appears when the
// process is in another PID namespace; SYSCALLS when they were counted
// (total, then the three most frequent). Thread names and the command line
// are escaped with escape_controls.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::report::top(pid));
//   std::fputs(triage::report::to_text(r, 40).c_str(), stdout);
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "triage/base/config.hpp"
#include "triage/base/escape.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/ptrace/syscall_watch.hpp"
#include "triage/report/top_report.hpp"

namespace triage::report {

namespace detail::top_text {

[[nodiscard]] TRIAGE_DECL std::string where(const std::optional<procfs::thread_activity>& activity);

[[nodiscard]] TRIAGE_DECL std::string syscall_counts(const thread_report& r);

// One column of the table: a new column is one more entry.
struct column {
    const char* header;
    int width;  // negative: left-aligned; 0: the last, unpadded
    std::function<std::string(const thread_report&)> cell;
};

[[nodiscard]] TRIAGE_DECL std::vector<column> columns(const top_report& report);

// The cells of one line, padded, without trailing blanks.
[[nodiscard]] TRIAGE_DECL std::string join_cells(const std::vector<column>& columns,
                                                 const std::function<std::string(const column&)>& text);

} // namespace detail::top_text

[[nodiscard]] TRIAGE_DECL std::string to_text(const top_report& report, std::size_t limit);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/top_text.ipp"
#endif
