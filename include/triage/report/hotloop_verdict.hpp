// triage/report/hotloop_verdict.hpp — the hotloop report as one paragraph a
// person can paste into an incident channel.
//
// Offers: `verdict(report, style)` → one paragraph, no newline, stating
// only what was measured: the hottest thread, its CPU% and where it runs
// (user space, or which system call), its system calls (counted, with a
// window) or else its waits in the kernel (voluntary context switches),
// the GIL, its innermost Python frame and caller; "in a loop in F" only
// when every sample was in F called from the same place and F's line went
// back (loop_evidence.hpp), "on the same line in all N samples" when that
// is all they show; the other hot threads; the files changed on disk; the
// core; how often and how long the process was stopped. With no hot
// thread, it says so and tells the same of the busiest.
// Target-supplied strings (command line, thread, function and file names,
// paths) are escaped by `style`: text → escape_controls (functions in
// backticks), markdown → code spans (detail/markdown.hpp), plain → as they
// are (for a JSON writer, which escapes by its own rules).
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::report::hotloop(pid));
//   fmt::print("{}\n", triage::report::verdict(r, triage::report::verdict_style::text));
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "triage/base/config.hpp"
#include "triage/base/escape.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/report/detail/markdown.hpp"
#include "triage/report/hotloop_report.hpp"

namespace triage::report {

enum class verdict_style : std::uint8_t { text, markdown, plain };

namespace detail::verdict {

struct quoting {
    verdict_style style;
    // A name or a path from the target, set off as code.
    [[nodiscard]] std::string code(std::string_view s) const {
        if (style == verdict_style::markdown) return markdown_code(s);
        return "`" + (style == verdict_style::text ? escape_controls(s) : std::string{s}) + "`";
    }
    // A command line, a path or a thread name: escaped, not set off in text.
    [[nodiscard]] std::string name(std::string_view s) const {
        if (style == verdict_style::markdown) return markdown_code(s);
        return style == verdict_style::text ? escape_controls(s) : std::string{s};
    }
};

[[nodiscard]] TRIAGE_DECL long long ms(std::chrono::nanoseconds d);

[[nodiscard]] TRIAGE_DECL std::string where(const thread_report& row);

[[nodiscard]] TRIAGE_DECL std::string system_calls(const hot_thread& h, const hotloop_report& r);

[[nodiscard]] TRIAGE_DECL std::string python_place(const hot_thread& h, const hotloop_report& r, const quoting& q);

} // namespace detail::verdict

[[nodiscard]] TRIAGE_DECL std::string verdict(const hotloop_report& r, verdict_style style);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/hotloop_verdict.ipp"
#endif
