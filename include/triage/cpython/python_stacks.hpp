// triage/cpython/python_stacks.hpp — "the Python stacks of this pid / this
// core" in one call, as plain values (python_stacks_report.hpp).
//
// Offers:
//  - `python_stacks(pid, options)`: CPU% of every thread over
//    `cpu_window` (procfs/cpu_sample.hpp; the target is not touched), then
//    one snapshot of every thread's stack: blocking (a ptrace::session
//    stops every thread only for the read, ≈1 ms for 26 threads, then
//    releases it) or `nonblocking` (never stopped; moving stacks re-read,
//    see consistent_snapshot). Threads hottest first.
//  - `python_stacks(held, options)`: the caller's ptrace::session already
//    holds the target (one stop serving a snapshot, registers, a core
//    copy): the stacks are read while it holds it; nothing is attached or
//    released here. CPU%, names and states come from `options.cpu`,
//    measured by the caller before its stop (without it, states are
//    unknown: read now they would only say "stopped by a tracer");
//    `stopped_for` is how long the session had held the target when the
//    snapshot was read. `python_stacks(opened, held,
//    options)` takes the process opened beforehand by `open_live_python`,
//    so the stop lasts only for the snapshot.
//  - `python_stacks(core_path, options)`: the same report from a core
//    file (ours, gdb's gcore, the kernel's); CPU% null, states unknown,
//    names only for the main thread (the core records the process's comm).
//  - `open_live_python(pid)`: the first stage (the interpreter, its
//    version and layout, the process's memory) — the staged pipeline
//    (python_target.hpp, stack_walker.hpp, native_thread_ids.hpp,
//    core_target.hpp) stays public underneath.
// Thread ids: every `tid` is this machine's view. For a process in another
// PID namespace (a container), the thread ids Python records (3.11+) and
// those in glibc's thread control blocks (2.7–3.10) are the inner ones;
// they are translated through NSpid (procfs/ns_tids.hpp) and kept as
// `ns_tid`. In a core, a thread is matched to the core's thread by its
// pthread_t (= fs_base, in NT_PRSTATUS), so a core written from outside the
// namespace (triage-gcore, gdb) gets the outer tids the same way. The
// thread list is read again after the snapshot, so threads started during
// the CPU window or the snapshot keep their tid, name and state (their CPU%
// is measured from their start).
// GIL waiters (live, 3.7+): a thread that does not hold the GIL is read
// once more in /proc/PID/task/TID/syscall after the snapshot; blocked in
// futex() on its interpreter's GIL, it `waits_for_gil` (gil_wait.hpp). A
// thread between two timed waits, running, is not counted as waiting.
// Errors: no_such_process (gone; or a zombie: "it has exited"), unsupported
// (its main thread has exited; not a supported version), not_found ("not a
// Python process"), those of session::attach (permission_denied,
// already_traced, interrupted) and of the walk; invalid_argument for a
// session that no longer holds its target, and for a core path or exe that
// is a directory. A thread whose walk failed is not an error: its
// `failure` says why.
// Thread-safe: distinct calls may run on distinct threads; the held-session
// overloads must run on the thread that attached (ptrace's rule).
// Signal-safe: no. Target process: reads /proc and its memory; the
// blocking overload stops every thread for the snapshot only and reports
// `stopped_for`; the others never stop it.
//
//   auto report = TRIAGE_TRY(triage::cpython::python_stacks(pid, {.nonblocking = true}));
//   for (const auto& t : report.threads)
//       fmt::print("{} {:.1f}% {}\n", t.tid.value_or(0), t.cpu_percent.value_or(0), t.frames.size());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/cpython/core_target.hpp"
#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/gil_wait.hpp"
#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/python_stacks_report.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/stack_walker.hpp"
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

namespace triage::cpython {

struct python_stacks_options {
    bool nonblocking = false;                  // never stop the target
    std::chrono::milliseconds cpu_window{10};  // CPU% measured over this, before the snapshot (0: none)
    walk_limits limits{};
};

struct held_stacks_options {
    std::span<const procfs::thread_cpu> cpu{};  // measured before the stop: CPU%, names, states
    walk_limits limits{};
};

struct core_stacks_options {
    std::optional<std::string> exe;  // read the interpreter from this file (core_target.hpp)
    walk_limits limits{};
};

// A live Python process, opened: nothing stopped. Not movable once a
// walker borrows `memory`.
struct live_python {
    procfs::proc_dir dir;
    memory::live_process memory;
    python_target target;
    std::string command_line;
    std::string executable;  // /proc/PID/exe, " (deleted)" when replaced on disk
};

namespace detail::python_stacks {

// A zombie, or a process whose main thread has exited, has no memory or
// mappings to read through /proc/PID: say which.
[[nodiscard]] inline result<void> check_readable(const procfs::proc_dir& dir) {
    auto st = TRIAGE_TRY(procfs::read_stat(dir));
    if (st.state != 'Z' && st.state != 'X') return {};
    const std::string who = "reading the Python stacks of process " + std::to_string(dir.pid()) + " (" +
                            std::string(st.comm.view()) + ")";
    auto tids = dir.task_ids();
    if (tids && tids->size() > 1) {
        return fail(errc::unsupported,
                    who + ": its main thread has exited while " + std::to_string(tids->size() - 1) +
                        " other threads still run",
                    "a process whose main thread is gone shows no memory maps in /proc/" + std::to_string(dir.pid()) +
                        "; its stacks cannot be read from outside");
    }
    return fail(errc::no_such_process, who + ": it is a zombie (it has exited; its parent, pid " +
                                           std::to_string(st.ppid) + ", has not reaped it)",
                "there is nothing left to read");
}

// Every thread of a sample, without a percentage.
[[nodiscard]] inline std::vector<procfs::thread_cpu> without_cpu(const procfs::cpu_sample& sample) {
    std::vector<procfs::thread_cpu> out;
    out.reserve(sample.threads.size());
    for (const auto& t : sample.threads) out.push_back({t.stat, std::nullopt, {}, {}});
    return out;
}

[[nodiscard]] inline python_stacks_report describe(const live_python& py, stacks_source source) {
    python_stacks_report report;
    report.pid = py.dir.pid();
    report.command_line = py.command_line;
    report.executable = py.executable;
    report.interpreter = py.target.image.path;
    report.python_version = py.target.version.text();
    report.source = source;
    return report;
}

[[nodiscard]] inline thread_stack row_of(python_thread&& t) {
    thread_stack row;
    row.tid = t.tid;
    row.python_ident = t.python_ident;
    row.holds_gil = t.holds_gil;
    row.consistent = t.consistent;
    row.frames = std::move(t.frames);
    row.failure = std::move(t.failure);
    return row;
}

// One snapshot while a session of our own stops every thread; the stop
// lasts for the snapshot only.
template <class Walker>
[[nodiscard]] result<stack_snapshot> stopped_snapshot(Walker& walker, pid_t pid,
                                                      std::optional<std::chrono::nanoseconds>& stopped_for) {
    auto session = TRIAGE_TRY(ptrace::session::attach(pid));
    auto taken = walker.snapshot();
    auto released = session.release();
    stopped_for = session.stopped_for();
    if (taken && !released) return fail(std::move(released.error()));
    return taken;
}

// Joins a live snapshot with what /proc says of each thread. `known`: the
// threads measured before the snapshot (CPU%, names, states). The thread
// list is read again now, so threads born since keep their identity; with
// `before`, their CPU% is measured from their start. `held`: the target is
// stopped by a tracer now, so states read now are not the threads' own.
[[nodiscard]] inline result<void> join(live_python& py, stack_snapshot& snapshot, std::span<const procfs::thread_cpu> known,
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

} // namespace detail::python_stacks

[[nodiscard]] inline result<live_python> open_live_python(procfs::proc_dir dir) {
    TRIAGE_TRY(detail::python_stacks::check_readable(dir));
    const pid_t pid = dir.pid();
    std::string command_line = procfs::join_cmdline(TRIAGE_TRY(procfs::read_cmdline(dir)));
    std::string executable;
    if (auto exe = procfs::read_exe(dir)) executable = exe->path + (exe->deleted ? " (deleted)" : "");
    auto objects = TRIAGE_TRY(elf::mapped_objects(pid));
    auto image = find_interpreter(objects);
    if (!image) {
        return fail(errc::not_found,
                    "reading Python stacks of process " + std::to_string(pid) + " (" + command_line +
                        "): it is not a Python process",
                    image.error().message());
    }
    auto memory = TRIAGE_TRY(memory::live_process::open(pid));
    auto target = TRIAGE_TRY(open_python(memory, std::move(*image)));
    return live_python{std::move(dir), std::move(memory), std::move(target), std::move(command_line),
                       std::move(executable)};
}

[[nodiscard]] inline result<live_python> open_live_python(pid_t pid) {
    return open_live_python(TRIAGE_TRY(procfs::proc_dir::open(pid)));
}

[[nodiscard]] inline result<python_stacks_report> python_stacks(live_python& py, const ptrace::session& held,
                                                                const held_stacks_options& options = {}) {
    if (!held.held() || held.pid() != py.dir.pid()) {
        return fail(errc::invalid_argument, "reading the Python stacks of process " + std::to_string(py.dir.pid()) +
                                                " with a ptrace session that does not hold it");
    }
    auto report = detail::python_stacks::describe(py, stacks_source::blocking);
    auto snapshot = TRIAGE_TRY(make_walker(py.memory, py.target, options.limits).snapshot());
    report.stopped_for = held.stopped_for();
    TRIAGE_TRY(detail::python_stacks::join(py, snapshot, options.cpu, nullptr, true, report));
    return report;
}

[[nodiscard]] inline result<python_stacks_report> python_stacks(const ptrace::session& held,
                                                                const held_stacks_options& options = {}) {
    auto py = TRIAGE_TRY(open_live_python(held.pid()));
    return python_stacks(py, held, options);
}

[[nodiscard]] inline result<python_stacks_report> python_stacks(pid_t pid, const python_stacks_options& options = {}) {
    namespace d = detail::python_stacks;
    auto dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
    std::optional<procfs::cpu_sample> before;
    if (options.cpu_window.count() > 0) before = TRIAGE_TRY(procfs::sample_cpu(dir));
    auto py = TRIAGE_TRY(open_live_python(std::move(dir)));
    if (before) procfs::wait_for_window(*before, options.cpu_window);
    // The window's end: CPU%, and each thread's state before we touch it.
    auto after = TRIAGE_TRY(procfs::sample_cpu(py.dir));
    auto known = before ? procfs::cpu_usage(*before, after) : d::without_cpu(after);

    auto report = d::describe(py, options.nonblocking ? stacks_source::nonblocking : stacks_source::blocking);
    auto walker = make_walker(py.memory, py.target, options.limits);
    auto snapshot = TRIAGE_TRY(options.nonblocking ? consistent_snapshot(walker)
                                                   : d::stopped_snapshot(walker, pid, report.stopped_for));
    TRIAGE_TRY(d::join(py, snapshot, known, before ? &*before : nullptr, false, report));
    report.thread_list_complete = snapshot.thread_list_complete;
    return report;
}

[[nodiscard]] inline result<python_stacks_report> python_stacks(const std::string& core_path,
                                                                const core_stacks_options& options = {}) {
    for (const std::string* path : {&core_path, options.exe ? &*options.exe : nullptr}) {
        std::error_code ec;
        if (path != nullptr && std::filesystem::is_directory(*path, ec)) {
            return fail(errc::invalid_argument, "reading " + *path + ": it is a directory",
                        path == &core_path ? "give the core file itself" : "give the interpreter file itself");
        }
    }
    auto py = TRIAGE_TRY(open_python_core(core_path, options.exe));
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
    auto snapshot = TRIAGE_TRY(make_walker(py.core, target, options.limits).snapshot());
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
    return report;
}

} // namespace triage::cpython
