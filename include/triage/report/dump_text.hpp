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

#include "triage/base/escape.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/report/progress.hpp"

namespace triage::report {

[[nodiscard]] inline std::string to_text(const coredump::dump_report& r) {
    std::string text;
    auto out = std::back_inserter(text);
    fmt::format_to(out, "wrote {} for process {}\n", escape_controls(r.path), r.pid);
    fmt::format_to(out, "  threads:   {} (first: {}", r.threads, r.first_tid);
    if (r.first_thread_cpu) fmt::format_to(out, ", {:.1f}% CPU", *r.first_thread_cpu);
    fmt::format_to(out, ")\n");
    fmt::format_to(out, "  mappings:  {}, {} dumped (coredump_filter {:#x})\n", r.mappings, r.mappings_dumped, r.filter.bits);
    fmt::format_to(out, "  written:   {} of data; file {} ({} allocated on disk)\n", human_bytes(r.bytes_written),
                   human_bytes(r.file_size), human_bytes(r.allocated));
    fmt::format_to(out, "  stopped:   {:.3f} s, {} (total {:.3f} s)\n", std::chrono::duration<double>(r.stopped_for).count(),
                   r.copied_to_memory ? "copying to memory" : "writing the file",
                   std::chrono::duration<double>(r.elapsed).count());
    return text;
}

} // namespace triage::report
