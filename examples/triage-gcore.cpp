// triage-gcore — write a core file of a running process, fast and gently.
//
//   triage-gcore PID [-o FILE] [--force] [--json] [--sample-ms N] [--filter HEX] [--copy auto|memory|file]
//                [--snapshot auto|fork|stop]
//
// By default the process is stopped for milliseconds: one of its threads
// forks a copy-on-write copy of it (exit signal 0: its own SIGCHLD handler
// and waits never see it), the process runs on, and the core is written
// from the copy, which is then killed and reaped (a second stop of about a
// millisecond). When it cannot be forked (seccomp, pids.max, memory: the
// pages it rewrites meanwhile are held twice, so they must fit in the free
// memory of the machine and of its cgroup), it is stopped while its memory
// is copied: into our memory when it fits (then the file is written with
// the process running again), else straight to the file. The report says
// which, why, for how long it was stopped and how much memory the dump
// held. Only
// resident pages are read and the rest are holes in a sparse file; the file appears under its name only when it is complete,
// private (0600). -o names a new file; --force lets it replace a regular file, never anything else (a device, a FIFO,
// a link). The path and the free space are checked before the process is stopped.
// Ctrl-C or SIGTERM ends it at once during the sampling window (nothing stopped yet) and, mid-dump, releases the
// process; no file is left either way.
// gdb, eu-stack and triage's own core reader open the result; the busiest
// thread comes first, so `gdb EXE CORE` starts on it.
// Exit codes: 0 written; 1 target-side failure (no such process, no
// permission, disk full, interrupted); 2 usage error.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "triage/base/text.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/dump_json.hpp"
#include "triage/report/dump_text.hpp"
#include "triage/report/progress.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) { stop_requested = 1; }

} // namespace

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
    if (auto code = cli.parse(argc, argv)) return *code;
    if (output_option.given() && output.empty()) {
        fmt::print(stderr, "triage-gcore: -o needs a file name\n");
        return 2;
    }
    if (output.empty()) output = "core." + std::to_string(pid);

    triage::coredump::dump_options options;
    options.sample = std::chrono::milliseconds{sample_ms};
    options.output.replace = force;
    options.strategy = copy == "memory" ? triage::coredump::copy_strategy::to_memory
                       : copy == "file" ? triage::coredump::copy_strategy::to_file
                                        : triage::coredump::copy_strategy::copy_in_stop;
    if (snapshot == "fork") options.strategy = triage::coredump::copy_strategy::fork_snapshot;
    else if (snapshot == "auto" && copy == "auto") options.strategy = triage::coredump::copy_strategy::automatic;
    if (!filter_text.empty()) {
        auto bits = triage::parse_unsigned<std::uint32_t>(filter_text.starts_with("0x") ? filter_text.substr(2) : filter_text, 16);
        if (!bits) {
            fmt::print(stderr, "triage-gcore: --filter {} is not a hexadecimal number\n", filter_text);
            return 2;
        }
        options.filter = triage::coredump::dump_filter{*bits};
    }

    // Our handler only sets a flag; the sampling window and the copy loop
    // see it (the window at once, the copy between chunks). While the
    // process is held, the ptrace session's guard runs first and releases
    // it before passing the signal on to us.
    struct sigaction on_stop {};
    on_stop.sa_handler = request_stop;
    sigemptyset(&on_stop.sa_mask);
    ::sigaction(SIGINT, &on_stop, nullptr);
    ::sigaction(SIGTERM, &on_stop, nullptr);
    options.write.cancel = &stop_requested;
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
        fmt::print("{}\n", triage::report::to_json_text(*report));
    } else {
        std::fputs(triage::report::to_text(*report).c_str(), stdout);
    }
    return 0;
}
