// The target SIGKILLed while a tool attaches to it or releases it: the tool
// must return within its budget (not poll forever for a dead leader), and
// the target's parent (the test) must be able to reap it at once (no dead
// thread kept unreaped by its tracer). At random moments, and at the
// moment attach waits for a leader that cannot stop (in vfork, state D)
// while it holds the other threads: the leader's death is not reported
// until they are reaped.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "ptrace/shared_victim.hpp"
#include "ptrace/vfork_victim.hpp"
#include "support/victim.hpp"
#include "triage/ptrace/session.hpp"

using namespace ptrace_test;
namespace tp = triage::ptrace;
using namespace std::chrono_literals;

namespace {
// A forked tool that attaches to `target` within `budget`, then releases;
// it writes 'S' on its report pipe before attaching, then 'A' (attached)
// or 'E'. SIGKILLed and reaped on destruction unless it returned.
class attaching_tool {
public:
    attaching_tool(pid_t target, std::chrono::milliseconds budget) {
        int report[2];
        REQUIRE(::pipe(report) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(report[0]);
            (void)!::write(report[1], "S", 1);
            auto s = tp::session::attach(target, {.stop_timeout = budget});
            const char outcome = s ? 'A' : 'E';
            if (s) (void)s->release();
            (void)!::write(report[1], &outcome, 1);
            ::_exit(0);
        }
        ::close(report[1]);
        report_ = report[0];
    }
    attaching_tool(const attaching_tool&) = delete;
    attaching_tool& operator=(const attaching_tool&) = delete;
    ~attaching_tool() {
        if (!returned_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(report_);
    }

    // The next byte it reported (0 at end of file).
    char next_report() {
        char byte = 0;
        return ::read(report_, &byte, 1) == 1 ? byte : 0;
    }
    // Reaps it if it returns within `limit`.
    bool returned_within(std::chrono::milliseconds limit) {
        int status = 0;
        returned_ = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
        return returned_;
    }

private:
    pid_t pid_ = -1;
    int report_ = -1;
    bool returned_ = false;
};
} // namespace

TEST_CASE("100 targets SIGKILLed at random moments of attach/release: the tool returns in time, the parent reaps the target") {
    const auto seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937 random{seed};
    std::uniform_int_distribution<int> delay_us{0, 800};
    const auto budget = 1s;
    int attached = 0;
    for (int round = 0; round < 100; ++round) {
        INFO("round " << round);
        triage::test_support::victim target{{triage::test_support::victim_path("procfs_many"), "64"}};
        attaching_tool tool{target.pid(), budget};
        REQUIRE(tool.next_report() == 'S');  // it begins to attach
        std::this_thread::sleep_for(std::chrono::microseconds{delay_us(random)});
        REQUIRE(::kill(target.pid(), SIGKILL) == 0);
        const auto killed = std::chrono::steady_clock::now();
        const bool returned = tool.returned_within(budget + 1s);
        CHECK_MESSAGE(returned, "the tool did not return within " << (budget + 1s).count() << " ms of the kill");
        if (!returned) continue;
        if (tool.next_report() == 'A') ++attached;
        auto reaped = target.wait_for_exit(2s);
        CHECK_MESSAGE(reaped.has_value(), "the target could not be reaped within 2 s of its tool's return ("
                                               << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::steady_clock::now() - killed)
                                                      .count()
                                               << " ms after the kill)");
        if (reaped) CHECK((WIFSIGNALED(*reaped) && WTERMSIG(*reaped) == SIGKILL));
    }
    MESSAGE("rounds in which the tool attached before the kill: " << attached);
}

TEST_CASE("the target SIGKILLed while attach waits for its leader in vfork (state D): the tool returns, the parent reaps") {
    shared_victim victim{"ptrace_vfork", sizeof(vfork_shared), {"main", "20"}};
    auto* shared = victim.shared<vfork_shared>();
    auto end_child = kill_vfork_child_at_exit(*shared);
    const auto budget = 1s;
    attaching_tool tool{victim.pid(), budget};
    // The tool holds the other threads and waits for the leader.
    REQUIRE(eventually([&] { return triage::test_support::thread_state(victim.pid(), load(shared->counter_tid)) == 't'; }));
    REQUIRE(::kill(victim.pid(), SIGKILL) == 0);
    CHECK_MESSAGE(tool.returned_within(budget + 1s), "the tool did not return within its budget + 1 s of the kill");
    // Reapable (its vfork child, which keeps the victim's stdout open, lives
    // on: look at the wait status, do not wait for the output to end).
    CHECK_MESSAGE(eventually([&] {
                      siginfo_t info{};
                      return ::waitid(P_PID, static_cast<id_t>(victim.pid()), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                             info.si_pid == victim.pid();
                  }, 2s),
                  "the parent could not reap the target within 2 s");
}
