// triage/report/impl/plt_report.ipp — the definitions of
// triage/report/plt_report.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include <fmt/core.h>

#include "triage/elf/mapped_object.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/plt/uprobe_counter.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/report/plt_report.hpp"

namespace triage::report {

namespace detail {

// The thread of `pid` that used the most CPU over `window`, and its CPU%.
[[nodiscard]] inline result<std::pair<pid_t, double>> hottest_thread(const procfs::proc_dir& dir,
                                                                     std::chrono::milliseconds window) {
    auto before = TRIAGE_TRY(procfs::sample_cpu(dir));
    procfs::wait_for_window(before, window);
    auto after = TRIAGE_TRY(procfs::sample_cpu(dir));
    std::pair<pid_t, double> best{0, -1};
    for (const auto& t : procfs::cpu_usage(before, after)) {
        if (t.cpu_percent && *t.cpu_percent > best.second) best = {t.stat.tid, *t.cpu_percent};
    }
    if (best.first == 0) return fail(errc::no_such_process, "choosing the hottest thread", "no thread was measured");
    return best;
}

// The per-thread rows of the window: calls from the counts, name, CPU% and
// kernel time from the CPU samples around the window.
[[nodiscard]] inline std::vector<plt_thread> thread_rows(const std::map<pid_t, std::uint64_t>& calls,
                                                         const std::set<pid_t>& late, const procfs::cpu_sample& before,
                                                         const procfs::cpu_sample& after) {
    std::map<pid_t, plt_thread> rows;
    for (const auto& [tid, n] : calls) rows[tid] = plt_thread{tid, {}, n, std::nullopt, {}, late.contains(tid)};
    const auto tick = std::chrono::nanoseconds{1'000'000'000 / procfs::clock_ticks_per_second()};
    for (const auto& s : before.threads) {
        if (auto it = rows.find(s.stat.tid); it != rows.end()) it->second.name = std::string{s.stat.comm.view()};
    }
    for (const auto& s : after.threads) {
        auto it = rows.find(s.stat.tid);
        if (it == rows.end()) continue;
        it->second.name = std::string{s.stat.comm.view()};
        auto was = std::ranges::find_if(before.threads, [&](const auto& b) { return b.stat.tid == s.stat.tid; });
        const std::uint64_t from = was == before.threads.end() ? 0 : was->stat.stime;
        if (s.stat.stime >= from) it->second.kernel_time = tick * static_cast<std::int64_t>(s.stat.stime - from);
    }
    for (const auto& t : procfs::cpu_usage(before, after)) {
        if (auto it = rows.find(t.stat.tid); it != rows.end()) it->second.cpu_percent = t.cpu_percent;
    }
    std::vector<plt_thread> out;
    for (auto& [tid, row] : rows) out.push_back(std::move(row));
    std::ranges::stable_sort(out, [](const plt_thread& a, const plt_thread& b) { return a.calls > b.calls; });
    return out;
}

[[nodiscard]] inline std::string skipped_summary(const std::vector<plt::skipped_object>& skipped) {
    std::string out;
    for (std::size_t i = 0; i < skipped.size() && i < 3; ++i) {
        out += (i ? "; " : "") + skipped[i].object + (skipped[i].function.empty() ? "" : " " + skipped[i].function) +
               ": " + skipped[i].reason;
    }
    return out;
}

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<plt_report> count_library_calls(pid_t pid, const plt_options& options) {
    using clock = std::chrono::steady_clock;
    auto dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
    plt_report report;
    report.pid = pid;
    auto args = TRIAGE_TRY(procfs::read_cmdline(dir));
    report.command = procfs::join_cmdline(args);
    report.only_thread = options.tid;
    if (options.hot) {
        const auto [tid, percent] = TRIAGE_TRY(detail::hottest_thread(dir, options.hot_window));
        report.only_thread = tid;
        report.hot_cpu_percent = percent;
    }

    const auto objects = TRIAGE_TRY(elf::mapped_objects(pid));
    if (objects.empty()) {
        return fail(errc::not_found, "counting library calls of process " + std::to_string(pid),
                    "it maps no ELF object: a kernel thread, or a process that is exiting");
    }
    auto mem = TRIAGE_TRY(memory::proc_mem::open(pid));
    auto plan = plt::plan_probes(mem, objects, options.filter);
    report.objects_searched = plan.objects_searched;
    report.skipped = std::move(plan.skipped);
    if (plan.probes.empty()) {
        return fail(errc::not_found, "counting library calls of process " + std::to_string(pid),
                    "no call site matches in " + std::to_string(report.objects_searched) + " objects" +
                        (report.skipped.empty() ? std::string{} : " (" + detail::skipped_summary(report.skipped) + ")"));
    }
    std::vector<plt::probe_point> points;
    points.reserve(plan.probes.size());
    for (const auto& p : plan.probes) points.push_back(p.placed.point);
    report.probes = points.size();

    // Closing the probes is what costs: one kernel grace period per probe and thread, serially.
    const auto per_event = TRIAGE_TRY(plt::teardown_cost(pid, points.front()));
    const std::size_t threads = report.only_thread ? 1 : TRIAGE_TRY(procfs::task_ids(pid)).size();
    report.teardown_estimate = per_event * static_cast<std::int64_t>(points.size() * threads);
    if (report.teardown_estimate > options.teardown_budget) {
        using std::chrono::duration;
        return fail(errc::limit_exceeded,
                    "counting " + std::to_string(points.size()) + " call sites in " + std::to_string(threads) +
                        " threads of process " + std::to_string(pid) + " with uprobes",
                    fmt::format("the kernel removes uprobes one at a time, {:.1f} ms each here, so the target would "
                                "stay probed ({} probes) for about {:.0f} s after counting (the budget is {:.0f} s): "
                                "count fewer functions (-e, --object) or one thread (--tid, --hot)",
                                duration<double, std::milli>(per_event).count(), points.size() * threads,
                                duration<double>(report.teardown_estimate).count(),
                                duration<double>(options.teardown_budget).count()));
    }

    const auto opening = clock::now();
    std::optional<plt::uprobe_counter> counter = TRIAGE_TRY(plt::uprobe_counter::open(pid, std::move(points), report.only_thread));
    report.setup = clock::now() - opening;
    report.backend_reason = "uprobes through perf_event_open: the kernel counts each thread's calls and removes "
                            "its breakpoints when we close them or die";
    const std::set<pid_t> at_start = counter->thread_ids();

    auto before = TRIAGE_TRY(procfs::sample_cpu(dir));
    TRIAGE_TRY(counter->start());
    const auto started = clock::now();
    if (options.started) options.started(report.probes, at_start.size());
    const auto end = started + options.duration;
    for (auto now = started; now < end; now = clock::now()) {
        std::this_thread::sleep_for(std::min<clock::duration>(options.poll, end - now));
        if (options.stop_requested && options.stop_requested()) {
            report.interrupted = true;
            break;
        }
        if (auto added = counter->add_new_threads(); !added) {
            if (added.error().code != errc::no_such_process) return fail(std::move(added.error()));
            report.target_exited = true;  // its threads' counts stand
            break;
        }
    }
    TRIAGE_TRY(counter->stop());
    report.window = clock::now() - started;
    auto after = procfs::sample_cpu(dir);
    if (!after) after = before;  // the process exited during the window: its threads' counts still stand

    const auto counts = TRIAGE_TRY(counter->read());
    const std::set<pid_t> counted = counter->thread_ids();
    const auto closing = clock::now();
    counter.reset();
    report.teardown = clock::now() - closing;

    std::vector<plt_function> functions(plan.probes.size());
    std::map<pid_t, std::uint64_t> per_thread;
    for (const auto& id : counted) per_thread[id] = 0;
    for (const auto& c : counts) {
        per_thread[c.tid] += c.calls;
        if (c.calls > 0) functions[c.probe].threads.push_back({c.tid, c.calls});
    }
    for (std::size_t i = 0; i < plan.probes.size(); ++i) {
        auto& f = functions[i];
        auto& p = plan.probes[i];
        f.function = std::move(p.function);
        f.caller = std::move(p.caller);
        f.probed_object = std::move(p.placed.object);
        f.kind = p.kind;
        f.address = p.placed.runtime_address;
        for (const auto& t : f.threads) f.calls += t.calls;
        std::ranges::stable_sort(f.threads, [](const auto& a, const auto& b) { return a.calls > b.calls; });
        report.total_calls += f.calls;
    }
    std::erase_if(functions, [](const plt_function& f) { return f.calls == 0; });
    std::ranges::stable_sort(functions, [](const plt_function& a, const plt_function& b) { return a.calls > b.calls; });
    report.functions = std::move(functions);

    std::set<pid_t> late;
    for (pid_t tid : counted)
        if (!at_start.contains(tid)) late.insert(tid);
    report.threads = detail::thread_rows(per_thread, late, before, *after);
    std::chrono::nanoseconds kernel{0};
    for (const auto& t : report.threads) kernel += t.kernel_time;
    if (report.total_calls >= 1000) {
        report.kernel_ns_per_call = static_cast<double>(kernel.count()) / static_cast<double>(report.total_calls);
    }
    return report;
}

} // namespace triage::report
