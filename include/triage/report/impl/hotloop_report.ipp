// triage/report/impl/hotloop_report.ipp — the definitions of
// triage/report/hotloop_report.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/error.hpp"
#include "triage/base/result.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/exe.hpp"
#include "triage/procfs/ns_tids.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/status.hpp"
#include "triage/report/changed_files.hpp"
#include "triage/report/hotloop_report.hpp"
#include "triage/report/loop_evidence.hpp"
#include "triage/report/one_stop.hpp"
#include "triage/report/thread_report.hpp"

namespace triage::report::detail::hotloop {

struct switches {
    std::uint64_t voluntary = 0;
    std::uint64_t involuntary = 0;
};

using frames = std::vector<cpython::python_frame>;

[[nodiscard]] TRIAGE_DECL std::map<pid_t, switches> read_switches(const procfs::proc_dir& dir, const procfs::cpu_sample& sample) {
    std::map<pid_t, switches> out;
    for (const auto& t : sample.threads) {
        if (auto s = procfs::read_status(dir, t.stat.tid))
            out.emplace(t.stat.tid, switches{s->voluntary_ctxt_switches, s->nonvoluntary_ctxt_switches});
    }
    return out;
}

// Samples every thread's stack `count` times over the window, by thread
// identity (threading.get_ident()).
TRIAGE_DECL std::size_t sample_stacks(cpython::live_python& py, const procfs::cpu_sample& before, const hotloop_options& options,
                                      std::map<std::uint64_t, std::vector<frames>>& samples) {
    auto walker = cpython::make_walker(py.memory, py.target);
    std::size_t taken = 0;
    for (std::size_t k = 0; k < options.samples; ++k) {
        procfs::wait_for_window(before, options.window * static_cast<std::int64_t>(k + 1) /
                                            static_cast<std::int64_t>(options.samples + 1));
        auto snapshot = cpython::consistent_snapshot(walker);
        if (!snapshot) continue;
        ++taken;
        for (auto& t : snapshot->threads)
            if (t.consistent && !t.failure) samples[t.python_ident].push_back(std::move(t.frames));
    }
    return taken;
}

} // namespace triage::report::detail::hotloop

namespace triage::report {

[[nodiscard]] TRIAGE_DECL result<hotloop_report> hotloop(pid_t pid, const hotloop_options& options) {
    namespace d = detail::hotloop;
    const auto started = std::chrono::steady_clock::now();
    auto dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
    auto before = TRIAGE_TRY(procfs::sample_cpu(dir));
    const auto switches_before = d::read_switches(dir, before);

    hotloop_report report;
    report.pid = pid;
    report.window = options.window;
    report.hot_percent = options.hot_percent;
    report.command = procfs::join_cmdline(TRIAGE_TRY(procfs::read_cmdline(dir)));
    if (auto exe = procfs::read_exe(dir)) report.executable = exe->path + (exe->deleted ? " (deleted)" : "");
    if (auto files = changed_files(pid)) report.files = std::move(*files);
    else report.files_failure = std::move(files.error());
    std::optional<coredump::dump_plan> plan;
    if (options.core) {
        plan.emplace(TRIAGE_TRY(coredump::plan_dump(pid, *options.core, options.dump)));
        coredump::reserve_copy(*plan);
    }
    auto python = cpython::open_live_python(pid);  // stays in place: walkers borrow its memory
    std::map<std::uint64_t, std::vector<d::frames>> samples;
    if (python) report.samples = d::sample_stacks(*python, before, options, samples);
    else report.python_failure = python.error();
    procfs::wait_for_window(before, options.window);

    auto after = TRIAGE_TRY(procfs::sample_cpu(dir));
    const auto switches_after = d::read_switches(dir, after);
    const auto usage = procfs::cpu_usage(before, after);
    report.total_cpu_percent = procfs::total_cpu_percent(usage);
    auto rows = thread_reports(usage);
    TRIAGE_TRY(read_activities(dir, rows));
    if (auto ids = procfs::read_ns_tids(dir)) join_ns_tids(rows, *ids);
    report.threads = rows.size();
    const pid_t first = rows.empty() ? pid : rows.front().tid;

    auto stop = TRIAGE_TRY(read_in_one_stop(pid, python ? &*python : nullptr, std::move(plan),
                                            {.cpu = usage, .first_tid = first, .syscalls = options.syscalls}));
    report.stops = stop.stops;
    report.stopped_for = stop.stopped_for;
    report.core = std::move(stop.core);
    if (stop.python_failure) report.python_failure = std::move(stop.python_failure);
    if (stop.stacks) {
        report.python_version = stop.stacks->python_version;
        join_python(rows, *stop.stacks);
    }
    if (stop.syscalls) {
        report.syscall_window = stop.syscalls->window;
        join_syscalls(rows, *stop.syscalls);
    }

    auto investigated = [&](thread_report&& row) {
        hot_thread h{std::move(row), {}, {}, {}};
        const auto was = switches_before.find(h.row.tid);
        const auto is = switches_after.find(h.row.tid);
        if (was != switches_before.end() && is != switches_after.end()) {
            h.voluntary_switches = is->second.voluntary - was->second.voluntary;
            h.involuntary_switches = is->second.involuntary - was->second.involuntary;
        }
        if (h.row.python) {
            std::vector<d::frames> seen = samples[h.row.python->python_ident];
            seen.push_back(h.row.python->frames);
            h.loop = loop_evidence_of(seen);
        }
        return h;
    };
    for (auto& row : rows) {
        if (row.cpu_percent.value_or(0) < options.hot_percent) break;  // hottest first
        report.hot.push_back(investigated(std::move(row)));
    }
    if (report.hot.empty() && !rows.empty()) report.busiest = investigated(std::move(rows.front()));
    report.elapsed = std::chrono::steady_clock::now() - started;
    return report;
}

} // namespace triage::report
