// triage/report/impl/top_report.ipp — the definitions of
// triage/report/top_report.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/top_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL result<top_report> top(pid_t pid, const top_options& options) {
    auto dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
    auto before = TRIAGE_TRY(procfs::sample_cpu(dir));
    procfs::wait_for_window(before, options.interval);
    auto after = TRIAGE_TRY(procfs::sample_cpu(dir));

    top_report report;
    report.pid = pid;
    report.interval = options.interval;
    auto args = TRIAGE_TRY(procfs::read_cmdline(dir));
    report.command = args.empty() ? "[" + std::string{after.threads.front().stat.comm.view()} + "]"  // kernel thread
                                  : procfs::join_cmdline(args);
    auto usage = procfs::cpu_usage(before, after);
    report.total_cpu_percent = procfs::total_cpu_percent(usage);
    report.threads = thread_reports(usage);
    TRIAGE_TRY(read_activities(dir, report.threads));
    if (auto ids = procfs::read_ns_tids(dir)) join_ns_tids(report.threads, *ids);
    if (options.syscalls.count() > 0) {
        auto watch = TRIAGE_TRY(ptrace::watch_syscalls(pid, options.syscalls));
        join_syscalls(report.threads, watch);
        report.syscall_window = watch.window;
        report.syscall_total = watch.total();
        report.stopped_for = watch.stopped_for();
    }
    return report;
}

} // namespace triage::report
