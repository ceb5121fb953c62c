// The per-thread join of report/thread_report.hpp and the one-call
// report::top, on real processes: the procfs_busy victim (a spinner and
// threads parked in known system calls) and the stuck Python service.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "cpython/python_victim.hpp"
#include "procfs/busy_victim.hpp"
#include "support/failure_text.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/ptrace/syscall_watch.hpp"
#include "triage/report/thread_report.hpp"
#include "triage/report/top_report.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace std::chrono_literals;

namespace {
const report::thread_report& row(const std::vector<report::thread_report>& rows, pid_t tid) {
    auto it = std::ranges::find(rows, tid, &report::thread_report::tid);
    REQUIRE(it != rows.end());
    return *it;
}
} // namespace

TEST_CASE("thread_reports + read_activities + join_syscalls: one row per thread, each field from its source") {
    triage_test::busy_victim victim;
    auto dir = procfs::proc_dir::open(victim.pid());
    REQUIRE(dir);
    auto before = procfs::sample_cpu(*dir);
    REQUIRE(before);
    procfs::wait_for_window(*before, 200ms);
    auto after = procfs::sample_cpu(*dir);
    REQUIRE(after);
    auto rows = report::thread_reports(procfs::cpu_usage(*before, *after));
    REQUIRE(rows.size() == victim.tids.size());
    for (std::size_t k = 1; k < rows.size(); ++k) CHECK(rows[k - 1].cpu_percent.value() >= rows[k].cpu_percent.value());
    REQUIRE(report::read_activities(*dir, rows));
    auto watch = ptrace::watch_syscalls(victim.pid(), 200ms);
    REQUIRE_MESSAGE(watch, failure_text(watch));
    report::join_syscalls(rows, *watch);
    for (const auto& [name, tid] : victim.tids) {
        CAPTURE(name);
        const auto& r = row(rows, tid);
        CHECK(r.stat.tid == tid);
        CHECK(std::string{r.stat.comm.view()} == (name == "main" ? "procfs_busy" : name));
        REQUIRE(r.activity);
        REQUIRE(r.syscalls);
        CHECK(r.syscalls->tid == tid);
        CHECK_FALSE(r.python);
        CHECK_FALSE(r.ns_tid);
        if (name == "spinner") {
            CHECK(r.activity->in_user_space());
            CHECK(r.syscalls->total == 0);
        } else {
            CHECK(r.activity->kind == procfs::activity::in_syscall);
        }
    }
    CHECK(victim.process.running());
}

TEST_CASE("report::top: the spinner first, in user space, making no system calls") {
    triage_test::busy_victim victim;
    auto top = report::top(victim.pid(), {.interval = 300ms, .syscalls = 200ms});
    REQUIRE_MESSAGE(top, failure_text(top));
    CHECK(top->pid == victim.pid());
    CHECK(top->command.ends_with("procfs_busy"));
    REQUIRE(top->threads.size() == victim.tids.size());
    REQUIRE(top->stopped_for);
    REQUIRE(top->syscall_window);
    const auto& spinner = row(top->threads, victim.tid("spinner"));
    REQUIRE(spinner.syscalls);
    CHECK(spinner.syscalls->total == 0);
    CHECK(spinner.activity->in_user_space());
    if (top->threads[0].cpu_percent.value() > 50.0) CHECK(top->threads[0].tid == victim.tid("spinner"));
    CHECK(victim.process.running());
}

TEST_CASE("join_python: each Python stack lands on its thread's row") {
    using namespace triage::testing;
    scratch_dir dir;
    python_interpreter python = machine_interpreters().back();
    python_process service(python, {victim_script("py_stuck_service.py"), dir.path() + "/ready"});
    REQUIRE(service.wait_for_file(dir.path() + "/ready"));
    auto stacks = cpython::python_stacks(service.pid(), {.nonblocking = true});
    REQUIRE_MESSAGE(stacks, failure_text(stacks));
    auto proc = procfs::proc_dir::open(service.pid());
    REQUIRE(proc);
    auto before = procfs::sample_cpu(*proc);
    REQUIRE(before);
    auto after = procfs::sample_cpu(*proc);
    REQUIRE(after);
    auto rows = report::thread_reports(procfs::cpu_usage(*before, *after));
    report::join_python(rows, *stacks);
    REQUIRE(rows.size() == 26);
    for (const auto& r : rows) {
        REQUIRE(r.python);
        CHECK(r.python->tid == r.tid);
    }
    const auto& main_thread = row(rows, service.pid());
    CHECK(main_thread.python->frames.back().function == "<module>");
}
