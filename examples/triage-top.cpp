// triage-top — which thread of a process is hot, and what is it doing?
// With --python, which Python functions are hot, refreshed like `py-spy top`.
//
//   triage-top PID [--interval MS] [--syscalls MS] [--json] [--limit N]
//   triage-top PID --python [--rate HZ] [--interval MS] [--idle] [--gil] [--lines]
//              [--sort own|total|own-time|total-time] [--once | --duration S] [--limit N]
//
// Samples every thread's CPU time twice, MS milliseconds apart (default
// 1000), then prints the threads sorted by CPU (100% = one core, never more
// for one thread) with their state and whether each is running in user
// space or blocked in a system call (and where in the kernel it sleeps).
// Nothing is attached to the target: it only reads
// /proc/PID/task/*/{stat,schedstat,syscall,wchan} (and status, for a
// process in another PID namespace: each thread's tid inside it).
// With --syscalls MS (off by default) it then counts every thread's system
// calls for MS milliseconds with ptrace (an `strace -c -f`), so "this thread
// makes no system calls" is measured; that stops each thread at every call
// it makes in the window, and the report says for how long in total.
//
// --python samples every thread's Python stack --rate times a second (100)
// from the process's memory (cpython/sampler.hpp; never attached, never
// stopped) and shows each function's share of the samples: %Own (it was
// running), %Total (it was on the stack), over the last refresh (100% = one
// thread there all the time), and OwnTime/TotalTime since the start. Only
// threads on a CPU count unless --idle; --gil counts only the GIL holder's
// stack; --lines gives each line of a function its own row. On a terminal
// the view is redrawn every --interval MS on the alternate screen: keys
// 1-4 sort by a column, q quits; Ctrl+C (SIGINT, SIGTERM, SIGHUP) also ends
// it, and so does the target's exit; the terminal is restored and one line
// on stderr says why it ended. When stdout is not a terminal, or with
// --once (sample for --interval) or --duration S, it prints one table of
// --limit rows and exits.
// Exit codes: 0 success, 1 the target could not be read (no such process,
// no permission; with --python: not Python, an unsupported version, gone
// before a sample), 2 usage error. Errors are one line on stderr.
//
// The work is one library call, report::top (its header shows the stages:
// cpu_sample, thread_report's joins, syscall_watch); report/ prints it.
// With --python: cpython::sample_stacks feeds report::python_top, and
// report::render_python_top draws the screen; this file only handles the
// terminal.
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

report::python_top_sort sort_key(std::string_view name) {
    if (name == "total") return report::python_top_sort::total;
    if (name == "own-time") return report::python_top_sort::own_time;
    if (name == "total-time") return report::python_top_sort::total_time;
    return report::python_top_sort::own;
}

// "1234 samples in 12.3 s (99.8 Hz)"
std::string sampled(const cpython::sampling_summary& s) {
    return fmt::format("{} samples in {:.1f} s ({:.1f} Hz)", s.ticks, std::chrono::duration<double>(s.elapsed).count(),
                       s.achieved_rate());
}

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
    screen.sort = sort_key(opt.sort);
    cpython::sampling_options sampling;
    sampling.rate_hz = opt.rate;
    sampling.stop_requested = [] { return report::stop_requested(); };
    const std::chrono::milliseconds interval{opt.interval_ms};
    report::end_on_signals();
    const auto gone_before_a_sample = [&] {
        return report::print_failure(program, error{errc::no_such_process, 0,
                                                    "sampling process " + std::to_string(opt.pid) +
                                                        " (it exited before a sample)", "nothing to show"});
    };

    if (::isatty(STDOUT_FILENO) != 1 || opt.once || opt.duration > 0) {
        // One table: sampled for the duration, or one interval.
        sampling.duration = opt.duration > 0 ? std::chrono::nanoseconds{static_cast<std::int64_t>(opt.duration * 1e9)}
                                             : std::chrono::nanoseconds{interval};
        auto summary = cpython::sample_stacks(*py, sampling, [&](const cpython::sampling_tick& tick) { top.add(tick); });
        if (!summary) return report::print_failure(program, summary.error());
        if (summary->ticks == 0 && summary->process_exited) return gone_before_a_sample();
        if (::isatty(STDOUT_FILENO) == 1) screen.width = report::terminal_view::size().first;
        screen.max_rows = opt.limit;
        if (summary->process_exited) screen.status = "The process exited: " + sampled(*summary) + ".";
        else if (report::stop_requested()) screen.status = "Interrupted: " + sampled(*summary) + ".";
        fmt::print("{}", report::render_python_top(top, screen));
        return 0;
    }

    // The view, until q, a signal or the target's exit.
    screen.status = fmt::format("q quit  1-4 sort by column  refreshed every {} ms, {:g} samples a second; the process "
                                "is never stopped",
                                opt.interval_ms, opt.rate);
    auto ended = report::run_python_top_view(*py, top, screen, sampling, interval);
    if (!ended) return report::print_failure(program, ended.error());
    if (ended->summary.ticks == 0 && ended->summary.process_exited) return gone_before_a_sample();
    const std::string why = ended->summary.process_exited ? "process " + std::to_string(opt.pid) + " exited"
                            : ended->quit                 ? std::string{"quit"}
                                                          : std::string{"interrupted"};
    fmt::print(stderr, "{}: {} after {}\n", program, why, sampled(ended->summary));
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
