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
    CLI::App app{"One JSON line per thread: tid, name, CPU%, system call state, Python stack.", "triage-threads"};
    pid_t pid = 0;
    int interval_ms = 200;
    bool nonblocking = false;
    report::add_pid_option(app, "pid", pid, "process id")->required();
    app.add_option("--interval", interval_ms, "CPU window in milliseconds")->check(CLI::Range(1, 3'600'000));
    app.add_flag("--nonblocking", nonblocking, "read the Python stacks without stopping the process");
    if (auto code = report::parse_command_line(app, argc, argv)) return *code;

    return report::run_program(app.get_name(), [&] {
        auto top = report::top(pid, {.interval = std::chrono::milliseconds{interval_ms}});
        if (!top) return report::print_failure(app.get_name(), top.error());
        auto stacks = cpython::python_stacks(pid, {.nonblocking = nonblocking, .cpu_window = std::chrono::milliseconds{0}});
        if (stacks) report::join_python(top->threads, *stacks);
        else if (stacks.error().code != errc::not_found) return report::print_failure(app.get_name(), stacks.error());
        for (const auto& row : top->threads)
            fmt::print("{}\n", report::to_json(row).dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace));
        return 0;
    });
}
