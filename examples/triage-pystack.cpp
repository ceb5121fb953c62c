// triage-pystack — the Python stack of every thread of a live CPython
// process, read from the outside: no gdb, no debug symbols, no code run in
// the target.
//
//   triage-pystack PID [--nonblocking] [--json] [--cpu-window MS]
//   triage-pystack --core CORE [--exe PATH] [--json]
//
// Blocking (default): every thread is stopped with ptrace for one consistent
// snapshot, and released at once; the output says for how long it was
// stopped. --nonblocking: the target is never stopped; stacks that moved
// while they were read are read again (a few times) and flagged if they
// still disagree.
// Each thread: its kernel tid, name, whether it holds the GIL, whether it
// was running or idle, and its CPU use, hottest first; then its frames,
// innermost first, as `function (file:line)`. CPU% is measured over a short
// window (--cpu-window, 10 ms by default; 0 turns it off) from the
// nanosecond run times in /proc/PID/task/TID/schedstat, before the target
// is touched; running or idle is the thread's state as the window ends.
// --core: the same report from a core file (ours, gdb's gcore, the
// kernel's); "pid" is the pid recorded in the core, the command line is the
// core's (at most 79 bytes), names are known only for the main thread (the
// core records the process's comm), "state" is "unknown" (a core records no
// per-thread scheduler state) and CPU% null. --exe PATH reads the
// interpreter (python or libpython) from PATH instead of the path the core
// names; its build-id must match the core's.
// Exit codes: 0 success; 1 the target is not Python, is an unsupported
// version, vanished, or cannot be read; 2 usage error.
//
// The pipeline (how to compose triage's modules):
//   mapped objects (elf) → interpreter image → version → layout → runtime
//   roots (cpython) → memory (live_process) → [ptrace session] → snapshot →
//   tids (TCB) → names, states, CPU (procfs) → report.
// Everything after "mapped objects" works on any memory_source and list of
// mapped objects, so the core-file mode only swaps the first two stages
// (cpython/core_target.hpp) and takes tids from the core's threads.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/core_target.hpp"
#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/exe.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/ptrace/session.hpp"

namespace {

using namespace triage;
using clock_type = std::chrono::steady_clock;

struct options {
    pid_t pid = 0;
    bool nonblocking = false;
    bool json = false;
    int cpu_window_ms = 10;
    std::string core;  // --core: read a core file instead of a process
    std::optional<std::string> exe;
};

// On-CPU nanoseconds of every thread (/proc/PID/task/TID/schedstat, first
// field), with the monotonic time of the sweep.
struct run_times {
    clock_type::time_point at;
    std::map<pid_t, std::uint64_t> nanoseconds;
};

result<run_times> sample_run_times(pid_t pid) {
    run_times out;
    out.at = clock_type::now();
    auto tids = TRIAGE_TRY(procfs::task_ids(pid));
    for (pid_t tid : tids) {
        std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/schedstat";
        auto text = read_file(path);
        if (!text) continue;  // the thread exited
        std::string_view rest = *text;
        if (auto ns = parse_unsigned<std::uint64_t>(next_token(rest, ' '))) out.nanoseconds[tid] = *ns;
    }
    return out;
}

struct thread_row {
    cpython::python_thread python;
    std::string name;
    std::string state = "unknown";
    std::optional<double> cpu_percent;
};

struct report {
    pid_t pid = 0;
    std::string command_line;
    std::string executable;
    std::string interpreter;
    std::string python_version;
    bool blocking = true;
    std::optional<double> stopped_ms;
    std::string core;  // the core file read, empty for a live process
    std::vector<thread_row> threads;
};

std::string state_word(char state) {
    switch (state) {
    case 'R': return "running";
    case 'S':
    case 'I': return "idle";
    case 'D': return "uninterruptible";
    case 'T':
    case 't': return "stopped";
    case 'Z': return "zombie";
    case 'X': return "dead";
    default: return "unknown";
    }
}

result<report> collect(const options& opt) {
    report out;
    out.pid = opt.pid;
    out.blocking = !opt.nonblocking;
    auto window_start = TRIAGE_TRY(sample_run_times(opt.pid));
    // Thread states before we touch the target (a stopped thread reads 't').
    std::map<pid_t, procfs::task_stat> stats;
    for (pid_t tid : TRIAGE_TRY(procfs::task_ids(opt.pid))) {
        if (auto st = procfs::read_stat(opt.pid, tid)) stats.emplace(tid, *st);
    }
    out.command_line = procfs::join_cmdline(TRIAGE_TRY(procfs::read_cmdline(opt.pid)));
    if (auto exe = procfs::read_exe(opt.pid)) out.executable = exe->path + (exe->deleted ? " (deleted)" : "");

    auto objects = TRIAGE_TRY(elf::mapped_objects(opt.pid));
    auto image = cpython::find_interpreter(objects);
    if (!image) {
        return fail(errc::unsupported, "reading Python stacks of process " + std::to_string(opt.pid) + " (" +
                                           out.command_line + "): it is not a Python process",
                    image.error().message());
    }
    auto mem = TRIAGE_TRY(memory::live_process::open(opt.pid));
    auto target = TRIAGE_TRY(cpython::open_python(mem, std::move(*image)));
    out.interpreter = target.image.path;
    out.python_version = target.version.text();

    // CPU use over the window, measured before the target is stopped.
    std::optional<run_times> window_end;
    if (opt.cpu_window_ms > 0) {
        auto until = window_start.at + std::chrono::milliseconds(opt.cpu_window_ms);
        std::this_thread::sleep_until(until);
        window_end = TRIAGE_TRY(sample_run_times(opt.pid));
        // States as the window ends: a thread that another tool (or our
        // previous run) just released from a ptrace stop reads R for a
        // moment on its way back into its wait.
        for (auto& [tid, st] : stats) {
            if (auto now = procfs::read_stat(opt.pid, tid)) st = *now;
        }
    }

    auto walker = cpython::make_walker(mem, target);
    cpython::stack_snapshot snapshot;
    if (opt.nonblocking) {
        snapshot = TRIAGE_TRY(cpython::consistent_snapshot(walker));
    } else {
        auto session = TRIAGE_TRY(ptrace::session::attach(opt.pid));
        auto taken = walker.snapshot();
        auto released = session.release();
        out.stopped_ms = std::chrono::duration<double, std::milli>(session.stopped_for()).count();
        snapshot = TRIAGE_TRY(std::move(taken));
        TRIAGE_TRY(std::move(released));
    }
    std::vector<pid_t> tids;
    for (const auto& [tid, st] : stats) tids.push_back(tid);
    TRIAGE_TRY(cpython::find_native_ids(mem, snapshot, tids));

    for (auto& t : snapshot.threads) {
        thread_row row;
        if (t.native_id) {
            pid_t tid = *t.native_id;
            if (auto st = stats.find(tid); st != stats.end()) {
                row.name = std::string(st->second.comm.view());
                row.state = state_word(st->second.state);
            }
            if (window_end) {
                auto a = window_start.nanoseconds.find(tid);
                auto b = window_end->nanoseconds.find(tid);
                double wall = std::chrono::duration<double, std::nano>(window_end->at - window_start.at).count();
                if (a != window_start.nanoseconds.end() && b != window_end->nanoseconds.end() && wall > 0) {
                    row.cpu_percent = static_cast<double>(b->second - std::min(a->second, b->second)) / wall * 100.0;
                }
            }
        }
        row.python = std::move(t);
        out.threads.push_back(std::move(row));
    }
    std::stable_sort(out.threads.begin(), out.threads.end(), [](const thread_row& a, const thread_row& b) {
        return a.cpu_percent.value_or(-1) > b.cpu_percent.value_or(-1);
    });
    return out;
}

result<report> collect_core(const options& opt) {
    report out;
    out.core = opt.core;
    out.blocking = false;
    auto py = TRIAGE_TRY(cpython::open_python_core(opt.core, opt.exe));
    const auto& process = py.core.process();
    out.pid = process ? process->pid : py.core.threads().front().tid;
    out.command_line = process ? process->psargs : "";
    while (!out.command_line.empty() && out.command_line.back() == ' ') out.command_line.pop_back();
    out.executable = py.executable;
    auto target = TRIAGE_TRY(cpython::open_python(py.core, py.image));
    out.interpreter = target.image.path;
    out.python_version = target.version.text();
    auto snapshot = TRIAGE_TRY(cpython::make_walker(py.core, target).snapshot());
    TRIAGE_TRY(cpython::assign_core_tids(py, snapshot));
    for (auto& t : snapshot.threads) {
        thread_row row;
        if (process && t.native_id == out.pid) row.name = process->fname;
        row.python = std::move(t);
        out.threads.push_back(std::move(row));
    }
    return out;
}

void print_text(const report& r) {
    fmt::print("Process {}: {}\n", r.pid, r.command_line);
    fmt::print("Python {} ({})\n", r.python_version, r.interpreter);
    if (!r.core.empty()) {
        fmt::print("Read from the core file {}\n", r.core);
    } else if (r.stopped_ms) {
        fmt::print("Target stopped for {:.3f} ms for a consistent snapshot\n", *r.stopped_ms);
    } else {
        fmt::print("Target not stopped (--nonblocking)\n");
    }
    for (const auto& t : r.threads) {
        fmt::print("\nThread {} \"{}\"{} {}", t.python.native_id.value_or(0), t.name,
                   t.python.holds_gil ? " holds GIL" : "", t.state);
        if (t.cpu_percent) fmt::print(" {:.1f}%", *t.cpu_percent);
        fmt::print("\n");
        for (const auto& f : t.python.frames) {
            if (f.line) {
                fmt::print("    {} ({}:{})\n", f.function, f.file, *f.line);
            } else {
                fmt::print("    {} ({})\n", f.function, f.file);
            }
        }
        if (t.python.frames.empty() && !t.python.failure) fmt::print("    (no Python frames)\n");
        if (!t.python.consistent) fmt::print("    (this stack changed while it was read; it may be torn)\n");
        if (t.python.failure) fmt::print("    (stack incomplete: {})\n", t.python.failure->message());
    }
}

void print_json(const report& r) {
    nlohmann::json threads = nlohmann::json::array();
    for (const auto& t : r.threads) {
        nlohmann::json frames = nlohmann::json::array();
        for (const auto& f : t.python.frames) {
            frames.push_back({{"function", f.function},
                              {"file", f.file},
                              {"line", f.line ? nlohmann::json(*f.line) : nlohmann::json(nullptr)}});
        }
        nlohmann::json row = {{"tid", t.python.native_id ? nlohmann::json(*t.python.native_id) : nlohmann::json(nullptr)},
                              {"thread_id", t.python.thread_id},
                              {"name", t.name},
                              {"holds_gil", t.python.holds_gil},
                              {"state", t.state},
                              {"cpu_percent", t.cpu_percent ? nlohmann::json(*t.cpu_percent) : nlohmann::json(nullptr)},
                              {"consistent", t.python.consistent},
                              {"frames", std::move(frames)}};
        if (t.python.failure) row["error"] = t.python.failure->message();
        threads.push_back(std::move(row));
    }
    nlohmann::json doc = {{"pid", r.pid},
                          {"command_line", r.command_line},
                          {"python_version", r.python_version},
                          {"executable", r.executable},
                          {"interpreter", r.interpreter},
                          {"mode", !r.core.empty() ? "core" : r.blocking ? "blocking" : "nonblocking"},
                          {"stopped_ms", r.stopped_ms ? nlohmann::json(*r.stopped_ms) : nlohmann::json(nullptr)},
                          {"threads", std::move(threads)}};
    if (!r.core.empty()) doc["core"] = r.core;
    fmt::print("{}\n", doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Python stacks of every thread of a live CPython process (2.7, 3.6-3.13), read from outside, "
                 "or of a core file",
                 "triage-pystack"};
    options opt;
    auto* pid = app.add_option("pid", opt.pid, "process id of the Python process")->check(CLI::PositiveNumber);
    auto* core = app.add_option("--core", opt.core, "read the stacks from this core file instead of a process")
                     ->excludes(pid);
    app.add_option("--exe", opt.exe, "with --core: read the interpreter (python or libpython) from this file")
        ->needs(core);
    app.add_flag("--nonblocking", opt.nonblocking, "never stop the target (stacks may be torn; they are re-read)")
        ->excludes(core);
    app.add_flag("--json", opt.json, "print one JSON document");
    app.add_option("--cpu-window", opt.cpu_window_ms, "milliseconds over which CPU use is measured (0: off)")
        ->check(CLI::Range(0, 60000))
        ->excludes(core);
    try {
        app.parse(argc, argv);
        if (pid->count() == 0 && core->count() == 0) throw CLI::RequiredError("pid or --core");
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    auto r = core->count() > 0 ? collect_core(opt) : collect(opt);
    if (!r) {
        fmt::print(stderr, "triage-pystack: {}\n", r.error().message());
        return 1;
    }
    if (opt.json) {
        print_json(*r);
    } else {
        print_text(*r);
    }
    return 0;
}
