// triage/report/dump_json.hpp — a live dump's report as the JSON document of
// docs/cli.md (what triage-gcore --json prints).
//
// Offers: `to_json(report)` → nlohmann::ordered_json: pid, path, threads,
// first_thread (its tid), first_thread_cpu_percent (null: not measured),
// mappings, mappings_dumped, coredump_filter ("0x33"), bytes_to_copy,
// bytes_written, file_size, allocated_bytes, copied_to_memory,
// stopped_seconds, elapsed_seconds. Dump with error_handler_t::replace: a
// path need not be UTF-8.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::coredump::dump_process(pid, "core"));
//   fmt::print("{}\n", triage::report::to_json(r).dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace));
#pragma once

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "triage/coredump/live_dump.hpp"
#include "triage/report/detail/json.hpp"

namespace triage::report {

[[nodiscard]] inline nlohmann::ordered_json to_json(const coredump::dump_report& r) {
    return {
        {"pid", r.pid},
        {"path", r.path},
        {"threads", r.threads},
        {"first_thread", r.first_tid},
        {"first_thread_cpu_percent", detail::or_null(r.first_thread_cpu)},
        {"mappings", r.mappings},
        {"mappings_dumped", r.mappings_dumped},
        {"coredump_filter", fmt::format("{:#x}", r.filter.bits)},
        {"bytes_to_copy", r.bytes_to_copy},
        {"bytes_written", r.bytes_written},
        {"file_size", r.file_size},
        {"allocated_bytes", r.allocated},
        {"copied_to_memory", r.copied_to_memory},
        {"stopped_seconds", std::chrono::duration<double>(r.stopped_for).count()},
        {"elapsed_seconds", std::chrono::duration<double>(r.elapsed).count()},
    };
}

} // namespace triage::report
