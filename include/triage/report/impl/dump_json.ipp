// triage/report/impl/dump_json.ipp — the definitions of
// triage/report/dump_json.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "triage/report/detail/json.hpp"
#include "triage/report/dump_json.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const coredump::dump_report& r) {
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
        {"strategy_reason", r.strategy_reason},
        {"memory_used_bytes", r.memory_used},
        {"forked", r.forked},
        {"fork_fallback", r.fork_fallback.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.fork_fallback)},
        {"fork_seconds", std::chrono::duration<double>(r.fork_time).count()},
        {"not_in_fork", r.not_in_fork},
        {"stopped_seconds", std::chrono::duration<double>(r.stopped_for).count()},
        {"cleanup_stopped_seconds", std::chrono::duration<double>(r.cleanup_stopped_for).count()},
        {"elapsed_seconds", std::chrono::duration<double>(r.elapsed).count()},
    };
}

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const coredump::dump_report& r, int indent) {
    return detail::json_text(to_json(r), indent);
}

} // namespace triage::report
