// triage/report/hotloop_text.hpp — the hotloop report for people: as text
// for a terminal (what triage-hotloop prints) and as Markdown for an
// incident document (triage-hotloop --markdown). One layout, two styles.
//
// Offers: `to_text(report)` and `to_markdown(report)`:
//   the process (pid, command line, Python version, threads, CPU%), how
//   often and how long it was stopped and how long the run took; then each
//   hot thread: CPU%, where it runs, its waits in the kernel (context
//   switches in the window), its system calls (when counted), the GIL, its
//   Python stack read while stopped (innermost first), its stack samples
//   (how many, the function they all were in and its lines in order), and "not available yet" for native frames and library calls
//   (those modules do not exist yet) — or, with no hot thread, the same of
//   the busiest; then the files changed on disk, the
//   core, and the verdict paragraph (hotloop_verdict.hpp).
// Every target-supplied string is escaped: escape_controls in text, code
// spans in Markdown (detail/markdown.hpp).
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::report::hotloop(pid));
//   std::fputs(triage::report::to_text(r).c_str(), stdout);
#pragma once

#include <chrono>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "triage/base/config.hpp"
#include "triage/base/escape.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/ptrace/syscall_watch.hpp"
#include "triage/report/detail/markdown.hpp"
#include "triage/report/hotloop_report.hpp"
#include "triage/report/hotloop_verdict.hpp"
#include "triage/report/progress.hpp"

namespace triage::report {

namespace detail::hotloop_text {

// Headings, list items and names in one of the two styles.
struct writer {
    bool markdown = false;
    std::string out;

    void heading(std::string_view title) {
        out += markdown ? fmt::format("\n### {}\n\n", title) : fmt::format("\n{}\n", title);
    }
    void item(int depth, std::string_view line) {
        fmt::format_to(std::back_inserter(out), "{:{}}{}{}\n", "", 2 * depth, markdown ? "- " : "  ", line);
    }
    [[nodiscard]] std::string name(std::string_view s) const { return markdown ? markdown_code(s) : escape_controls(s); }
    [[nodiscard]] std::string frame(const cpython::python_frame& f) const {
        const std::string file = f.line ? fmt::format("{}:{}", f.file, *f.line) : f.file;
        return fmt::format("{} ({})", name(f.function), name(file));
    }
};

using detail::verdict::ms;

TRIAGE_DECL void hot_thread_block(writer& w, const hotloop_report& r, const hot_thread& h);

[[nodiscard]] TRIAGE_DECL std::string write(const hotloop_report& r, bool markdown);

} // namespace detail::hotloop_text

[[nodiscard]] TRIAGE_DECL std::string to_text(const hotloop_report& report);

[[nodiscard]] TRIAGE_DECL std::string to_markdown(const hotloop_report& report);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/hotloop_text.ipp"
#endif
