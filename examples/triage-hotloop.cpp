// triage-hotloop — the whole investigation of a spinning process in one
// command, with one stop of the target, ending in a verdict a person can
// paste into an incident channel.
//
//   triage-hotloop PID [--core FILE] [--json|--markdown] [--window MS] [--hot PERCENT]
//                      [--samples N] [--syscalls MS]
//
// Which threads are hot (CPU over --window, 250 ms by default, /proc only);
// whether each waits in the kernel (its context switches in the window) or,
// with --syscalls MS, how many system calls it makes (counted with ptrace
// on the held session: a second, short stop); each hot thread's Python
// stack and whether it holds the GIL, read in one ptrace stop, and whether
// it goes round a loop (--samples stacks read without stopping it over the
// window); which of the files it runs changed on disk; with --core FILE, a
// core copied in the same stop (the hottest thread first) and written after
// the release. The report says how often and how long the target was
// stopped. Native frames and library calls: not available yet.
// Text by default; --json: one JSON document (docs/cli.md); --markdown: for
// an incident document.
// Exit codes: 0 success; 1 the target could not be read (no such process,
// no permission, core refused or failed); 2 usage error. Ctrl-C: the target
// is released first (ptrace/session.hpp), a partial core never appears.
//
// The work is one library call, report::hotloop (its header shows the
// stages; report/one_stop.hpp holds the stop); report/ prints it.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>

#include <fmt/core.h>

#include "triage/report/cli.hpp"
#include "triage/report/hotloop_json.hpp"
#include "triage/report/hotloop_report.hpp"
#include "triage/report/hotloop_text.hpp"

namespace {

using namespace triage;

struct options {
    pid_t pid = 0;
    std::string core;
    bool json = false;
    bool markdown = false;
    int window_ms = 250;
    double hot_percent = 50;
    std::size_t samples = 20;
    int syscalls_ms = 0;
};

int run(int argc, char** argv) {
    report::command_line cli{"triage-hotloop",
                             "Which thread spins, where in Python, since when the code changed on disk: one stop, one verdict."};
    options opt;
    cli.pid("pid", opt.pid, "process id").required();
    auto core = cli.add("--core", opt.core, "also write a core file here, from the same stop (a new file)");
    auto json = cli.flag("--json", opt.json, "print one JSON document");
    cli.flag("--markdown", opt.markdown, "print Markdown, for an incident document").excludes(json);
    cli.add("--window", opt.window_ms, "milliseconds over which CPU use is measured and stacks are sampled")
        .range(10, 60'000);
    cli.add("--hot", opt.hot_percent, "a thread using at least this % of one core is hot").range(0.0, 100.0);
    cli.add("--samples", opt.samples, "Python stack samples over the window, read without stopping (0: none)")
        .range(0, 1000);
    cli.add("--syscalls", opt.syscalls_ms,
            "then count system calls for MS ms on the held session (ptrace; adds a second stop; off by default)")
        .range(1, 60'000);
    if (auto code = cli.parse(argc, argv)) return *code;
    if (core.given() && opt.core.empty()) {
        fmt::print(stderr, "triage-hotloop: --core needs a file name\n");
        return 2;
    }

    report::hotloop_options options;
    options.window = std::chrono::milliseconds{opt.window_ms};
    options.hot_percent = opt.hot_percent;
    options.samples = opt.samples;
    options.syscalls = std::chrono::milliseconds{opt.syscalls_ms};
    if (!opt.core.empty()) options.core = opt.core;
    auto r = report::hotloop(opt.pid, options);
    if (!r) return report::print_failure(cli.program(), r.error());
    if (opt.json) {
        fmt::print("{}\n", report::to_json_text(*r));
    } else {
        fmt::print("{}", opt.markdown ? report::to_markdown(*r) : report::to_text(*r));
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    return triage::report::run_program("triage-hotloop", [&] { return run(argc, argv); });
}
