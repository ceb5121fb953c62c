// triage/report/impl/plt_report.ipp — the definitions of
// triage/report/plt_report.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include <fmt/core.h>

#include "triage/base/path.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/function_prototypes.hpp"
#include "triage/plt/call_arguments.hpp"
#include "triage/plt/int3_guardian.hpp"
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

// What a counting backend found: per thread and probe, the threads counted and those found late.
struct plt_counts {
    std::vector<plt::thread_calls> calls;
    std::set<pid_t> counted;
    std::set<pid_t> late;
};

// The report's functions and threads from the counts.
inline void fill_counts(plt_report& report, plt::probe_plan& plan, const plt_counts& counts,
                        const procfs::cpu_sample& before, const procfs::cpu_sample& after) {
    std::vector<plt_function> functions(plan.probes.size());
    std::map<pid_t, std::uint64_t> per_thread;
    for (const auto& id : counts.counted) per_thread[id] = 0;
    for (const auto& c : counts.calls) {
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

    report.threads = thread_rows(per_thread, counts.late, before, after);
    std::chrono::nanoseconds kernel{0};
    for (const auto& t : report.threads) kernel += t.kernel_time;
    if (report.total_calls >= 1000) {
        report.kernel_ns_per_call = static_cast<double>(kernel.count()) / static_cast<double>(report.total_calls);
    }
}

// The separate debug file a -dbg package installs for `path`, by its build-id.
[[nodiscard]] inline std::optional<std::string> debug_file_by_build_id(const std::string& path) {
    auto file = elf::file::open(path);
    if (!file) return std::nullopt;
    auto id = file->build_id();
    if (!id || id->size() < 2) return std::nullopt;
    const std::string hex_id = elf::build_id_hex(*id);
    std::string debug = "/usr/lib/debug/.build-id/" + hex_id.substr(0, 2) + "/" + hex_id.substr(2) + ".debug";
    if (::access(debug.c_str(), R_OK) != 0) return std::nullopt;
    return debug;
}

// How to print each probe's arguments: a pattern that says so, else the
// DWARF of the probed object or of its debug file, else unknown.
[[nodiscard]] inline std::vector<plt::call_signature> call_signatures(const plt::probe_plan& plan,
                                                                      const std::vector<plt::function_spec>& specs) {
    std::vector<plt::call_signature> out(plan.probes.size());
    std::map<std::string, std::vector<std::size_t>> by_file;  // probed file → probes that DWARF must describe
    for (std::size_t i = 0; i < plan.probes.size(); ++i) {
        const auto& probe = plan.probes[i];
        const std::string& caller = probe.caller.empty() ? probe.placed.object : probe.caller;
        for (const auto& spec : specs) {
            if (!spec.arguments || plt::detail::function_selected({spec.pattern}, probe.function, caller) == 0) continue;
            out[i] = {*spec.arguments, "-e", false};
            break;
        }
        if (out[i].source.empty()) by_file[probe.placed.point.path].push_back(i);
    }
    for (const auto& [path, probes] : by_file) {
        std::set<std::string, std::less<>> names;
        for (std::size_t i : probes) names.insert(plan.probes[i].function);
        std::vector<std::string> sources{path};
        if (auto debug = debug_file_by_build_id(path)) sources.push_back(*debug);
        for (const std::string& source : sources) {
            auto prototypes = elf::function_prototypes(source, names);
            if (!prototypes) continue;
            for (std::size_t i : probes) {
                auto it = prototypes->find(plan.probes[i].function);
                if (!out[i].source.empty() || it == prototypes->end()) continue;
                plt::call_signature& signature = out[i];
                for (const auto& parameter : it->second.parameters) signature.arguments.push_back({parameter.kind, parameter.size});
                signature.variadic = it->second.variadic;
                signature.source = "DWARF of " + std::string{file_name(plan.probes[i].placed.object)};
                if (source != path) signature.source += " (" + source + ")";
            }
        }
    }
    return out;
}

// "function+0xoff in OBJECT" for a code address of the process, else "OBJECT+0xoff", else "".
class code_symbolizer {
public:
    explicit code_symbolizer(const std::vector<elf::mapped_object>& objects) : objects_{objects} {}
    [[nodiscard]] std::string describe(std::uint64_t address) {
        for (const elf::mapped_object& o : objects_) {
            if (!o.contains(address) || !o.executable()) continue;
            const std::string name{file_name(o.path)};
            auto [it, added] = files_.try_emplace(o.path);
            if (added) {
                if (auto file = elf::open_mapped(o)) it->second.emplace(std::move(*file));
            }
            const std::uint64_t file_address = address - o.load_bias;
            if (it->second) {
                if (auto s = it->second->symbol_at(file_address))
                    return fmt::format("{}+{:#x} in {}", s->name, file_address - s->value, name);
            }
            return fmt::format("{}+{:#x}", name, file_address);
        }
        return {};
    }

private:
    const std::vector<elf::mapped_object>& objects_;
    std::map<std::string, std::optional<elf::file>> files_;
};

// The perf backend: steps 3 and 4 with uprobes.
inline result<plt_counts> count_with_uprobes(plt_report& report, std::vector<plt::probe_point> points,
                                             const plt_options& options, const procfs::proc_dir& dir,
                                             procfs::cpu_sample& before, procfs::cpu_sample& after) {
    using clock = std::chrono::steady_clock;
    const auto opening = clock::now();
    std::optional<plt::uprobe_counter> counter = TRIAGE_TRY(plt::uprobe_counter::open(report.pid, std::move(points), report.only_thread));
    report.setup = clock::now() - opening;
    const std::set<pid_t> at_start = counter->thread_ids();

    before = TRIAGE_TRY(procfs::sample_cpu(dir));
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
    auto sampled = procfs::sample_cpu(dir);
    after = sampled ? std::move(*sampled) : before;  // the process exited during the window: its counts still stand

    plt_counts out;
    out.calls = TRIAGE_TRY(counter->read());
    out.counted = counter->thread_ids();
    for (pid_t tid : out.counted)
        if (!at_start.contains(tid)) out.late.insert(tid);
    const auto closing = clock::now();
    counter.reset();
    report.teardown = clock::now() - closing;
    return out;
}

// The int3 backend: the same window, served by a guardian process.
inline result<plt_counts> count_with_breakpoints(plt_report& report, const plt::probe_plan& plan,
                                                 const std::vector<plt::function_spec>& specs,
                                                 const std::vector<elf::mapped_object>& objects, const plt_options& options,
                                                 const procfs::proc_dir& dir, procfs::cpu_sample& before,
                                                 procfs::cpu_sample& after) {
    using clock = std::chrono::steady_clock;
    std::vector<plt::breakpoint> breakpoints;
    for (const auto& p : plan.probes) breakpoints.push_back({p.placed.runtime_address, p.placed.slot});
    std::vector<plt::call_signature> signatures;
    std::optional<plt::int3_trace> trace;
    if (options.trace > 0) {
        signatures = call_signatures(plan, specs);
        trace = plt::int3_trace{.max_calls = options.trace, .max_string = options.max_string};
        for (const auto& signature : signatures) trace->strings.push_back(plt::string_arguments(signature));
    }
    before = TRIAGE_TRY(procfs::sample_cpu(dir));
    const auto called = clock::now();
    clock::time_point opened = called;
    plt::int3_options o{.window = options.duration,
                        .only = report.only_thread,
                        .poll = options.poll,
                        .stop_requested = options.stop_requested,
                        .started = [&](std::size_t threads) {
                            opened = clock::now();
                            if (options.started) options.started(report.probes, report.only_thread ? 1 : threads);
                        }};
    o.trace = std::move(trace);
    auto counts = TRIAGE_TRY(plt::count_int3_hits_guarded(report.pid, breakpoints, o));
    const auto returned = clock::now();
    auto sampled = procfs::sample_cpu(dir);
    after = sampled ? std::move(*sampled) : before;
    report.setup = opened - called;
    report.window = counts.window;
    report.teardown = std::max(clock::duration::zero(), returned - opened - counts.window);
    report.interrupted = counts.interrupted;
    report.target_exited = counts.target_exited || counts.target_execed;
    report.target_stopped = counts.stopped;
    report.world_stops = counts.world_stops;
    report.children_cleaned = counts.children_cleaned;
    report.trace_full = counts.trace_full;
    code_symbolizer symbolizer{objects};
    for (const plt::traced_call& call : counts.traced) {
        const auto& probe = plan.probes[call.probe];
        const auto& signature = signatures[call.probe];
        // The return address is just past the call instruction: look up the byte before it.
        std::string from = call.return_address == 0 ? std::string{} : symbolizer.describe(call.return_address - 1);
        report.trace.push_back({call.tid, call.at, probe.function, probe.caller,
                                plt::format_call(probe.function, signature, call, options.max_string), std::move(from),
                                signature.source});
    }
    plt_counts out;
    out.calls = std::move(counts.calls);
    out.counted = report.only_thread ? std::set<pid_t>{*report.only_thread} : std::move(counts.threads);
    for (pid_t tid : counts.added_late)
        if (out.counted.contains(tid)) out.late.insert(tid);
    return out;
}

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<plt_report> count_library_calls(pid_t pid, const plt_options& options) {
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
    // A pattern may say how to print its arguments (strchr(s,c)): matched without that part.
    plt::call_filter filter = options.filter;
    std::vector<plt::function_spec> specs;
    for (std::string& pattern : filter.functions) {
        specs.push_back(TRIAGE_TRY(plt::parse_function_spec(pattern)));
        pattern = specs.back().pattern;
    }
    auto plan = plt::plan_probes(mem, objects, filter);
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

    // perf, unless it cannot be used (or, automatic, its teardown would not fit the budget).
    bool use_perf = options.backend != plt_backend::int3;
    const std::string int3_reason = "int3 breakpoints from a guardian process under ptrace, which writes every "
                                    "original byte back when counting ends or we die";
    if (options.trace > 0) {
        if (options.backend == plt_backend::perf)
            return fail(errc::invalid_argument, "tracing the calls of process " + std::to_string(pid),
                        "arguments are read with each call stopped: that is the int3 backend, not perf");
        use_perf = false;
        report.backend_reason = int3_reason + "; tracing reads each call's arguments while it is stopped";
    }
    if (use_perf) {
        // Closing the probes is what costs: one kernel grace period per probe and thread, serially.
        auto per_event = plt::teardown_cost(pid, points.front());
        if (!per_event && options.backend == plt_backend::automatic &&
            (per_event.error().code == errc::permission_denied || per_event.error().code == errc::unsupported)) {
            use_perf = false;
            report.backend_reason = int3_reason + "; uprobes cannot be used: " + per_event.error().message();
        } else if (!per_event) {
            return fail(std::move(per_event.error()));
        } else {
            const std::size_t threads = report.only_thread ? 1 : TRIAGE_TRY(procfs::task_ids(pid)).size();
            report.teardown_estimate = *per_event * static_cast<std::int64_t>(points.size() * threads);
            using std::chrono::duration;
            const std::string too_slow = fmt::format(
                "the kernel removes uprobes one at a time, {:.1f} ms each here, so the target would stay probed ({} "
                "probes) for about {:.0f} s after counting (the budget is {:.0f} s)",
                duration<double, std::milli>(*per_event).count(), points.size() * threads,
                duration<double>(report.teardown_estimate).count(), duration<double>(options.teardown_budget).count());
            if (report.teardown_estimate > options.teardown_budget) {
                if (options.backend == plt_backend::perf)
                    return fail(errc::limit_exceeded,
                                "counting " + std::to_string(points.size()) + " call sites in " + std::to_string(threads) +
                                    " threads of process " + std::to_string(pid) + " with uprobes",
                                too_slow + ": count fewer functions (-e, --object) or one thread (--tid, --hot), or "
                                           "use the int3 backend");
                use_perf = false;
                report.backend_reason = int3_reason + "; uprobes not used: " + too_slow;
            }
        }
    }
    procfs::cpu_sample before;
    procfs::cpu_sample after;
    detail::plt_counts counts;
    if (use_perf) {
        report.backend = "perf";
        report.backend_reason = "uprobes through perf_event_open: the kernel counts each thread's calls and removes "
                                "its breakpoints when we close them or die";
        counts = TRIAGE_TRY(detail::count_with_uprobes(report, std::move(points), options, dir, before, after));
    } else {
        report.backend = "int3";
        if (report.backend_reason.empty()) report.backend_reason = int3_reason + " (asked for)";
        counts = TRIAGE_TRY(detail::count_with_breakpoints(report, plan, specs, objects, options, dir, before, after));
    }
    detail::fill_counts(report, plan, counts, before, after);
    return report;
}

} // namespace triage::report
