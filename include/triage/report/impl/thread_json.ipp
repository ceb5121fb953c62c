// triage/report/impl/thread_json.ipp — the definitions of
// triage/report/thread_json.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "triage/procfs/thread_activity.hpp"
#include "triage/ptrace/syscall_watch.hpp"
#include "triage/report/detail/json.hpp"
#include "triage/report/detail/python_json.hpp"
#include "triage/report/thread_json.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const thread_report& row) {
    using json = nlohmann::ordered_json;
    const auto& a = row.activity;
    std::optional<std::string> syscall, wchan;
    if (a && a->syscall_number) syscall = ptrace::syscall_display_name(*a->syscall_number);
    if (a && !a->wchan.empty()) wchan = std::string{a->wchan.view()};
    json out{
        {"tid", row.tid},
        {"ns_tid", detail::or_null(row.ns_tid)},
        {"name", std::string{row.stat.comm.view()}},
        {"cpu_percent", detail::or_null(row.cpu_percent)},
        {"state", std::string(1, row.stat.state)},
        {"in_user_space", a && a->in_user_space()},
        {"activity", a ? json(std::string{procfs::to_string(a->kind)}) : json(nullptr)},
        {"syscall", detail::or_null(syscall)},
        {"wchan", detail::or_null(wchan)},
    };
    if (row.python) {
        out["python_ident"] = row.python->python_ident;
        out["holds_gil"] = row.python->holds_gil;
        out["waits_for_gil"] = row.python->waits_for_gil;
        out["frames"] = detail::frames_json(row.python->frames);
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const thread_report& row, int indent) {
    return detail::json_text(to_json(row), indent);
}

} // namespace triage::report
