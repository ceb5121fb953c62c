// triage/report/impl/thread_report.ipp — the definitions of
// triage/report/thread_report.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/thread_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::vector<thread_report> thread_reports(std::span<const procfs::thread_cpu> cpu) {
    std::vector<thread_report> rows;
    rows.reserve(cpu.size());
    for (const auto& t : cpu | procfs::hottest()) rows.push_back({t.stat.tid, std::nullopt, t.stat, t.cpu_percent, {}, {}, {}});
    return rows;
}

[[nodiscard]] TRIAGE_DECL result<void> read_activities(const procfs::proc_dir& dir, std::vector<thread_report>& rows) {
    std::optional<error> failure;
    std::erase_if(rows, [&](thread_report& row) {
        if (failure) return false;
        auto activity = procfs::read_activity(dir, row.stat);
        if (activity) {
            row.activity = *activity;
            return false;
        }
        if (activity.error().code == errc::no_such_process) return true;  // exited just now
        failure = std::move(activity.error());
        return false;
    });
    if (failure) return fail(std::move(*failure));
    return {};
}

TRIAGE_DECL void join_ns_tids(std::vector<thread_report>& rows, const procfs::ns_tid_map& ids) {
    for (auto& row : rows) row.ns_tid = ids.ns_tid_of(row.tid);
}

TRIAGE_DECL void join_syscalls(std::vector<thread_report>& rows, const ptrace::syscall_watch_result& watch) {
    detail::join_by_tid<ptrace::thread_syscalls>(
        rows, watch.threads, [](const ptrace::thread_syscalls& t) { return std::optional<pid_t>{t.tid}; },
        [](thread_report& row, const ptrace::thread_syscalls& t) { row.syscalls = t; });
}

TRIAGE_DECL void join_python(std::vector<thread_report>& rows, const cpython::python_stacks_report& stacks) {
    detail::join_by_tid<cpython::thread_stack>(
        rows, stacks.threads, [](const cpython::thread_stack& t) { return t.tid; },
        [](thread_report& row, const cpython::thread_stack& t) { row.python = t; });
}

} // namespace triage::report
