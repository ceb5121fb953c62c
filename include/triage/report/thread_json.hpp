// triage/report/thread_json.hpp — one thread of the per-thread join
// (thread_report.hpp) as a JSON object: a row of triage-top --json, a line
// of triage-threads, a hot thread of triage-hotloop --json.
//
// Offers: `to_json(row)` → nlohmann::ordered_json: tid, ns_tid (null
// unless the process is in another PID namespace), name, cpu_percent
// (null: no baseline), state (the kernel's letter), in_user_space,
// activity (null: not read), syscall (the call it is blocked in, null in
// user space), wchan (null when running or unknown); and when the row has a
// Python stack: python_ident, holds_gil, waits_for_gil, frames [{function, file, line}]
// (innermost first). System-call counts are the caller's to add: whether
// they were counted is a fact of the report, not of the row.
// Dump with ensure_ascii (true) and error_handler_t::replace: target
// strings may hold C1 controls or bytes that are not UTF-8.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   for (const auto& row : rows) fmt::print("{}\n", triage::report::to_json(row).dump(-1, ' ', true,
//                                                   nlohmann::ordered_json::error_handler_t::replace));
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "triage/procfs/thread_activity.hpp"
#include "triage/ptrace/syscall_watch.hpp"
#include "triage/report/detail/json.hpp"
#include "triage/report/detail/python_json.hpp"
#include "triage/report/thread_report.hpp"

namespace triage::report {

[[nodiscard]] inline nlohmann::ordered_json to_json(const thread_report& row) {
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

} // namespace triage::report
