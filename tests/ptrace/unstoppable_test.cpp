// A thread that cannot be stopped: a vfork() parent sits in uninterruptible
// sleep (state D) until its child exits, and PTRACE_INTERRUPT cannot stop
// it. The session must not hold the other threads past its budget, must say
// which thread and why, and must not leave that thread to stop later with
// nobody to let it go (our process living on). Also: our tool, stuck
// waiting for such a thread, ends promptly on SIGINT.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <string>

#include "ptrace/shared_victim.hpp"
#include "ptrace/vfork_victim.hpp"
#include "support/child_process.hpp"
#include "triage/base/scope_exit.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/ptrace/session.hpp"

using namespace ptrace_test;
using triage::test_support::thread_state;
using triage::test_support::tracer_pid;
namespace tp = triage::ptrace;
using namespace std::chrono_literals;

namespace {

// Every thread of `pid` but `except` is neither stopped nor traced.
void others_run_untraced(pid_t pid, pid_t except) {
    auto tids = triage::procfs::task_ids(pid);
    REQUIRE(tids.has_value());
    for (pid_t tid : *tids) {
        if (tid == except) continue;
        const char state = thread_state(pid, tid);
        CHECK_MESSAGE((state != 't' && state != 'T'), "thread " << tid << " is in state " << state);
        CHECK_MESSAGE(tracer_pid(tid) == 0, "thread " << tid << " is still traced");
    }
}

void attach_to_a_thread_in_vfork(const char* who_vforks) {
    shared_victim victim{"ptrace_vfork", sizeof(vfork_shared), {who_vforks, "20"}};
    auto* shared = victim.shared<vfork_shared>();
    auto end_child = kill_vfork_child_at_exit(*shared);
    const pid_t vforker = load(shared->vforker_tid);
    REQUIRE(thread_state(victim.pid(), vforker) == 'D');
    auto tids = triage::procfs::task_ids(victim.pid());
    REQUIRE(tids.has_value());
    const std::size_t others = tids->size() - 1;

    const auto budget = 300ms;
    const auto started = std::chrono::steady_clock::now();
    auto s = tp::session::attach(victim.pid(), {.stop_timeout = budget});
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK_MESSAGE(took < budget + 1s, "attach took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == triage::errc::interrupted);
    // The truth: which thread, in what state and call, what became of the others.
    const std::string message = s.error().message();
    INFO(message);
    CHECK(message.find("thread " + std::to_string(vforker) + " is in uninterruptible sleep (state D, in vfork") != std::string::npos);
    const std::string released = others == 1 ? "the other thread was released after"
                                             : "the other " + std::to_string(others) + " threads were released after";
    CHECK(message.find(released) != std::string::npos);
    CHECK(message.find("--nonblocking") != std::string::npos);
    CHECK(message.find("everything was released") == std::string::npos);

    // While the vfork child still sleeps: the stuck thread is still in vfork,
    // every other thread runs, nothing is traced, and the work goes on.
    CHECK(thread_state(victim.pid(), vforker) == 'D');
    others_run_untraced(victim.pid(), vforker);
    CHECK(tracer_pid(vforker) == 0);
    check_runs_on(victim, shared->progress);

    // The child exits: the thread comes back from vfork and runs on; it does
    // not stop for an interrupt nobody would answer.
    REQUIRE(::kill(load(shared->child_pid), SIGKILL) == 0);
    CHECK(eventually([&] { return load(shared->vfork_returns) == 1; }));
    const std::uint64_t after = load(shared->after_vfork);
    CHECK(eventually([&] { return load(shared->after_vfork) > after; }));
    const char state = thread_state(victim.pid(), vforker);
    CHECK((state != 't' && state != 'T'));
    others_run_untraced(victim.pid(), 0);
    check_runs_on(victim, shared->after_vfork);
}

} // namespace

TEST_CASE("the main thread in vfork (state D): attach fails within its budget, the others are released at once") {
    attach_to_a_thread_in_vfork("main");
}

TEST_CASE("a worker thread in vfork (state D): attach fails within its budget, the others are released at once") {
    attach_to_a_thread_in_vfork("worker");
}

namespace {

// A tool (a child process) that attaches with a long budget to the vfork
// victim, so that it waits for the thread in D; SIGINT must end that wait
// at once. With `own_handler` the tool survives SIGINT (its handler only
// sets a flag) and exits 0 if attach returned errc::interrupted.
void sigint_ends_the_wait(bool own_handler) {
    shared_victim victim{"ptrace_vfork", sizeof(vfork_shared), {"worker", "20"}};
    auto* shared = victim.shared<vfork_shared>();
    auto end_child = kill_vfork_child_at_exit(*shared);
    const pid_t vforker = load(shared->vforker_tid);
    const pid_t tool = ::fork();
    REQUIRE(tool >= 0);
    if (tool == 0) {
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
        if (own_handler) {
            struct sigaction flag {};
            flag.sa_handler = [](int) {};
            ::sigaction(SIGINT, &flag, nullptr);
        }
        auto s = tp::session::attach(victim.pid(), {.stop_timeout = 60s});
        ::_exit(!s && s.error().code == triage::errc::interrupted ? 0 : 3);
    }
    auto end_tool = triage::scope_exit{[tool] {
        ::kill(tool, SIGKILL);
        ::waitpid(tool, nullptr, 0);
    }};
    // The tool holds the other threads and waits for the one in D.
    REQUIRE(eventually([&] { return thread_state(victim.pid(), load(shared->counter_tid)) == 't'; }));
    REQUIRE(::kill(tool, SIGINT) == 0);
    const auto sent = std::chrono::steady_clock::now();
    int status = 0;
    REQUIRE(eventually([&] { return ::waitpid(tool, &status, WNOHANG) == tool; }, 5s));
    end_tool.release();
    CHECK(std::chrono::steady_clock::now() - sent < 2s);
    if (own_handler) {
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    } else {
        CHECK(WIFSIGNALED(status));
        if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGINT);
    }
    others_run_untraced(victim.pid(), vforker);
    check_runs_on(victim, shared->progress);
}

} // namespace

TEST_CASE("SIGINT ends a tool waiting for a thread in D at once (default disposition: the tool dies by it)") {
    sigint_ends_the_wait(false);
}

TEST_CASE("SIGINT ends a tool waiting for a thread in D at once (the tool's own handler: attach returns interrupted)") {
    sigint_ends_the_wait(true);
}
