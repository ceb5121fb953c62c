// triage-threads — one JSON object per line per thread of PID, hottest
// first: tid, name, CPU%, what it is doing (user space, or the system call
// it is blocked in) and, for a Python process, its Python stack and whether
// it holds the GIL (the fields of report/thread_json.hpp). For jq, grep and
// log shippers.
//   triage-threads PID [--interval MS] [--nonblocking]
// CPU over --interval ms (200) from /proc; then the Python stacks, in one
// short stop (or none with --nonblocking). A process that is not Python
// gets its lines without stacks. Exit codes: 0 printed; 1 the process
// could not be read; 2 usage error.
#include <chrono>

#include <fmt/core.h>

#include "triage/cpython/python_stacks.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/thread_json.hpp"
#include "triage/report/thread_report.hpp"
#include "triage/report/top_report.hpp"

int main(int argc, char** argv) {
    using namespace triage;
    report::command_line cli{"triage-threads", "One JSON line per thread: tid, name, CPU%, system call state, Python stack."};
    pid_t pid = 0;
    int interval_ms = 200;
    bool nonblocking = false;
    cli.pid("pid", pid, "process id").required();
    cli.add("--interval", interval_ms, "CPU window in milliseconds").range(1, 3'600'000);
    cli.flag("--nonblocking", nonblocking, "read the Python stacks without stopping the process");
    if (auto code = cli.parse(argc, argv)) return *code;

    return report::run_program(cli.program(), [&] {
        auto top = report::top(pid, {.interval = std::chrono::milliseconds{interval_ms}});
        if (!top) return report::print_failure(cli.program(), top.error());
        auto stacks = cpython::python_stacks(pid, {.nonblocking = nonblocking, .cpu_window = std::chrono::milliseconds{0}});
        if (stacks) report::join_python(top->threads, *stacks);
        else if (stacks.error().code != errc::not_found) return report::print_failure(cli.program(), stacks.error());
        for (const auto& row : top->threads) fmt::print("{}\n", report::to_json_text(row, -1));
        return 0;
    });
}
