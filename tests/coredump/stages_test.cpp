// The dump in stages: one ptrace session, taken by the caller, serves the
// registers of every thread and the core's copy; the core is written after
// the caller released it, and holds what the caller read. The hot thread is
// the caller's choice. What is not a process with memory (a kernel thread,
// a zombie) is refused by name; a signal during triage-gcore's sampling
// window ends it before anything is stopped.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "coredump/victim_checks.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/procfs/syscall.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/ptrace/session.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::coredump;
using triage::test_support::victim;

namespace {

const std::string gcore_tool = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore";

bool all_threads_traced_stopped(pid_t pid) {
    auto states = test_support::thread_states(pid);
    return !states.empty() && std::all_of(states.begin(), states.end(), [](char s) { return s == 't'; });
}

} // namespace

TEST_CASE("one stop serves the caller's register reads and the core's copy; the core is written after the release") {
    test_support::scratch_dir dir{"coredump-stages"};
    victim v{{test_support::victim_path("core_threads")}};
    const pid_t spinner = static_cast<pid_t>(v.number("spinner", 0));
    const std::string path = dir / "staged.core";

    dump_options copying;  // the copy in the stop (a fork snapshot is tested in fork_snapshot_test.cpp)
    copying.strategy = copy_strategy::copy_in_stop;
    auto plan = plan_dump(v.pid(), path, copying);
    REQUIRE_MESSAGE(plan, failure_text(plan));
    CHECK(plan->strategy == copy_strategy::to_memory);
    CHECK(plan->threads == 26);
    CHECK(plan->estimated_memory_bytes > 0);
    CHECK(plan->estimated_bytes > plan->estimated_memory_bytes);
    CHECK(reserve_copy(*plan) >= plan->estimated_memory_bytes);
    CHECK(coredump_test::running_freely(v));  // planning and reserving do not stop it

    auto session = ptrace::session::attach(v.pid());
    REQUIRE_MESSAGE(session, failure_text(session));
    std::map<pid_t, ptrace::thread_registers> seen;
    for (pid_t tid : session->threads()) {
        auto regs = session->registers(tid);
        REQUIRE_MESSAGE(regs, failure_text(regs));
        seen.emplace(tid, std::move(*regs));
    }
    REQUIRE(seen.size() == 26);
    auto copy = copy_dump(std::move(*plan), *session, spinner);
    REQUIRE_MESSAGE(copy, failure_text(copy));
    // The copy borrowed the stop: still held, every thread still stopped, no file yet.
    CHECK(session->held());
    CHECK(all_threads_traced_stopped(v.pid()));
    CHECK(dir.entries().empty());
    auto too_early = write_dump(std::move(*copy), *session);
    REQUIRE(!too_early);
    CHECK(too_early.error().code == errc::invalid_argument);
    REQUIRE(session->release());
    auto report = write_dump(std::move(*copy), *session);
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK(coredump_test::running_freely(v));
    CHECK(report->stopped_for == session->stopped_for());
    CHECK(report->stopped_for > std::chrono::nanoseconds{0});
    CHECK(report->first_tid == spinner);
    CHECK(report->threads == 26);
    CHECK(dir.entries() == std::vector<std::string>{"staged.core"});

    // The core holds exactly the registers read during that same stop (the
    // spinner's change all the time it runs).
    auto core = core_file::open(path);
    REQUIRE_MESSAGE(core, failure_text(core));
    REQUIRE(core->threads().size() == 26);
    CHECK(core->threads().front().tid == spinner);
    std::size_t same = 0;
    for (const auto& t : core->threads()) {
        auto it = seen.find(t.tid);
        REQUIRE(it != seen.end());
        CHECK(t.general.rip == it->second.general.rip);
        CHECK(t.general.rsp == it->second.general.rsp);
        same += t.general.rip == it->second.general.rip;
    }
    CHECK(same == 26);
    auto gdb = test_support::run_command(
        {"gdb", "-nx", "-batch", "-ex", "info threads", test_support::victim_path("core_threads"), path});
    REQUIRE(gdb.exit_code == 0);
    const auto current = gdb.out.find("\n* 1 ");
    REQUIRE(current != std::string::npos);
    const std::string current_line = gdb.out.substr(current + 1, gdb.out.find('\n', current + 1) - current - 1);
    CHECK(current_line.find("(LWP " + std::to_string(spinner) + ")") != std::string::npos);

    // A copy needs a held session of that very process.
    auto again = plan_dump(v.pid(), dir / "unheld.core");
    REQUIRE_MESSAGE(again, failure_text(again));
    auto unheld = copy_dump(std::move(*again), *session);
    REQUIRE(!unheld);
    CHECK(unheld.error().code == errc::invalid_argument);
    CHECK(dir.entries() == std::vector<std::string>{"staged.core"});
}

TEST_CASE("dump_process puts the caller's thread first and does not measure CPU") {
    test_support::scratch_dir dir{"coredump-stages"};
    victim v{{test_support::victim_path("core_threads")}};
    const auto parked = v.all("parked");
    REQUIRE(!parked.empty());
    const pid_t chosen = static_cast<pid_t>(std::stol(parked.front()));
    dump_options options;
    options.first_tid = chosen;
    auto report = dump_process(v.pid(), dir / "chosen.core", options);
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK(report->first_tid == chosen);
    CHECK(!report->first_thread_cpu);
    auto core = core_file::open(dir / "chosen.core");
    REQUIRE(core);
    CHECK(core->threads().front().tid == chosen);
    CHECK(coredump_test::running_freely(v));
}

TEST_CASE("a kernel thread and a zombie are refused by name, before anything is stopped") {
    test_support::scratch_dir dir{"coredump-stages"};
    // pid 2 is kthreadd wherever /proc shows the host's kernel threads.
    auto kernel = dump_process(2, dir / "kthreadd.core");
    REQUIRE(!kernel);
    CAPTURE(kernel.error().message());
    CHECK(kernel.error().code == errc::unsupported);
    CHECK(kernel.error().message().find("kernel thread") != std::string::npos);
    CHECK(kernel.error().message().find("coredump_filter") == std::string::npos);

    test_support::child_process zombie{{"/bin/sleep", "1000"}};
    const pid_t pid = zombie.pid();
    zombie.kill_leaving_zombie();
    REQUIRE(test_support::process_state(pid) == 'Z');
    auto dead = dump_process(pid, dir / "zombie.core");
    REQUIRE(!dead);
    CAPTURE(dead.error().message());
    CHECK(dead.error().message().find("it is a zombie") != std::string::npos);
    CHECK(dead.error().message().find("its parent, pid " + std::to_string(::getpid())) != std::string::npos);
    CHECK(dir.entries().empty());

    auto cli = test_support::run_command({gcore_tool, "2", "-o", dir / "k.core"});
    CAPTURE(cli.err);
    CHECK(cli.exit_code == 1);
    CHECK(coredump_test::one_line(cli.err));
    CHECK(cli.err.find("kernel thread") != std::string::npos);
    CHECK(cli.err.find("CAP_SYS_PTRACE") == std::string::npos);
}

TEST_CASE("a stop request during the sampling window ends the dump before the target is stopped") {
    test_support::scratch_dir dir{"coredump-stages"};
    victim v{{test_support::victim_path("core_threads")}};
    // Held by us: a dump that went on to stop it would fail with "already traced".
    auto held = ptrace::session::attach(v.pid());
    REQUIRE_MESSAGE(held, failure_text(held));

    volatile std::sig_atomic_t stop = 1;
    dump_options options;
    options.sample = std::chrono::milliseconds{200};
    options.write.cancel = &stop;
    auto r = dump_process(v.pid(), dir / "cancelled.core", options);
    REQUIRE(!r);
    CAPTURE(r.error().message());
    CHECK(r.error().code == errc::interrupted);

    for (int signal : {SIGINT, SIGTERM}) {
        CAPTURE(signal);
        test_support::child_process gcore{{gcore_tool, std::to_string(v.pid()), "-o", dir / "sampled.core", "--sample-ms", "10000"},
                                          {.capture_stderr = true}};
        // In its window: sleeping.
        bool sleeping = false;
        for (int i = 0; i < 20000 && !sleeping; ++i) {
            auto call = procfs::read_syscall(gcore.pid());
            sleeping = call && (call->name() == "nanosleep" || call->name() == "clock_nanosleep");
            if (!sleeping) std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
        REQUIRE(sleeping);
        REQUIRE(::kill(gcore.pid(), signal) == 0);
        auto status = gcore.wait_for_exit(std::chrono::seconds{60});
        REQUIRE(status.has_value());
        CHECK(WIFEXITED(*status));
        CHECK(WEXITSTATUS(*status) == 1);
        const std::string& err = gcore.captured_stderr();
        CAPTURE(err);
        CHECK(coredump_test::one_line(err));
        CHECK(err.starts_with("triage-gcore: interrupted"));
        CHECK(err.find("before the process was stopped") != std::string::npos);
    }
    CHECK(held->release());
    CHECK(dir.entries().empty());
    CHECK(coredump_test::running_freely(v));
}

TEST_CASE("triage-gcore -o: an empty name is a usage error; an existing file needs --force; a directory is refused up front") {
    test_support::scratch_dir dir{"coredump-stages"};
    victim v{{test_support::victim_path("core_threads")}};
    const std::string pid = std::to_string(v.pid());

    auto empty = test_support::run_command({gcore_tool, pid, "-o", ""});
    CHECK(empty.exit_code == 2);
    CHECK(coredump_test::one_line(empty.err));
    CHECK(empty.err.starts_with("triage-gcore: "));

    for (const std::string& path : {dir.path(), dir.path() + "/"}) {
        auto r = test_support::run_command({gcore_tool, pid, "-o", path, "--sample-ms", "0"});
        CAPTURE(r.err);
        CHECK(r.exit_code == 1);
        CHECK(coredump_test::one_line(r.err));
        CHECK(r.err.find("it is a directory") != std::string::npos);
    }

    const std::string core = dir / "again.core";
    REQUIRE(test_support::run_command({gcore_tool, pid, "-o", core, "--sample-ms", "0"}).exit_code == 0);
    struct ::stat first{};
    REQUIRE(::stat(core.c_str(), &first) == 0);
    auto twice = test_support::run_command({gcore_tool, pid, "-o", core, "--sample-ms", "0"});
    CAPTURE(twice.err);
    CHECK(twice.exit_code == 1);
    CHECK(coredump_test::one_line(twice.err));
    CHECK(twice.err.find("pass --force") != std::string::npos);
    struct ::stat kept{};
    REQUIRE(::stat(core.c_str(), &kept) == 0);
    CHECK(kept.st_ino == first.st_ino);
    auto forced = test_support::run_command({gcore_tool, pid, "-o", core, "--sample-ms", "0", "--force"});
    CHECK(forced.exit_code == 0);
    struct ::stat replaced{};
    REQUIRE(::stat(core.c_str(), &replaced) == 0);
    CHECK(replaced.st_ino != first.st_ino);
    CHECK((replaced.st_mode & 07777) == 0600);
    CHECK(dir.entries() == std::vector<std::string>{"again.core"});
    CHECK(coredump_test::running_freely(v));
}

TEST_CASE("triage-gcore reads a pid like every triage program: usage errors exit 2 on one prefixed line") {
    // " 5" and "0x10" were read as pids 5 and 16 (CLI11's number parsing),
    // while triage-top refused them (issue 8.11).
    for (const char* pid : {" 5", "0x10", "abc", "0", "-3"}) {
        auto r = triage::test_support::run_command({std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", pid});
        CAPTURE(pid);
        CAPTURE(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.starts_with("triage-gcore: "));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
}
