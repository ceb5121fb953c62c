// triage/report/impl/top_text.ipp — the definitions of
// triage/report/top_text.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/top_text.hpp"

namespace triage::report::detail::top_text {

[[nodiscard]] TRIAGE_DECL std::string where(const std::optional<procfs::thread_activity>& activity) {
    if (!activity) return "-";
    const auto& a = *activity;
    std::string text{procfs::to_string(a.kind)};
    if (a.syscall_number) {
        const std::string call = ptrace::syscall_display_name(*a.syscall_number);
        const bool halted = a.kind == procfs::activity::stopped || a.kind == procfs::activity::traced;
        text = halted ? fmt::format("{} in {}", text, call) : call;
    }
    if (!a.wchan.empty()) text += fmt::format("  ({})", a.wchan.view());
    return text;
}

[[nodiscard]] TRIAGE_DECL std::string syscall_counts(const thread_report& r) {
    if (!r.syscalls) return "-";
    std::string text = std::to_string(r.syscalls->total);
    std::vector<std::pair<std::uint64_t, std::string_view>> top;
    for (const auto& [name, count] : r.syscalls->syscalls) top.emplace_back(count, name);
    std::sort(top.rbegin(), top.rend());
    for (std::size_t i = 0; i < top.size() && i < 3; ++i)
        text += fmt::format("{}{} {}", i == 0 ? " (" : ", ", top[i].second, top[i].first);
    return top.empty() ? text : text + ")";
}

[[nodiscard]] TRIAGE_DECL std::vector<column> columns(const top_report& report) {
    std::vector<column> out{{"TID", 8, [](const thread_report& r) { return std::to_string(r.tid); }}};
    if (std::ranges::any_of(report.threads, [](const thread_report& r) { return r.ns_tid.has_value(); })) {
        out.push_back({"NS TID", 8, [](const thread_report& r) { return r.ns_tid ? std::to_string(*r.ns_tid) : "-"; }});
    }
    out.push_back({"NAME", -16, [](const thread_report& r) { return escape_controls(r.stat.comm.view()); }});
    out.push_back({"CPU%", 6, [](const thread_report& r) { return r.cpu_percent ? fmt::format("{:.1f}", *r.cpu_percent) : "-"; }});
    out.push_back({"S", 2, [](const thread_report& r) { return std::string(1, r.stat.state); }});
    if (report.syscall_window) out.push_back({"SYSCALLS", -28, syscall_counts});
    out.push_back({"WHERE", 0, [](const thread_report& r) { return where(r.activity); }});
    return out;
}

[[nodiscard]] TRIAGE_DECL std::string join_cells(const std::vector<column>& columns,
                                                 const std::function<std::string(const column&)>& text) {
    std::string line;
    for (const auto& c : columns) {
        std::string cell = text(c);
        line += c.width == 0  ? cell
                : c.width > 0 ? fmt::format("{:>{}}  ", cell, c.width)
                              : fmt::format("{:<{}}  ", cell, -c.width);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

} // namespace triage::report::detail::top_text

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const top_report& report, std::size_t limit) {
    namespace d = detail::top_text;
    using std::chrono::duration;
    std::string text;
    auto out = std::back_inserter(text);
    std::string command = report.command.size() > 100 ? report.command.substr(0, 97) + "..." : report.command;
    fmt::format_to(out, "pid {}  {}\n", report.pid, escape_controls(command));
    fmt::format_to(out, "{} threads, CPU {:.1f}% (100% = one core, over {} ms)\n", report.threads.size(),
                   report.total_cpu_percent, std::chrono::duration_cast<std::chrono::milliseconds>(report.interval).count());
    if (report.syscall_window) {
        fmt::format_to(out, "{} system calls in {} ms; the target was stopped {:.2f} ms in total\n", report.syscall_total,
                       std::chrono::duration_cast<std::chrono::milliseconds>(*report.syscall_window).count(),
                       duration<double, std::milli>(report.stopped_for.value_or(std::chrono::nanoseconds{0})).count());
    }
    const auto columns = d::columns(report);
    fmt::format_to(out, "\n{}\n", d::join_cells(columns, [](const d::column& c) { return std::string{c.header}; }));
    std::size_t shown = 0;
    for (const auto& row : report.threads) {
        if (limit != 0 && shown++ == limit) {
            fmt::format_to(out, "... {} more threads\n", report.threads.size() - limit);
            break;
        }
        fmt::format_to(out, "{}\n", d::join_cells(columns, [&](const d::column& c) { return c.cell(row); }));
    }
    return text;
}

} // namespace triage::report
