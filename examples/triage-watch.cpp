// triage-watch — wait until a thread of PID stays hot, then save the scene:
// that thread's Python stack and a core with it first, from one stop.
//   triage-watch PID [--cpu PERCENT] [--samples N] [--interval MS] [--timeout MS] [-o FILE]
// Reads /proc until a thread is at --cpu (90) or more in --samples (3) consecutive intervals of --interval ms
// (500), then stops the process once. Exit: 0 saved; 1 unreadable, exited, none hot within --timeout, or the
// core failed; 2 usage error.
#include <chrono>
#include <limits>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "triage/coredump/live_dump.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/procfs/hot_streak.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/one_stop.hpp"
#include "triage/report/python_format.hpp"

int main(int argc, char** argv) {
    using namespace triage;
    report::command_line cli{"triage-watch", "Wait until a thread stays hot, then save its Python stack and a core, from one stop."};
    pid_t pid = 0;
    procfs::hot_streak_options watch;
    int interval_ms = 500, timeout_ms = 0;
    std::string output;
    cli.pid("pid", pid, "process to watch").required();
    cli.add("--cpu", watch.cpu_percent, "hot: at least this % of one core").range(1.0, 100.0);
    cli.add("--samples", watch.samples, "for this many consecutive intervals").range(1, 1000);
    cli.add("--interval", interval_ms, "interval in milliseconds").range(10, 3'600'000);
    cli.add("--timeout", timeout_ms, "give up after this many milliseconds (0: never)").range(0, std::numeric_limits<int>::max());
    cli.add("-o,--output", output, "core file to write, a new file (default: core.PID)");
    if (auto code = cli.parse(argc, argv)) return *code;
    watch.interval = std::chrono::milliseconds{interval_ms};
    if (timeout_ms > 0) watch.timeout = std::chrono::milliseconds{timeout_ms};
    if (output.empty()) output = "core." + std::to_string(pid);

    return report::run_program(cli.program(), [&] {
        auto dir = procfs::proc_dir::open(pid);
        auto hot = dir ? procfs::wait_until_hot(*dir, watch) : fail(std::move(dir.error()));
        if (!hot) return report::print_failure(cli.program(), hot.error());
        fmt::print("thread {} stayed hot: {:.1f}% CPU in {} intervals of {} ms\n", hot->tid, hot->cpu_percent.back(),
                   hot->cpu_percent.size(), interval_ms);
        auto python = cpython::open_live_python(pid);
        auto plan = coredump::plan_dump(pid, output);
        if (!plan) return report::print_failure(cli.program(), plan.error());
        coredump::reserve_copy(*plan);
        auto stop = report::read_in_one_stop(pid, python ? &*python : nullptr, std::move(*plan), {.cpu = hot->last, .first_tid = hot->tid});
        if (!stop) return report::print_failure(cli.program(), stop.error());
        const cpython::thread_stack* mine = nullptr;
        if (stop->stacks) for (const auto& t : stop->stacks->threads) if (t.tid == hot->tid) mine = &t;
        const error* why = !python ? &python.error() : stop->python_failure ? &*stop->python_failure : nullptr;
        if (mine) fmt::print("{}\n", *mine);
        else fmt::print("no Python stack for thread {}: {}\n", hot->tid, why ? escape_controls(why->message()) : "it runs no Python code");
        fmt::print("wrote {} (thread {} first); the process was stopped once for {:.2f} ms\n", escape_controls(stop->core->path),
                   stop->core->first_tid, std::chrono::duration<double, std::milli>(stop->stopped_for).count());
        return 0;
    });
}
