// cpython::python_stacks, the one-call entry points, against every
// interpreter on the machine (tests/victims/py_parked.py): the stacks agree
// with CPython's own faulthandler dump, and each thread carries what /proc
// says of it (tid, name, state, CPU%); the held-session overload reads
// inside the caller's stop and leaves the stop to the caller.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cpython/python_victim.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/report/python_format.hpp"

using triage::test_support::failure_text;

namespace {

using namespace triage;
using namespace triage::testing;

struct parked {
    scratch_dir dir;
    std::string ready = dir.path() + "/ready";
    std::string dump = dir.path() + "/faulthandler.txt";
    std::unique_ptr<python_process> process;

    explicit parked(const python_interpreter& python) {
        std::string extra = dir.path() + "/extra";
        std::filesystem::create_directory(extra);
        write_extra_files(extra, python.major);
        process = std::make_unique<python_process>(python, std::vector<std::string>{victim_script("py_parked.py"), ready, dump, extra});
        REQUIRE(process->wait_for_file(ready));
    }
};

// The thread's name as the kernel keeps it, read without our parsers.
std::string os_name(pid_t pid, pid_t tid) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm");
    std::string name;
    std::getline(comm, name);
    return name;
}

// Each thread: a distinct tid of the process, its OS name, a state, a CPU%.
void check_os_facts(const cpython::python_stacks_report& r, pid_t pid, bool with_cpu) {
    auto tids = procfs::task_ids(pid);
    REQUIRE(tids);
    std::set<pid_t> seen;
    for (const auto& t : r.threads) {
        INFO(fmt::format("{}", t));
        REQUIRE(t.tid);
        CHECK(std::find(tids->begin(), tids->end(), *t.tid) != tids->end());
        CHECK(seen.insert(*t.tid).second);
        CHECK_FALSE(t.ns_tid);
        CHECK(t.name == os_name(pid, *t.tid));
        CHECK(std::string{"RSD"}.find(t.state) != std::string::npos);
        CHECK(t.cpu_percent.has_value() == with_cpu);
        if (t.cpu_percent) CHECK(*t.cpu_percent <= 100.0);
    }
    CHECK(seen.contains(pid));
    for (std::size_t k = 1; k < r.threads.size(); ++k)
        CHECK(r.threads[k - 1].cpu_percent.value_or(-1) >= r.threads[k].cpu_percent.value_or(-1));
}

// faulthandler's dump, taken right after: the same threads, the same frames
// (the spinning thread's line moves between the two).
void check_against_faulthandler(const parked& v, const cpython::python_stacks_report& r) {
    const std::string script = victim_script("py_parked.py");
    const auto spin_lines = marker_lines(read_markers(script), "spin", "spinning");
    const std::string text = faulthandler_dump(v.process->pid(), v.dump, r.threads.size());
    const auto dump = parse_faulthandler(text);
    INFO(text);
    REQUIRE(dump.size() == r.threads.size());
    for (const auto& [ident, frames] : dump) {
        auto ours = std::ranges::find(r.threads, ident, &cpython::thread_stack::python_ident);
        REQUIRE(ours != r.threads.end());
        REQUIRE(ours->frames.size() >= frames.size());
        for (std::size_t k = 0; k < frames.size(); ++k) {
            const auto& f = ours->frames[k];
            CAPTURE(k);
            CHECK(faulthandler_escape(f.file) == frames[k].file);
            CHECK(faulthandler_escape(f.name) == frames[k].function);
            if (k == 0 && f.file == script && f.line && spin_lines.contains(*f.line)) continue;
            CHECK(f.line.value_or(-1) == frames[k].line);
        }
    }
}

} // namespace

TEST_CASE("python_stacks(pid): faulthandler's stacks, with each thread's tid, name, state and CPU%") {
    auto all = machine_interpreters();
    REQUIRE(!all.empty());
    std::size_t covered = 0;
    for (const auto& python : all) {
        CAPTURE(python.label);
        parked v(python);
        const pid_t pid = v.process->pid();
        auto blocking = cpython::python_stacks(pid);
        REQUIRE_MESSAGE(blocking, failure_text(blocking));
        CHECK(blocking->source == cpython::stacks_source::blocking);
        REQUIRE(blocking->stopped_for);
        CHECK(blocking->stopped_for->count() > 0);
        CHECK(blocking->pid == pid);
        CHECK(blocking->python_version.starts_with(std::to_string(python.major) + "." + std::to_string(python.minor) + "."));
        CHECK(blocking->command_line.find("py_parked.py") != std::string::npos);
        check_os_facts(*blocking, pid, true);

        auto quiet = cpython::python_stacks(pid, {.nonblocking = true, .cpu_window = std::chrono::milliseconds{0}});
        REQUIRE_MESSAGE(quiet, failure_text(quiet));
        CHECK(quiet->source == cpython::stacks_source::nonblocking);
        CHECK_FALSE(quiet->stopped_for);
        check_os_facts(*quiet, pid, false);
        if (python.major >= 3) check_against_faulthandler(v, *quiet);  // faulthandler came with 3.3
        CHECK(v.process->running());
        ++covered;
    }
    MESSAGE("python_stacks covered " << covered << " interpreters");
    CHECK(covered == all.size());
}

TEST_CASE("python_stacks(held session): read inside the caller's stop, which stays the caller's") {
    auto all = machine_interpreters();
    REQUIRE(!all.empty());
    parked v(all.back());
    const pid_t pid = v.process->pid();
    auto dir = procfs::proc_dir::open(pid);
    REQUIRE(dir);
    auto before = procfs::sample_cpu(*dir);
    REQUIRE(before);
    auto opened = cpython::open_live_python(pid);
    REQUIRE_MESSAGE(opened, failure_text(opened));
    procfs::wait_for_window(*before, std::chrono::milliseconds{20});
    auto after = procfs::sample_cpu(*dir);
    REQUIRE(after);
    const auto cpu = procfs::cpu_usage(*before, *after);

    auto session = ptrace::session::attach(pid);
    REQUIRE_MESSAGE(session, failure_text(session));
    auto stacks = cpython::python_stacks(*opened, *session, {.cpu = cpu});
    REQUIRE_MESSAGE(stacks, failure_text(stacks));
    // Still held: every thread stopped, registers readable from the same stop.
    CHECK(session->held());
    for (char state : test_support::thread_states(pid)) CHECK(state == 't');
    auto regs = session->registers(pid);
    REQUIRE(regs);
    const auto main_thread = std::ranges::find(stacks->threads, std::optional<pid_t>{pid}, &cpython::thread_stack::tid);
    REQUIRE(main_thread != stacks->threads.end());
    CHECK(regs->general.fs_base == main_thread->python_ident);
    CHECK(stacks->stopped_for.value() <= session->stopped_for());
    for (const auto& t : stacks->threads) {
        REQUIRE(t.tid);
        CHECK(std::ranges::count(session->threads(), *t.tid) == 1);
        CHECK(t.state != 't');  // the state as the window ended, not our stop
        CHECK(t.cpu_percent.has_value());
    }
    // Without the caller's measurement, states are unknown (not "stopped").
    auto bare = cpython::python_stacks(*session);
    REQUIRE_MESSAGE(bare, failure_text(bare));
    for (const auto& t : bare->threads) {
        CHECK(t.state == '?');
        CHECK_FALSE(t.cpu_percent);
        CHECK(!t.name.empty());
    }
    REQUIRE(session->release());
    auto late = cpython::python_stacks(*opened, *session);
    REQUIRE_FALSE(late);
    CHECK(late.error().code == errc::invalid_argument);
    CHECK(v.process->running());
}

TEST_CASE("one stop, many readers: a Python snapshot, the registers and a core from one stop of the target") {
    // Issue 9.1: every reader borrows the caller's session; the target is
    // stopped once, and the core holds the stacks the live read saw.
    auto all = machine_interpreters();
    REQUIRE(!all.empty());
    parked v(all.back());
    CAPTURE(all.back().label);
    const pid_t pid = v.process->pid();
    const std::string path = v.dir.path() + "/one-stop.core";
    auto opened = cpython::open_live_python(pid);
    REQUIRE_MESSAGE(opened, failure_text(opened));
    auto plan = coredump::plan_dump(pid, path);
    REQUIRE_MESSAGE(plan, failure_text(plan));
    (void)coredump::reserve_copy(*plan);

    auto session = ptrace::session::attach(pid);
    REQUIRE_MESSAGE(session, failure_text(session));
    auto live = cpython::python_stacks(*opened, *session);
    REQUIRE_MESSAGE(live, failure_text(live));
    auto regs = session->registers(pid);
    REQUIRE_MESSAGE(regs, failure_text(regs));
    auto copy = coredump::copy_dump(std::move(*plan), *session, pid);
    REQUIRE_MESSAGE(copy, failure_text(copy));
    CHECK(session->stops() == 1);
    REQUIRE(session->release());
    auto written = coredump::write_dump(std::move(*copy), *session);
    REQUIRE_MESSAGE(written, failure_text(written));
    CHECK(session->stops() == 1);
    CHECK(written->stopped_for == session->stopped_for());
    CHECK(v.process->running());

    auto from_core = cpython::python_stacks(path);
    REQUIRE_MESSAGE(from_core, failure_text(from_core));
    REQUIRE(from_core->threads.size() == live->threads.size());
    for (const auto& t : live->threads) {
        auto same = std::ranges::find(from_core->threads, t.python_ident, &cpython::thread_stack::python_ident);
        REQUIRE(same != from_core->threads.end());
        CHECK(same->tid == t.tid);
        CHECK(same->frames == t.frames);  // one stop: even the spinning thread's line is the same
    }
    auto core = coredump::core_file::open(path);
    REQUIRE(core);
    auto main_thread = std::ranges::find(core->threads(), pid, &coredump::core_thread::tid);
    REQUIRE(main_thread != core->threads().end());
    CHECK(main_thread->general.rip == regs->general.rip);
    CHECK(main_thread->general.rsp == regs->general.rsp);
}

TEST_CASE("python_frame and thread values compare with == and print as function (file:line)") {
    cpython::python_frame f{"Worker.run", "run", "/srv/app.py", 41, 0x1000, 12, 0};
    cpython::python_frame g = f;
    CHECK(f == g);
    g.line = 42;
    CHECK(f != g);
    CHECK(fmt::format("{}", f) == "Worker.run (/srv/app.py:41)");
    g.line.reset();
    CHECK(fmt::format("{}", g) == "Worker.run (/srv/app.py)");

    cpython::python_thread t;
    t.python_ident = 0x7f00;
    t.tid = 12;
    t.holds_gil = true;
    t.frames = {f};
    CHECK(fmt::format("{}", t) == "Thread 0x7f00 (tid 12) holds the GIL\n    Worker.run (/srv/app.py:41)");
    t.python_name = "pool\x1b[2J";
    CHECK(fmt::format("{}", t) ==
          "Thread 0x7f00 \"pool\\x1b[2J\" (tid 12) holds the GIL\n    Worker.run (/srv/app.py:41)");
    auto u = t;
    CHECK(u == t);
    u.failure = error{errc::bad_address, 0, "reading a frame", {}};
    CHECK(u != t);

    cpython::thread_stack s;
    s.tid = 12;
    s.ns_tid = 3;
    s.name = "worker\x1b[2J";
    s.state = 'R';
    s.cpu_percent = 99.94;
    s.frames = {f};
    CHECK(fmt::format("{}", s) == "Thread 12 (ns 3) \"worker\\x1b[2J\" running 99.9%\n    Worker.run (/srv/app.py:41)");
    // The Python name first, then the OS name where it says something else.
    s.python_name = "request-7\r";
    CHECK(fmt::format("{}", s) ==
          "Thread 12 (ns 3) \"request-7\\r\" (worker\\x1b[2J) running 99.9%\n    Worker.run (/srv/app.py:41)");
    s.name = "request-7\r";
    CHECK(fmt::format("{}", s).starts_with("Thread 12 (ns 3) \"request-7\\r\" running"));
    s.python_name = "a-thread-name-longer-than-fifteen-bytes";  // 3.14+: the OS keeps its first 15 bytes
    s.name = "a-thread-name-l";
    CHECK(fmt::format("{}", s).starts_with("Thread 12 (ns 3) \"a-thread-name-longer-than-fifteen-bytes\" running"));
    s.name = "worker\x1b[2J";
    s.python_name.clear();
    s.frames.clear();
    s.tid.reset();
    s.consistent = false;
    CHECK(fmt::format("{}", s) ==
          "Thread ? (ns 3) \"worker\\x1b[2J\" running 99.9%\n    (no Python frames)\n"
          "    (this stack changed while it was read; it may be torn)");
}
