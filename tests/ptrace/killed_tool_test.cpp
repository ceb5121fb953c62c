// Our tool dies while it holds a target stopped: by SIGINT, SIGTERM, SIGHUP,
// SIGQUIT (our handlers detach, then the signal ends the tool as it would
// have without us), by a crash (SIGSEGV from a real fault, SIGABRT), and by
// SIGKILL (nothing of ours runs; the kernel detaches). Each time the victim
// must survive, not be stopped, and run on.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "ptrace/parked_victim.hpp"
#include "ptrace/shared_victim.hpp"
#include "support/child_process.hpp"
#include "support/victim.hpp"
#include "triage/base/scope_exit.hpp"
#include "triage/ptrace/session.hpp"

using namespace ptrace_test;
using triage::test_support::any_thread_stopped;
namespace tp = triage::ptrace;

namespace {

enum class ending { wait_for_signal, fault, abort };

// Forks a "tool" that attaches to `target`, reports "attached" on a pipe,
// then waits to be killed or crashes on its own. Returns its pid once it
// holds the target.
pid_t start_tool(pid_t target, ending how) {
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t tool = ::fork();
    REQUIRE(tool >= 0);
    if (tool == 0) {
        ::close(report[0]);
        // A plain program: no test framework's crash handlers inherited.
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);  // SIGQUIT/SIGSEGV/SIGABRT must not litter cores
        auto s = tp::session::attach(target);
        if (!s) ::_exit(3);
        (void)!::write(report[1], "attached", 8);
        if (how == ending::fault) {
            void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            (void)*static_cast<volatile int*>(page);  // a real SIGSEGV
        } else if (how == ending::abort) {
            std::abort();
        }
        for (;;) ::pause();
    }
    ::close(report[1]);
    char buf[16] = {};
    ssize_t n = ::read(report[0], buf, sizeof buf);
    ::close(report[0]);
    if (n != 8) {
        int status = 0;
        ::kill(tool, SIGKILL);
        ::waitpid(tool, &status, 0);
        FAIL("the tool did not attach");
    }
    return tool;
}

void tool_dies_victim_runs_on(int signal, ending how) {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    pid_t tool = start_tool(victim.pid(), how);
    if (how == ending::wait_for_signal) {
        CHECK(any_thread_stopped(victim.pid()));  // held while the tool lives
        ::kill(tool, signal);
    }
    int status = 0;
    REQUIRE(::waitpid(tool, &status, 0) == tool);
    // The signal ended the tool exactly as it would have without triage.
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == signal);
    check_runs_on(victim, shared->progress);
}

} // namespace

TEST_CASE("the tool killed by SIGINT while attached: the victim runs on") { tool_dies_victim_runs_on(SIGINT, ending::wait_for_signal); }
TEST_CASE("the tool killed by SIGTERM while attached: the victim runs on") { tool_dies_victim_runs_on(SIGTERM, ending::wait_for_signal); }
TEST_CASE("the tool killed by SIGHUP while attached: the victim runs on") { tool_dies_victim_runs_on(SIGHUP, ending::wait_for_signal); }
TEST_CASE("the tool killed by SIGQUIT while attached: the victim runs on") { tool_dies_victim_runs_on(SIGQUIT, ending::wait_for_signal); }
TEST_CASE("the tool killed by SIGKILL while attached: the kernel lets the victim go") { tool_dies_victim_runs_on(SIGKILL, ending::wait_for_signal); }
TEST_CASE("the tool crashes (SIGSEGV) while attached: the victim runs on") { tool_dies_victim_runs_on(SIGSEGV, ending::fault); }
TEST_CASE("the tool aborts (SIGABRT) while attached: the victim runs on") { tool_dies_victim_runs_on(SIGABRT, ending::abort); }

TEST_CASE("a signal the tool's own handler survives still releases the target first") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t tool = ::fork();
    REQUIRE(tool >= 0);
    if (tool == 0) {
        ::close(report[0]);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
        static volatile sig_atomic_t got = 0;
        struct sigaction own {};
        own.sa_handler = [](int) { got = 1; };
        ::sigaction(SIGINT, &own, nullptr);  // the program's own handler, kept by triage
        // SIGINT blocked until sigsuspend: one arriving between a test of
        // `got` and pause() would leave pause() waiting for ever.
        sigset_t interrupt{}, waiting{};
        sigemptyset(&interrupt);
        sigaddset(&interrupt, SIGINT);
        ::sigprocmask(SIG_BLOCK, &interrupt, &waiting);
        auto s = tp::session::attach(victim.pid());
        if (!s) ::_exit(3);
        (void)!::write(report[1], "attached", 8);
        while (!got) ::sigsuspend(&waiting);
        // Our handler detached before the program's ran: nothing held now.
        bool released = !any_thread_stopped(victim.pid());
        auto after = s->release();  // still fine to call
        ::_exit(released && after.has_value() && tp::caught_signal() == SIGINT ? 0 : 4);
    }
    ::close(report[1]);
    char buf[16] = {};
    REQUIRE(::read(report[0], buf, sizeof buf) == 8);
    ::close(report[0]);
    ::kill(tool, SIGINT);
    int status = 0;
    REQUIRE(::waitpid(tool, &status, 0) == tool);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    check_runs_on(victim, shared->progress);
}

TEST_CASE("the target killed while a tool holds it: once released, its parent can reap it while the tool lives on") {
    // A traced thread that is still dying when the tool detaches stays a
    // zombie only its tracer can reap; until then the parent cannot reap
    // the process. release() must wait for those threads.
    triage::test_support::victim target{{triage::test_support::victim_path("core_threads")}};
    int to_tool[2], from_tool[2];
    REQUIRE(::pipe(to_tool) == 0);
    REQUIRE(::pipe(from_tool) == 0);
    pid_t tool = ::fork();
    REQUIRE(tool >= 0);
    if (tool == 0) {
        auto s = tp::session::attach(target.pid());
        if (!s) ::_exit(3);
        char go = 0;
        (void)!::write(from_tool[1], "A", 1);
        (void)!::read(to_tool[0], &go, 1);
        (void)s->release();
        (void)!::write(from_tool[1], "R", 1);
        for (;;) ::pause();
    }
    // The tool and the pipes go on every exit, a failed REQUIRE too.
    auto end_tool = triage::scope_exit{[&] {
        ::kill(tool, SIGKILL);
        ::waitpid(tool, nullptr, 0);
        for (int fd : {to_tool[0], to_tool[1], from_tool[0], from_tool[1]}) ::close(fd);
    }};
    char got = 0;
    REQUIRE(::read(from_tool[0], &got, 1) == 1);
    REQUIRE(got == 'A');
    REQUIRE(::kill(target.pid(), SIGKILL) == 0);
    REQUIRE(::write(to_tool[1], "g", 1) == 1);
    REQUIRE(::read(from_tool[0], &got, 1) == 1);
    CHECK(got == 'R');
    auto status = target.wait_for_exit(std::chrono::seconds{10});
    CHECK(status.has_value());
    if (status) CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
}
