// triage-plt — which library functions a running process calls, how often,
// from which thread: `ltrace -c -p` without stopping or writing into the
// target.
//
//   triage-plt PID [--duration MS] [--tid TID | --hot] [-e PATTERN]...
//              [--object PATTERN]... [--backend perf|int3|auto] [--trace N]
//              [--per-thread] [--teardown-budget MS] [--json]
//
// Counts every call through the PLT (and, for -fno-plt objects, at the
// called function) of every mapped object but the dynamic loader, or of the
// functions -e names (fnmatch patterns, `NAME@OBJECT` as in ltrace) and the
// objects --object names, for --duration milliseconds (1000), with one
// uprobe per call site and thread (report/plt_report.hpp), or, with
// --backend int3 (or when uprobes cannot be used: no CAP_PERFMON, a kernel
// without them, a teardown over budget), one int3 breakpoint per call site
// written by a guardian process that restores the text when counting ends
// or this program dies (plt/int3_guardian.hpp). Threads that
// start during the window are counted from when they are found (within
// 10 ms). --hot counts only the thread that used the most CPU over the
// 200 ms before; --tid only the one named. Removing uprobes is slow (the
// kernel waits a grace period for each, serially: about 55 ms each on a
// small VM), so the program measures that first and refuses, saying what to
// narrow, when probes × threads would keep the target probed for longer
// than --teardown-budget (5000 ms) — with --backend auto it then uses
// int3, whose teardown is quick. Text like `ltrace -c` by
// default, functions most called first; --per-thread adds each thread's
// own table; --json: one JSON document (docs/cli.md).
// --trace N also lists the first N calls with their arguments, read while
// each call is stopped at its first instruction (int3 backend), as C would
// write them: `strchr("O|O:enumerate", ':')`; the types come from the
// DWARF of the calling object or of the library's debug file, or from the
// pattern (`-e 'strchr(s,c)'`: s string, c char, i int, l long, u unsigned,
// z size_t, x pointer, b bool); else the six argument registers in hex.
// A line on stderr says when counting begins ("triage-plt: counting the
// calls at N call sites in T threads for MS ms").
// Ctrl+C (SIGINT, SIGTERM, SIGHUP) ends the window early and still prints
// the report; a second one ends the program at once. However it ends,
// SIGKILL included, the target's text is left as the file holds it: the
// kernel removes uprobes; the int3 guardian writes the bytes back. perf
// never stops the target; int3 stops a thread at each of its calls (the
// report says for how long in all).
// Exit codes: 0 success; 1 the target could not be counted (no such
// process, no permission, another tracer (int3), nothing to probe); 2 usage error.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "triage/report/cli.hpp"
#include "triage/report/plt_json.hpp"
#include "triage/report/plt_report.hpp"
#include "triage/report/plt_text.hpp"

namespace {

using namespace triage;

int run(int argc, char** argv) {
    report::command_line cli{"triage-plt",
                             "How often each library function is called, per thread, without stopping the process."};
    pid_t pid = 0;
    int duration_ms = 1000;
    int teardown_ms = 5000;
    int tid = 0;
    bool hot = false;
    bool per_thread = false;
    bool json = false;
    std::string backend = "auto";
    std::size_t trace = 0;
    report::plt_options options;
    cli.pid("pid", pid, "process id").required();
    cli.add("--duration", duration_ms, "milliseconds to count for").range(1, 3'600'000);
    auto only = cli.add("--tid", tid, "count only this thread").range(1, 4'194'304);
    cli.flag("--hot", hot, "count only the thread that used the most CPU over the 200 ms before").excludes(only);
    cli.add("-e,--function", options.filter.functions,
            "count only functions matching this pattern (fnmatch; NAME@OBJECT; again for more)");
    cli.add("--object", options.filter.objects,
            "count only calls made by objects whose file name or path matches (again for more)");
    cli.add("--teardown-budget", teardown_ms,
            "refuse when removing the probes afterwards would take longer than this many ms (the kernel removes "
            "uprobes one at a time)")
        .range(0, 3'600'000);
    cli.add("--backend", backend,
            "perf (uprobes: never stops the target), int3 (breakpoints under ptrace, from a guardian process), or auto "
            "(perf when the kernel allows it and its teardown fits the budget)")
        .one_of({"perf", "int3", "auto"});
    cli.add("--trace", trace,
            "also show the first N calls with their arguments, read at each call (int3; the window ends after N): "
            "types from DWARF, or say them in the pattern: -e 'strchr(s,c)'")
        .range(std::size_t{1}, std::size_t{100000});
    cli.flag("--per-thread", per_thread, "each thread's own table of functions");
    cli.flag("--json", json, "print one JSON document");
    if (auto code = cli.parse(argc, argv)) return *code;
    if (trace > 0 && backend == "perf") {
        fmt::print(stderr, "triage-plt: --trace reads each call's arguments while it is stopped: it needs --backend int3 "
                           "(or auto), not perf (see --help)\n");
        return 2;
    }

    options.duration = std::chrono::milliseconds{duration_ms};
    options.teardown_budget = std::chrono::milliseconds{teardown_ms};
    if (tid != 0) options.tid = tid;
    options.hot = hot;
    options.trace = trace;
    options.backend = backend == "perf"   ? report::plt_backend::perf
                      : backend == "int3" ? report::plt_backend::int3
                                          : report::plt_backend::automatic;
    report::end_on_signals();
    options.stop_requested = [] { return report::stop_requested(); };
    options.started = [&](std::size_t probes, std::size_t threads) {
        fmt::print(stderr, "triage-plt: counting the calls at {} call sites in {} thread{} for {} ms (Ctrl+C ends it)\n",
                   probes, threads, threads == 1 ? "" : "s", duration_ms);
    };
    auto r = report::count_library_calls(pid, options);
    if (!r) return report::print_failure(cli.program(), r.error());
    fmt::print("{}", json ? report::to_json_text(*r) + "\n" : report::to_text(*r, per_thread));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    return triage::report::run_program("triage-plt", [&] { return run(argc, argv); });
}
