// triage/report/impl/dump_text.ipp — the definitions of
// triage/report/dump_text.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/dump_text.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const coredump::dump_report& r) {
    std::string text;
    auto out = std::back_inserter(text);
    fmt::format_to(out, "wrote {} for process {}\n", escape_controls(r.path), r.pid);
    fmt::format_to(out, "  threads:   {} (first: {}", r.threads, r.first_tid);
    if (r.first_thread_cpu) fmt::format_to(out, ", {:.1f}% CPU", *r.first_thread_cpu);
    fmt::format_to(out, ")\n");
    fmt::format_to(out, "  mappings:  {}, {} dumped (coredump_filter {:#x})\n", r.mappings, r.mappings_dumped, r.filter.bits);
    fmt::format_to(out, "  written:   {} of data; file {} ({} allocated on disk)\n", human_bytes(r.bytes_written),
                   human_bytes(r.file_size), human_bytes(r.allocated));
    using seconds = std::chrono::duration<double>;
    if (!r.strategy_reason.empty()) fmt::format_to(out, "  strategy:  {}\n", r.strategy_reason);
    if (r.memory_used > 0) fmt::format_to(out, "  memory:    {} held for the dump\n", human_bytes(r.memory_used));
    if (r.forked) {
        fmt::format_to(out, "  stopped:   {:.3f} s, forking a copy-on-write snapshot ({:.1f} ms); {:.3f} s more to reap it (total {:.3f} s)\n",
                       seconds(r.stopped_for).count(), seconds(r.fork_time).count() * 1e3,
                       seconds(r.cleanup_stopped_for).count(), seconds(r.elapsed).count());
        for (const std::string& range : r.not_in_fork)
            fmt::format_to(out, "  not in the snapshot: {} (the fork does not hold it as it was)\n", range);
    } else {
        if (!r.fork_fallback.empty()) fmt::format_to(out, "  no snapshot: {}; copied in the stop instead\n", r.fork_fallback);
        fmt::format_to(out, "  stopped:   {:.3f} s, {} (total {:.3f} s)\n", seconds(r.stopped_for).count(),
                       r.copied_to_memory ? "copying to memory" : "writing the file", seconds(r.elapsed).count());
    }
    return text;
}

} // namespace triage::report
