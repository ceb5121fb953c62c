// triage-top — which thread of a process is hot, and what is it doing?
// With --python, which Python functions are hot, refreshed like `py-spy top`.
//
//   triage-top PID [--interval MS] [--syscalls MS] [--json] [--limit N]
//   triage-top PID --python [--rate HZ] [--interval MS] [--idle] [--gil] [--lines]
//              [--sort own|total|own-time|total-time] [--once | --duration S] [--limit N]
//
// Reads /proc only (--syscalls MS: then counts each thread's system calls
// with ptrace); --python samples Python stacks from memory, never stopping
// the process. Every option and output: docs/cli.md. Exit codes: 0, 1 the
// target could not be read, 2 usage error; errors are one line on stderr.
//
// The work is library calls: report::top (cpu_sample, thread_report's
// joins, syscall_watch) and, with --python, cpython::sample_stacks feeding
// report::python_top, drawn by report::python_top_table or
// report::run_python_top_view; this file holds the choices.
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/core.h>

#include "triage/cpython/live_python.hpp"
#include "triage/cpython/sampler.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/python_top.hpp"
#include "triage/report/python_top_view.hpp"
#include "triage/report/terminal_view.hpp"
#include "triage/report/top_json.hpp"
#include "triage/report/top_report.hpp"
#include "triage/report/top_text.hpp"

namespace {

using namespace triage;

struct options {
    pid_t pid = 0;
    int interval_ms = 1000;
    bool json = false;
    std::size_t limit = 40;
    int syscalls_ms = 0;  // 0: do not attach
    // --python
    bool python = false;
    double rate = 100;
    bool idle = false;
    bool gil = false;
    bool lines = false;
    bool once = false;
    double duration = 0;  // seconds; 0: not given
    std::string sort = "own";
};

int run_python(const options& opt, const std::string& program) {
    auto py = cpython::open_live_python(opt.pid);
    if (!py) return report::print_failure(program, py.error());
    report::python_top_options keep;
    keep.idle = opt.idle;
    keep.gil_only = opt.gil;
    keep.lines = opt.lines;
    report::python_top top{keep};
    report::python_top_screen screen;
    screen.pid = opt.pid;
    screen.python_version = py->target.version.text();
    screen.command = py->command_line;
    screen.rate_hz = opt.rate;
    screen.sort = *report::python_top_sort_named(opt.sort);  // checked by --sort's one_of
    cpython::sampling_options sampling;
    sampling.rate_hz = opt.rate;
    sampling.stop_requested = [] { return report::stop_requested(); };
    const std::chrono::milliseconds interval{opt.interval_ms};
    report::end_on_signals();

    if (::isatty(STDOUT_FILENO) != 1 || opt.once || opt.duration > 0) {
        // One table: sampled for the duration, or one interval.
        sampling.duration = opt.duration > 0 ? std::chrono::nanoseconds{static_cast<std::int64_t>(opt.duration * 1e9)}
                                             : std::chrono::nanoseconds{interval};
        if (::isatty(STDOUT_FILENO) == 1) screen.width = report::terminal_view::size().first;
        screen.max_rows = opt.limit;
        auto table = report::python_top_table(*py, top, screen, sampling);
        if (!table) return report::print_failure(program, table.error());
        fmt::print("{}", table->text);
        return 0;
    }

    // The view, until q, a signal or the target's exit.
    auto ended = report::run_python_top_view(*py, top, screen, sampling, interval);
    if (!ended) return report::print_failure(program, ended.error());
    fmt::print(stderr, "{}: {}\n", program, report::describe(*ended));
    return 0;
}

int run(int argc, char** argv) {
    options opt;
    report::command_line cli{"triage-top",
                             "Per-thread CPU of a process, and whether each thread is in user space or in which syscall; "
                             "with --python, its hottest Python functions, refreshed like py-spy top."};
    cli.pid("pid", opt.pid, "process id").required();
    cli.add("--interval", opt.interval_ms, "sampling interval in milliseconds (with --python: the refresh period)")
        .range(0, 3'600'000);
    auto json = cli.flag("--json", opt.json, "print one JSON document");
    cli.add("--limit", opt.limit, "threads to show in text mode (0: all); with --python: rows of a one-shot table");
    auto syscalls = cli.add("--syscalls", opt.syscalls_ms,
                            "then count each thread's system calls for MS ms (attaches with ptrace; off by default)");
    syscalls.range(1, 60'000);
    auto python = cli.flag("--python", opt.python,
                           "the hottest Python functions, sampled from memory (never stopped), refreshed on a terminal");
    json.excludes(python);
    syscalls.excludes(python);
    cli.add("--rate", opt.rate, "with --python: samples per second").range(0.1, 100000.0).needs(python);
    cli.flag("--idle", opt.idle, "with --python: also count threads not on a CPU").needs(python);
    cli.flag("--gil", opt.gil, "with --python: count only the thread holding the GIL").needs(python);
    cli.flag("--lines", opt.lines, "with --python: a row per line of a function, not per function").needs(python);
    cli.add("--sort", opt.sort, "with --python: own, total, own-time or total-time (keys 1-4 in the view)")
        .one_of({"own", "total", "own-time", "total-time"})
        .needs(python);
    auto once = cli.flag("--once", opt.once, "with --python: sample for --interval, print one table, exit").needs(python);
    cli.add("--duration", opt.duration, "with --python: sample for S seconds, print one table, exit")
        .range(0.001, 31'536'000.0)
        .needs(python)
        .excludes(once);
    if (auto code = cli.parse(argc, argv)) return *code;
    if (opt.python) {
        if (opt.interval_ms == 0) {
            fmt::print(stderr, "{}: --interval must be at least 1 ms with --python (see --help)\n", cli.program());
            return 2;
        }
        return run_python(opt, cli.program());
    }

    auto top = report::top(opt.pid, {.interval = std::chrono::milliseconds{opt.interval_ms},
                                     .syscalls = std::chrono::milliseconds{opt.syscalls_ms}});
    if (!top) return report::print_failure(cli.program(), top.error());
    if (opt.json) {
        fmt::print("{}\n", report::to_json_text(*top));
    } else {
        fmt::print("{}", report::to_text(*top, opt.limit));
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    return triage::report::run_program("triage-top", [&] { return run(argc, argv); });
}
