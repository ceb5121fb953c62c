// triage-gcore — write a core file of a running process, fast and gently.
//
//   triage-gcore PID [-o FILE] [--force] [--json] [--sample-ms N] [--filter HEX] [--copy auto|memory|file]
//                [--snapshot auto|fork|stop]
//                [--when-cpu PCT --for S [--thread TID | --process] [--every MS] [--timeout S]] [--stacks [--stacks-for S]]
//
// The process is stopped for milliseconds while a thread of it forks a
// copy-on-write copy, written while it runs (else it stays stopped while
// its memory is copied); --when-cpu first waits, reading /proc only, until
// a thread has stayed at PCT% of a core for S seconds; --stacks records its
// Python stacks into FILE.folded. The file is sparse, private (0600) and
// appears only when complete; Ctrl+C leaves the process running and no
// file. Options, report, exit codes (0, 1 target-side, 2 usage): docs/cli.md.
//
// The work is library calls: report::before_dump (the wait and the
// profile), coredump::dump_process (plan, stop, copy, release, write).

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "triage/coredump/dump_filter.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/dump_text.hpp"
#include "triage/report/hot_dump.hpp"
#include "triage/report/progress.hpp"

int main(int argc, char** argv) {
    triage::report::command_line cli{"triage-gcore",
                                     "Write a core file of a running process, stopping it only while its memory is copied."};
    pid_t pid = 0;
    std::string output;
    bool force = false;
    bool json = false;
    int sample_ms = 100;
    std::string filter_text;
    std::string copy = "auto";
    std::string snapshot = "auto";
    cli.pid("pid", pid, "process to dump").required();
    auto output_option = cli.add("-o,--output", output, "core file to write (default: core.PID in the current directory)");
    cli.flag("--force", force, "replace FILE if it is an existing regular file (keeping its mode, at most 0600)");
    cli.flag("--json", json, "print one JSON document instead of text");
    cli.add("--sample-ms", sample_ms, "CPU sampling window to find the busiest thread (0: by state only)").range(0, 10000);
    cli.add("--filter", filter_text, "coredump_filter bits in hex (default: the process's own, see core(5))");
    cli.add("--copy", copy,
            "when copying in the stop, where memory goes: memory (then the file is written with it running), "
            "file (no extra memory, stopped longer), auto (memory when it fits in half of the memory free "
            "for us; the default); memory or file implies --snapshot stop")
        .one_of({"auto", "memory", "file"});
    cli.add("--snapshot", snapshot,
            "how memory is frozen: fork (fork a copy-on-write copy of it in a stop of milliseconds and write the "
            "core from that copy while it runs; falls back to copying in the stop when the fork cannot be made), "
            "stop (hold it stopped while it is copied, as --copy says), auto (fork when the pages it may rewrite "
            "meanwhile fit in the free memory of the machine and of its cgroup, else stop; the default unless "
            "--copy memory|file is given)")
        .one_of({"auto", "fork", "stop"});
    double when_cpu = 0, hot_for = 0, timeout = 0, stacks_for = 2;
    int every_ms = 500;
    pid_t thread = 0;
    bool whole_process = false, stacks = false;
    auto when_option = cli.add("--when-cpu", when_cpu,
                               "first wait until a thread stays at PCT% of a core or more for --for seconds "
                               "(reads /proc only)")
                           .range(1.0, 100000.0);
    auto for_option = cli.add("--for", hot_for, "seconds of the sliding window --when-cpu asks for")
                          .range(0.001, 31'536'000.0).needs(when_option);
    when_option.needs(for_option);
    auto thread_option = cli.add("--thread", thread, "--when-cpu watches only this thread (tid)")
                             .range(1, 1 << 30).needs(when_option);
    cli.flag("--process", whole_process, "--when-cpu watches the process's total (200: two cores)")
        .needs(when_option).excludes(thread_option);
    cli.add("--every", every_ms, "--when-cpu measures every MS milliseconds (500)").range(10, 3'600'000);
    cli.add("--timeout", timeout, "--when-cpu gives up after S seconds (0: never)").range(0.0, 31'536'000.0);
    cli.flag("--stacks", stacks, "before the dump, record --stacks-for seconds of Python stacks into FILE.folded");
    cli.add("--stacks-for", stacks_for, "seconds --stacks records (2)").range(0.01, 3600.0);
    if (auto code = cli.parse(argc, argv)) return *code;
    if (output_option.given() && output.empty()) {
        fmt::print(stderr, "triage-gcore: -o needs a file name\n");
        return 2;
    }
    if (output.empty()) output = "core." + std::to_string(pid);

    triage::coredump::dump_options options;
    options.sample = std::chrono::milliseconds{sample_ms};
    options.output.replace = force;
    options.strategy = *triage::coredump::copy_strategy_named(copy, snapshot);  // the words were checked (one_of)
    if (!filter_text.empty()) {
        auto filter = triage::coredump::parse_dump_filter(filter_text);
        if (!filter) {
            fmt::print(stderr, "triage-gcore: --filter {} is not a hexadecimal number\n", filter_text);
            return 2;
        }
        options.filter = *filter;
    }

    // Every Ctrl+C, SIGTERM or SIGHUP only asks to stop: the wait, the profile and the copy loop
    // see it, and no partial file is left. While the process is held, the ptrace session's guard
    // releases it first.
    triage::report::end_on_signals(triage::report::signal_repeats::every);
    options.write.cancel = triage::report::stop_request_flag();

    // Waiting until hot, and the profile, before the dump.
    triage::report::hot_dump_options before;
    if (when_option.given()) {
        before.when_hot = triage::report::hot_trigger{.cpu_percent = when_cpu,
                                                      .for_seconds = hot_for,
                                                      .every = std::chrono::milliseconds{every_ms},
                                                      .timeout_seconds = timeout,
                                                      .whole_process = whole_process,
                                                      .thread = thread};
    }
    if (stacks) before.stacks_for = stacks_for;
    before.replace = force;
    before.stop_requested = [] { return triage::report::stop_requested(); };
    if (!json) {
        before.notice = [](std::string_view line) { fmt::print(stderr, "triage-gcore: {}\n", line); };
        before.outcome = [](std::string_view line) { fmt::print("{}\n", line); };
    }
    auto preamble = triage::report::before_dump(pid, output, before);
    if (!preamble) return triage::report::print_failure("triage-gcore", preamble.error());
    options.first_tid = preamble->hot_tid;
    if (triage::report::stop_requested()) {
        fmt::print(stderr, "triage-gcore: interrupted before the process was stopped; no core was written\n");
        return 1;
    }
    triage::report::progress_bar bar;
    options.write.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };

    auto report = triage::coredump::dump_process(pid, output, options);
    if (!report) {
        triage::error e = std::move(report.error());
        if (e.sys_errno == EEXIST && e.code == triage::errc::invalid_argument && !force)
            e.hint = "it already exists; pass --force to replace it";
        fmt::print(stderr, "triage-gcore: {}\n", e.message());
        return 1;
    }
    if (json) {
        fmt::print("{}\n", triage::report::to_json_text(*report, *preamble));
    } else {
        std::fputs(triage::report::to_text(*report).c_str(), stdout);
    }
    return 0;
}
