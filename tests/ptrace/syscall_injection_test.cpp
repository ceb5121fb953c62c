// ptrace::inject_syscall when its tracer dies mid-call (SIGKILL): a thread
// spinning in user space with known values in r12, xmm9 and ymm9 and a
// thread blocked in read() carry on as if nothing happened (their signal
// frame puts back every register, the FPU state and the mask; the read is
// restarted); the copy of a clone() is held from birth and dies with its
// tracer, never having run; a reap_guardian told of the fork reaps it.
// (The frame that makes a copy nobody holds exit at once serves only in
// the instants between its birth and its hold: the fork_snapshot test's
// kills at every moment of fork_copy reach it.) The victim (tests/victims/fork_syscalls.c) checks each
// result and register itself.
#include <doctest/doctest.h>

#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ios>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "coredump/victim_checks.hpp"
#include "support/failure_text.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "support/victim_report.hpp"
#include "triage/ptrace/forked_copy.hpp"
#include "triage/ptrace/reap_guardian.hpp"
#include "triage/ptrace/syscall_injection.hpp"

using triage::test_support::failure_text;

namespace tp = triage::ptrace;
using triage::test_support::ask_report;
using triage::test_support::report_counter;
using triage::test_support::victim;

namespace {

// The file's text; "" when it cannot be read (a /proc file of a process
// that exits between open and read fails with ESRCH, which libstdc++'s
// filebuf throws).
std::string read_text(const std::string& path) {
    try {
        std::ifstream file(path);
        return {std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
    } catch (const std::ios_base::failure&) {
        return {};
    }
}

// The thread of `pid` whose name is `name`.
pid_t thread_named(pid_t pid, const std::string& name) {
    const std::string task = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& entry : std::filesystem::directory_iterator(task))
        if (read_text(entry.path() / "comm") == name + "\n") return std::stoi(entry.path().filename());
    FAIL("no thread named " << name << " in " << pid);
    return 0;
}

// Field `n` (1-based, as in proc(5)) of /proc/PID/stat, "" if it is gone.
std::string stat_field(pid_t pid, int n) {
    const std::string text = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) return {};
    std::string_view rest = std::string_view{text}.substr(paren + 2);
    for (int field = 3;; ++field) {
        const std::string_view token = triage::next_token(rest, ' ');
        if (field == n) return std::string{triage::trim(token)};
        if (rest.empty()) return {};
    }
}

// A forked tool, SIGKILLed and reaped when it goes (a traced thread of the
// victim could not be reaped otherwise): declare it after the victim.
struct injector {
    pid_t pid = 0;
    int report = -1;  // 'i' before the call; then the result and the new process, two longs

    injector(pid_t p, int r) : pid{p}, report{r} {}
    injector(const injector&) = delete;
    injector& operator=(const injector&) = delete;
    ~injector() { kill(); }

    // Returns how it ended (0 when it was already reaped).
    int kill() {
        if (pid <= 0) return 0;
        ::kill(pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        ::close(report);
        pid = 0;
        return status;
    }
};

// Forks a "tool" that seizes thread `tid` of `target` (PTRACE_O_TRACECLONE,
// no EXITKILL), stops it, writes 'i' on the pipe and runs `call` in it,
// then writes the result and waits to be killed.
std::unique_ptr<injector> start_injector(pid_t target, pid_t tid, tp::syscall_request call, bool guardian) {
    int pipe[2];
    REQUIRE(::pipe(pipe) == 0);
    const pid_t tool = ::fork();
    REQUIRE(tool >= 0);
    if (tool == 0) {
        ::close(pipe[0]);
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        std::optional<tp::reap_guardian> watch;
        if (guardian) {
            auto started = tp::reap_guardian::start();
            if (!started) ::_exit(3);
            watch.emplace(std::move(*started));
        }
        auto site = tp::find_injection_site(target);
        if (!site) ::_exit(4);
        if (::ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(PTRACE_O_TRACECLONE))) != 0 ||
            ::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0)
            ::_exit(5);
        int status = 0;
        if (::waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status)) ::_exit(6);
        if (watch) watch->expect_fork(target);
        (void)!::write(pipe[1], "i", 1);
        auto ran = tp::inject_syscall(tid, call, *site, PTRACE_O_TRACECLONE);
        if (!ran) ::_exit(7);
        const std::array<long, 2> out{ran->result, ran->new_process.value_or(0)};
        (void)!::write(pipe[1], out.data(), sizeof out);
        for (;;) ::pause();
    }
    ::close(pipe[1]);
    char byte = 0;
    if (::read(pipe[0], &byte, 1) != 1) {
        int status = 0;
        ::waitpid(tool, &status, 0);
        FAIL("the injector did not get to the call; exit status " << WEXITSTATUS(status));
    }
    return std::make_unique<injector>(tool, pipe[0]);
}

void kill_tool(injector& tool) {
    const int status = tool.kill();
    CHECK(WIFSIGNALED(status));
}

// The victim's report after its threads went round again: no error, and
// every counter in `moving` grew.
void check_unharmed(const victim& v, const std::string& path, const std::string& before, std::initializer_list<const char*> moving) {
    std::this_thread::sleep_for(std::chrono::milliseconds{300});
    INFO("victim state " << triage::test_support::process_state(v.pid()) << ", ended: " << triage::test_support::zombie_ending(v.pid()));
    const std::string after = ask_report(v.pid(), path);
    CAPTURE(after);
    CHECK(report_counter(after, "errors") == 0);
    for (const char* counter : moving) {
        CAPTURE(counter);
        CHECK(report_counter(after, counter) > report_counter(before, counter));
    }
    CHECK(coredump_test::running_unstopped(v));
}

} // namespace

TEST_CASE("a tracer SIGKILLed in the middle of an injected call: the thread puts itself back, registers, FPU state and system call") {
    triage::test_support::scratch_dir dir{"injection"};
    victim v{{triage::test_support::victim_path("fork_syscalls"), dir / "report", "16"}};
    // Killed as soon as the call shows in /proc (often in its syscall-entry-stop), or 100 ms into it.
    for (const std::string name : {"spinner", "reader"}) {
        for (const int wait_ms : {0, 0, 0, 100, 100}) {
            CAPTURE(name);
            CAPTURE(wait_ms);
            const std::string before = ask_report(v.pid(), dir / "report");
            const pid_t tid = thread_named(v.pid(), name);
            // poll(NULL, 0, 300): 300 ms inside the call, with our registers.
            const auto tool = start_injector(v.pid(), tid, {SYS_poll, {0, 0, 300, 0, 0, 0}}, false);
            const std::string syscall_file = "/proc/" + std::to_string(v.pid()) + "/task/" + std::to_string(tid) + "/syscall";
            bool in_call = false;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
            while (!in_call && std::chrono::steady_clock::now() < deadline) in_call = read_text(syscall_file).starts_with("7 ");
            REQUIRE(in_call);  // the kill lands inside the injected poll
            std::this_thread::sleep_for(std::chrono::milliseconds{wait_ms});
            kill_tool(*tool);
            std::this_thread::sleep_for(std::chrono::milliseconds{400});
            check_unharmed(v, dir / "report", before, {"spins", "reads", "waits", "sleeps"});
        }
    }
}

TEST_CASE("a clone()'s copy is held from birth with PTRACE_O_EXITKILL, without our frames; a reap guardian told of the fork reaps it") {
    triage::test_support::scratch_dir dir{"injection"};
    victim v{{triage::test_support::victim_path("fork_syscalls"), dir / "report", "16"}};
    for (bool guardian : {false, true}) {
        CAPTURE(guardian);
        const std::string before = ask_report(v.pid(), dir / "report");
        const auto tool = start_injector(v.pid(), thread_named(v.pid(), "spinner"),
                                             {SYS_clone, {CLONE_FILES | CLONE_FS, 0, 0, 0, 0, 0}}, guardian);
        std::array<long, 2> out{};
        REQUIRE(::read(tool->report, out.data(), sizeof out) == sizeof out);
        const auto copy = static_cast<pid_t>(out[1]);
        REQUIRE(out[0] > 0);
        REQUIRE(copy > 0);
        CHECK(stat_field(copy, 4) == std::to_string(v.pid()));
        CHECK(stat_field(copy, 3) == "t");  // held by the tool, never run
        kill_tool(*tool);
        if (!guardian) {
            std::string state;
            for (int i = 0; i < 500 && (state = stat_field(copy, 3)) != "Z"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{1});
            CHECK(state == "Z");
            CHECK(triage::test_support::zombie_ending(copy) == "signal 9");  // killed with its tracer, never run
            auto reaped = tp::reap_dead_copy(v.pid(), copy, std::chrono::milliseconds{2000});
            CHECK_MESSAGE(reaped, (reaped ? std::string{} : failure_text(reaped)));
        }
        bool gone = false;
        for (int i = 0; i < 500 && !gone; ++i) {
            gone = !std::filesystem::exists("/proc/" + std::to_string(copy));
            if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        CHECK(gone);
        check_unharmed(v, dir / "report", before, {"spins", "reads"});
    }
}

TEST_CASE("a tracer SIGKILLed during a long clone(): the copy, never held, exits with status 0 without running the victim's code") {
    // 1 GiB of touched pages: the clone() copies page tables for tens of
    // milliseconds. It runs in the "reader" thread (blocked in read() when
    // stopped), and the tool is killed as soon as that thread runs: inside
    // the clone, no tracer is left to hold the copy, which runs its frame,
    // exit_group(0); a kill that comes later finds the copy held and kills
    // it (SIGKILL). Either way the victim carries on, its read restarted.
    triage::test_support::scratch_dir dir{"injection"};
    victim v{{triage::test_support::victim_path("fork_syscalls"), dir / "report", "1024"}};
    int ran_free = 0;
    for (int round = 0; round < 4; ++round) {
        CAPTURE(round);
        const std::string before = ask_report(v.pid(), dir / "report");
        const pid_t tid = thread_named(v.pid(), "reader");
        const auto tool = start_injector(v.pid(), tid, {SYS_clone, {CLONE_FILES | CLONE_FS, 0, 0, 0, 0, 0}}, false);
        const std::string syscall_file = "/proc/" + std::to_string(v.pid()) + "/task/" + std::to_string(tid) + "/syscall";
        bool in_call = false;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
        while (!in_call && std::chrono::steady_clock::now() < deadline) {
            const std::string now = read_text(syscall_file);
            in_call = now.starts_with("running") || now.starts_with("56 ");
        }
        REQUIRE(in_call);
        kill_tool(*tool);
        // The copy: the victim's child with exit signal 0, once a zombie.
        pid_t copy = 0;
        for (int i = 0; i < 2000 && copy == 0; ++i) {
            for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
                const std::string name = entry.path().filename();
                if (name.find_first_not_of("0123456789") != std::string::npos) continue;
                const pid_t pid = std::stoi(name);
                if (stat_field(pid, 4) == std::to_string(v.pid()) && stat_field(pid, 38) == "0" && stat_field(pid, 3) == "Z") copy = pid;
            }
            if (copy == 0) std::this_thread::sleep_for(std::chrono::milliseconds{1});
        }
        REQUIRE(copy != 0);
        const std::string ending = triage::test_support::zombie_ending(copy);
        CHECK((ending == "exit status 0" || ending == "signal 9"));
        ran_free += ending == "exit status 0" ? 1 : 0;
        auto reaped = tp::reap_dead_copy(v.pid(), copy, std::chrono::milliseconds{2000});
        CHECK_MESSAGE(reaped, (reaped ? std::string{} : failure_text(reaped)));
        check_unharmed(v, dir / "report", before, {"spins", "reads"});
    }
    MESSAGE(ran_free << " of 4 copies ran their own frame (the rest were held and killed)");
    CHECK(ran_free > 0);
}
