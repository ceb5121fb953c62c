// triage-top — which thread of a process is hot, and what is it doing?
//
//   triage-top PID [--interval MS] [--syscalls MS] [--json] [--limit N]
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
// Exit codes: 0 success, 1 the target could not be read (no such process,
// no permission), 2 usage error. Errors are one line on stderr.
//
// The work is one library call, report::top (its header shows the stages:
// cpu_sample, thread_report's joins, syscall_watch); report/ prints it.
#include <sys/types.h>

#include <chrono>
#include <cstddef>

#include <fmt/core.h>

#include "triage/report/cli.hpp"
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
};

int run(int argc, char** argv) {
    options opt;
    report::command_line cli{"triage-top",
                             "Per-thread CPU of a process, and whether each thread is in user space or in which syscall."};
    cli.pid("pid", opt.pid, "process id").required();
    cli.add("--interval", opt.interval_ms, "sampling interval in milliseconds").range(0, 3'600'000);
    cli.flag("--json", opt.json, "print one JSON document");
    cli.add("--limit", opt.limit, "threads to show in text mode (0: all)");
    cli.add("--syscalls", opt.syscalls_ms,
            "then count each thread's system calls for MS ms (attaches with ptrace; off by default)")
        .range(1, 60'000);
    if (auto code = cli.parse(argc, argv)) return *code;

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
