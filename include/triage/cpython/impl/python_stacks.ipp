// triage/cpython/impl/python_stacks.ipp — the definitions of
// triage/cpython/python_stacks.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/path.hpp"
#include "triage/base/result.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/signal_names.hpp"
#include "triage/cpython/core_target.hpp"
#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/frame_locals.hpp"
#include "triage/cpython/gil_wait.hpp"
#include "triage/cpython/asyncio_tasks.hpp"
#include "triage/cpython/greenlets.hpp"
#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/native_stacks.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/cpython/stopped_snapshot.hpp"
#include "triage/cpython/thread_names.hpp"
#include "triage/elf/debug_file_locator.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/exe.hpp"
#include "triage/procfs/hottest.hpp"
#include "triage/procfs/ns_tids.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/syscall.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/stack_copy.hpp"

namespace triage::cpython::detail::python_stacks {

// Each frame's locals, keyed by the frame's address and code object.
using locals_by_frame = std::map<std::pair<std::uint64_t, std::uint64_t>, frame_variables>;

template <class Memory>
[[nodiscard]] locals_by_frame read_locals(Memory& memory, const layout& l, const stack_snapshot& snapshot) {
    locals_reader reader{memory, l};
    locals_by_frame out;
    for (const python_thread& t : snapshot.threads) {
        for (const python_frame& f : t.frames) {
            frame_variables v;
            if (auto values = reader.read(f)) v.values = std::move(*values);
            else v.failure = std::move(values.error());
            out.emplace(std::pair{f.address, f.code}, std::move(v));
        }
    }
    return out;
}

// The locals read, given to each frame of the report.
TRIAGE_DECL void attach_locals(python_stacks_report& report, locals_by_frame& read) {
    report.locals = true;
    for (thread_stack& t : report.threads) {
        t.locals.clear();
        for (const python_frame& f : t.frames) {
            auto it = read.find({f.address, f.code});
            if (it != read.end()) t.locals.push_back(std::move(it->second));
            else t.locals.push_back({{}, error{errc::not_found, 0, "reading the locals of " + f.function + ": not read", {}}});
        }
    }
}

template <class Memory>
[[nodiscard]] result<greenlet_census> census_of(Memory& memory, const python_target& target, const stack_snapshot& snapshot,
                                                pid_t main_tid) {
    greenlet_options options;
    options.main_tid = main_tid;
    return read_greenlets(memory, target.layout, target.runtime.roots, snapshot, options);
}

// The census, each greenlet given to its thread's row.
TRIAGE_DECL void attach_greenlets(python_stacks_report& report, result<greenlet_census>& read) {
    greenlets_read& out = report.greenlets.emplace();
    if (!read) {
        out.failure = std::move(read.error());
        return;
    }
    out.version = std::move(read->version);
    out.objects_scanned = read->objects_scanned;
    for (greenlet_stack& g : read->greenlets) {
        auto row = std::find_if(report.threads.begin(), report.threads.end(),
                                [&](const thread_stack& t) { return g.thread != 0 && t.python_ident == g.thread; });
        (row != report.threads.end() ? row->greenlets : out.elsewhere).push_back(std::move(g));
    }
}

// The asyncio census, each task given to the row of its loop's thread.
TRIAGE_DECL void attach_tasks(python_stacks_report& report, result<asyncio_census>& read) {
    tasks_read& out = report.tasks.emplace();
    if (!read) {
        out.failure = std::move(read.error());
        return;
    }
    out.found_in = std::move(read->found_in);
    out.objects_scanned = read->objects_scanned;
    out.not_c_tasks = read->not_c_tasks;
    for (asyncio_task& t : read->tasks) {
        auto row = std::find_if(report.threads.begin(), report.threads.end(),
                                [&](const thread_stack& r) { return t.thread != 0 && r.python_ident == t.thread; });
        (row != report.threads.end() ? row->tasks : out.elsewhere).push_back(std::move(t));
    }
}

// Every thread of a sample, without a percentage.
[[nodiscard]] TRIAGE_DECL std::vector<procfs::thread_cpu> without_cpu(const procfs::cpu_sample& sample) {
    std::vector<procfs::thread_cpu> out;
    out.reserve(sample.threads.size());
    for (const auto& t : sample.threads) out.push_back({t.stat, std::nullopt, {}, {}});
    return out;
}

[[nodiscard]] TRIAGE_DECL python_stacks_report describe(const live_python& py, stacks_source source) {
    python_stacks_report report;
    report.pid = py.dir.pid();
    report.command_line = py.command_line;
    report.executable = py.executable;
    report.interpreter = py.target.image.path;
    report.python_version = py.target.version.text();
    report.free_threaded = py.target.layout.free_threaded;
    report.source = source;
    return report;
}

[[nodiscard]] TRIAGE_DECL thread_stack row_of(python_thread&& t) {
    thread_stack row;
    row.tid = t.tid;
    row.python_ident = t.python_ident;
    row.python_name = std::move(t.python_name);
    row.holds_gil = t.holds_gil;
    row.consistent = t.consistent;
    row.frames = std::move(t.frames);
    row.failure = std::move(t.failure);
    return row;
}

// Joins a live snapshot with what /proc says of each thread. `known`: the
// threads measured before the snapshot (CPU%, names, states). The thread
// list is read again now, so threads born since keep their identity; with
// `before`, their CPU% is measured from their start. `held`: the target is
// stopped by a tracer now, so states read now are not the threads' own.
[[nodiscard]] TRIAGE_DECL result<void> join(live_python& py, stack_snapshot& snapshot, std::span<const procfs::thread_cpu> known,
                                            const procfs::cpu_sample* before, bool held, python_stacks_report& report) {
    std::map<pid_t, procfs::thread_cpu> facts;
    for (const auto& t : known) facts.emplace(t.stat.tid, t);
    if (auto late = procfs::sample_cpu(py.dir)) {
        auto now = before != nullptr ? procfs::cpu_usage(*before, *late) : without_cpu(*late);
        for (auto& t : now) {
            if (held) t.stat.state = '?';
            facts.emplace(t.stat.tid, std::move(t));
        }
    }
    // Ids as the target sees them (its own PID namespace).
    const procfs::ns_tid_map ns = procfs::read_ns_tids(py.dir).value_or(procfs::ns_tid_map{});
    std::vector<pid_t> inside;
    for (const auto& [tid, fact] : facts) {
        if (!ns.nested()) inside.push_back(tid);
        else if (auto inner = ns.ns_tid_of(tid)) inside.push_back(*inner);
    }
    TRIAGE_TRY(assign_tids(py.memory, snapshot, inside));
    std::vector<thread_stack> rows;
    rows.reserve(snapshot.threads.size());
    for (python_thread& t : snapshot.threads) {
        const auto gil_locks = gil_wait_range(py.target.layout, t.gil);
        thread_stack row = row_of(std::move(t));
        if (row.tid && ns.nested()) {
            row.ns_tid = row.tid;
            row.tid = ns.tid_of(*row.ns_tid);
        }
        if (gil_locks && row.tid && !row.holds_gil) {
            auto syscall = procfs::read_syscall(py.dir, *row.tid);
            row.waits_for_gil = syscall && waits_for_gil(*syscall, *gil_locks);
        }
        if (row.tid && !facts.contains(*row.tid)) {
            // A thread the listings missed (the kernel can cut a listing
            // short while threads exit): read it alone.
            if (auto one = procfs::sample_threads(py.dir, std::span{&*row.tid, 1})) {
                auto measured = before != nullptr ? procfs::cpu_usage(*before, *one) : without_cpu(*one);
                for (auto& t : measured) {
                    if (held) t.stat.state = '?';
                    facts.emplace(t.stat.tid, std::move(t));
                }
            }
        }
        if (auto fact = row.tid ? facts.find(*row.tid) : facts.end(); fact != facts.end()) {
            row.name = std::string(fact->second.stat.comm.view());
            row.state = fact->second.stat.state;
            row.cpu_percent = fact->second.cpu_percent;
        }
        rows.push_back(std::move(row));
    }
    report.threads = std::move(rows) | procfs::hottest();
    return {};
}

// The code objects of a core (those whose first page the core holds with
// a build-id) that no local file stands for as the build that ran.
[[nodiscard]] TRIAGE_DECL std::vector<unmatched_file> unmatched_files(const python_core& py) {
    std::vector<unmatched_file> out;
    const auto& files = py.core.mapped_files();
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (files[i].offset != 0) continue;
        const auto check = py.core.file_check_of(i);
        if (check != coredump::file_check::mismatch && check != coredump::file_check::missing) continue;
        const std::string path = without_deleted(files[i].path);
        if (std::any_of(out.begin(), out.end(), [&](const unmatched_file& u) { return u.path == path; })) continue;
        if (detail::core_target::held_build_id(py.core, files[i].path).empty()) continue;  // not code, or no id to match
        out.push_back({path, py.core.local_file(files[i].path), std::string{coredump::to_string(check)}});
    }
    return out;
}

} // namespace triage::cpython::detail::python_stacks

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(live_python& py, const ptrace::session& held,
                                                                     const held_stacks_options& options) {
    if (!held.held() || held.pid() != py.dir.pid()) {
        return fail(errc::invalid_argument, "reading the Python stacks of process " + std::to_string(py.dir.pid()) +
                                                " with a ptrace session that does not hold it");
    }
    auto report = detail::python_stacks::describe(py, stacks_source::blocking);
    auto snapshot = TRIAGE_TRY(make_walker(py.memory, py.target, options.limits).snapshot());
    std::optional<detail::python_stacks::locals_by_frame> locals;
    if (options.locals) locals = detail::python_stacks::read_locals(py.memory, py.target.layout, snapshot);
    std::optional<result<greenlet_census>> greenlets;
    if (options.greenlets) greenlets = detail::python_stacks::census_of(py.memory, py.target, snapshot, py.dir.pid());
    std::optional<result<asyncio_census>> tasks;
    if (options.tasks) tasks = read_asyncio_tasks(py.memory, py.target.layout, py.target.runtime.roots, snapshot);
    thread_namer{py.memory, py.target.layout}.name_threads(snapshot);
    report.stopped_for = held.stopped_for();
    TRIAGE_TRY(detail::python_stacks::join(py, snapshot, options.cpu, nullptr, true, report));
    if (locals) detail::python_stacks::attach_locals(report, *locals);
    if (greenlets) detail::python_stacks::attach_greenlets(report, *greenlets);
    if (tasks) detail::python_stacks::attach_tasks(report, *tasks);
    return report;
}

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(const ptrace::session& held,
                                                                     const held_stacks_options& options) {
    auto py = TRIAGE_TRY(open_live_python(held.pid()));
    return python_stacks(py, held, options);
}

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(pid_t pid, const python_stacks_options& options) {
    namespace d = detail::python_stacks;
    if (options.native && options.nonblocking) {
        return fail(errc::invalid_argument, "reading native stacks without stopping the target",
                    "their registers are read while every thread is stopped: drop nonblocking");
    }
    auto dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
    std::optional<procfs::cpu_sample> before;
    if (options.cpu_window.count() > 0) before = TRIAGE_TRY(procfs::sample_cpu(dir));
    auto py = TRIAGE_TRY(open_live_python(std::move(dir)));
    if (before) procfs::wait_for_window(*before, options.cpu_window);
    // The window's end: CPU%, and each thread's state before we touch it.
    auto after = TRIAGE_TRY(procfs::sample_cpu(py.dir));
    auto known = before ? procfs::cpu_usage(*before, after) : d::without_cpu(after);

    auto report = d::describe(py, options.nonblocking ? stacks_source::nonblocking : stacks_source::blocking);
    // The objects to unwind with, opened while the target runs.
    std::optional<unwind::module_set> modules;
    if (options.native)
        modules = TRIAGE_TRY(unwind::module_set::of_process(
            pid, {debug_file_locator_hook("/proc/" + std::to_string(pid) + "/root"), options.line_cache_directory}));
    std::optional<result<unwind::stack_copy>> copy;
    auto walker = make_walker(py.memory, py.target, options.limits);
    std::optional<d::locals_by_frame> locals;
    std::optional<result<greenlet_census>> greenlets;
    std::optional<result<asyncio_census>> tasks;
    // What else is read of the snapshot: in the stop, or right after it.
    const auto read_more = [&](const stack_snapshot& s) {
        if (options.locals) locals = d::read_locals(py.memory, py.target.layout, s);
        if (options.greenlets) greenlets = d::census_of(py.memory, py.target, s, pid);
        if (options.tasks) tasks = read_asyncio_tasks(py.memory, py.target.layout, py.target.runtime.roots, s);
    };
    auto snapshot = TRIAGE_TRY(options.nonblocking
                                   ? consistent_snapshot(walker)
                                   : stopped_snapshot(walker, pid, report.stopped_for, py.memory,
                                                      options.native ? &copy : nullptr, read_more));
    if (options.nonblocking) read_more(snapshot);
    // After the stop: names are not part of a stack's consistency.
    thread_namer{py.memory, py.target.layout}.name_threads(snapshot);
    TRIAGE_TRY(d::join(py, snapshot, known, before ? &*before : nullptr, false, report));
    report.thread_list_complete = snapshot.thread_list_complete;
    if (locals) d::attach_locals(report, *locals);
    if (greenlets) d::attach_greenlets(report, *greenlets);
    if (tasks) d::attach_tasks(report, *tasks);
    if (copy && *copy) {
        std::vector<thread_registers> registers;
        for (const auto& t : (*copy)->threads) registers.push_back({t.tid, t.registers});
        add_native_stacks(report, *modules, (*copy)->memory, registers);
    } else if (copy) {
        report.native = true;
        for (auto& t : report.threads) t.native_failure = (*copy).error();
    }
    return report;
}

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(const std::string& core_path,
                                                                     const core_stacks_options& options) {
    for (const std::string* path : {&core_path, options.exe ? &*options.exe : nullptr}) {
        std::error_code ec;
        if (path != nullptr && std::filesystem::is_directory(*path, ec)) {
            return fail(errc::invalid_argument, "reading " + *path + ": it is a directory",
                        path == &core_path ? "give the core file itself" : "give the interpreter file itself");
        }
    }
    coredump::core_file_options where;
    where.sysroot = options.sysroot;
    where.search_path = options.lib_search_path;
    auto py = TRIAGE_TRY(open_python_core(core_path, options.exe, where));
    python_stacks_report report;
    report.source = stacks_source::core;
    report.core = core_path;
    const auto& process = py.core.process();
    const auto& threads = py.core.threads();
    report.pid = process ? process->pid : threads.empty() ? 0 : threads.front().tid;
    report.command_line = process ? process->psargs : "";
    while (!report.command_line.empty() && report.command_line.back() == ' ') report.command_line.pop_back();
    report.executable = py.executable;
    auto target = TRIAGE_TRY(open_python(py.core, py.image));
    report.interpreter = target.image.path;
    report.python_version = target.version.text();
    report.free_threaded = target.layout.free_threaded;
    auto snapshot = TRIAGE_TRY(make_walker(py.core, target, options.limits).snapshot());
    std::optional<detail::python_stacks::locals_by_frame> locals;
    if (options.locals) locals = detail::python_stacks::read_locals(py.core, target.layout, snapshot);
    std::optional<result<greenlet_census>> greenlets;
    if (options.greenlets) greenlets = detail::python_stacks::census_of(py.core, target, snapshot, report.pid);
    std::optional<result<asyncio_census>> tasks;
    if (options.tasks) tasks = read_asyncio_tasks(py.core, target.layout, target.runtime.roots, snapshot);
    thread_namer{py.core, target.layout}.name_threads(snapshot);
    // A thread's pthread_t is its fs_base: that names the core's thread even
    // when the tid Python recorded is another namespace's.
    std::map<pid_t, pid_t> recorded;  // core tid → the tid Python recorded, where they differ
    for (python_thread& t : snapshot.threads) {
        for (const coredump::core_thread& c : threads) {
            if (t.python_ident == 0 || c.general.fs_base != t.python_ident) continue;
            if (t.tid && *t.tid != c.tid) recorded.emplace(c.tid, *t.tid);
            t.tid = c.tid;
            break;
        }
    }
    TRIAGE_TRY(assign_core_tids(py, snapshot));
    for (python_thread& t : snapshot.threads) {
        thread_stack row = detail::python_stacks::row_of(std::move(t));
        if (auto it = row.tid ? recorded.find(*row.tid) : recorded.end(); it != recorded.end()) row.ns_tid = it->second;
        if (process && row.tid == report.pid) row.name = process->fname;
        report.threads.push_back(std::move(row));
    }
    report.unmatched_files = detail::python_stacks::unmatched_files(py);
    if (locals) detail::python_stacks::attach_locals(report, *locals);
    if (greenlets) detail::python_stacks::attach_greenlets(report, *greenlets);
    if (tasks) detail::python_stacks::attach_tasks(report, *tasks);
    if (options.native) {
        const std::string root = options.sysroot.empty() ? "/" : options.sysroot;
        // The objects as the core reader matched them (by build-id).
        auto modules = TRIAGE_TRY(
            unwind::module_set::build(py.objects, report.pid, {debug_file_locator_hook(root), options.line_cache_directory}));
        std::vector<thread_registers> registers;
        for (const coredump::core_thread& c : threads) registers.push_back({c.tid, c.general});
        add_native_stacks(report, modules, py.core, registers);
    }
    // A crash: the signal, and the thread that received it (the kernel
    // writes it first, with the signal as its pr_cursig) at the top.
    if (const auto& info = py.core.siginfo(); info && coredump::dumps_core(info->signal)) {
        crash_info crash{info->signal, coredump::signal_name(info->signal),
                         coredump::signal_code_name(info->signal, info->code), info->address, std::nullopt};
        for (const coredump::core_thread& c : threads)
            if (c.signal == info->signal) {
                crash.tid = c.tid;
                break;
            }
        if (crash.tid) {
            auto it = std::find_if(report.threads.begin(), report.threads.end(),
                                   [&](const thread_stack& t) { return t.tid == crash.tid; });
            if (it != report.threads.end()) std::rotate(report.threads.begin(), it, it + 1);
        }
        report.crash = std::move(crash);
    }
    return report;
}

} // namespace triage::cpython
