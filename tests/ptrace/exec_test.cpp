// A thread that execs while we attach: the exec kills every other thread and
// waits in the kernel until they are reaped, and the exec'ing thread takes
// the leader's tid. Holding dead tracees unreaped while waiting for the
// exec'ing thread to stop deadlocks both. 300 attach/release cycles against
// a victim whose non-main thread re-executes the program every few ms.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "ptrace/shared_victim.hpp"
#include "support/child_process.hpp"
#include "triage/ptrace/session.hpp"

using namespace ptrace_test;
namespace tp = triage::ptrace;
using namespace std::chrono_literals;

namespace {
// Mirrors tests/victims/ptrace_exec.c.
struct exec_shared {
    std::uint64_t execs;
    std::uint64_t progress;
};

// SIGKILLs `pid` if `disarm()` does not come within `limit`: a deadlock in
// the kernel then ends, and the test fails instead of hanging.
class watchdog {
public:
    watchdog(pid_t pid, std::chrono::seconds limit)
        : thread_{[this, pid, limit] {
              std::unique_lock lock{mutex_};
              if (!done_.wait_for(lock, limit, [this] { return disarmed_; })) {
                  fired_ = true;
                  ::kill(pid, SIGKILL);
              }
          }} {}
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog() { disarm(); }

    // Returns whether it fired.
    bool disarm() {
        {
            std::lock_guard lock{mutex_};
            disarmed_ = true;
        }
        done_.notify_all();
        if (thread_.joinable()) thread_.join();
        return fired_;
    }

private:
    std::mutex mutex_;
    std::condition_variable done_;
    bool disarmed_ = false;
    std::atomic<bool> fired_{false};
    std::thread thread_;
};
} // namespace

TEST_CASE("300 attach/release cycles on a victim whose non-main thread keeps exec'ing itself") {
    shared_victim victim{"ptrace_exec", sizeof(exec_shared)};
    auto* shared = victim.shared<exec_shared>();
    const std::uint64_t execs_before = load(shared->execs);
    const auto budget = 2s;
    auto longest = std::chrono::steady_clock::duration::zero();
    int failed = 0;
    watchdog guard{victim.pid(), 30s};
    for (int cycle = 0; cycle < 300; ++cycle) {
        const auto started = std::chrono::steady_clock::now();
        auto s = tp::session::attach(victim.pid(), {.stop_timeout = budget});
        if (s) {
            CHECK(std::binary_search(s->threads().begin(), s->threads().end(), victim.pid()));
            CHECK(s->release().has_value());
        } else {
            ++failed;
            MESSAGE("cycle " << cycle << ": " << s.error().message());
        }
        const auto took = std::chrono::steady_clock::now() - started;
        longest = std::max(longest, took);
        CHECK_MESSAGE(took < budget + 1s, "cycle " << cycle << " took "
                                                   << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
        REQUIRE_MESSAGE(triage::test_support::process_state(victim.pid()) != '?', "the victim died at cycle " << cycle);
        std::this_thread::sleep_for(std::chrono::microseconds{500 + 100 * (cycle % 10)});  // let it run, and exec
    }
    CHECK_FALSE(guard.disarm());
    MESSAGE("execs during the cycles: " << load(shared->execs) - execs_before << ", longest cycle: "
                                        << std::chrono::duration_cast<std::chrono::microseconds>(longest).count() << " us");
    CHECK(failed == 0);
    CHECK(load(shared->execs) > execs_before);
    check_runs_on(victim, shared->progress);
    const std::uint64_t execs = load(shared->execs);
    CHECK(eventually([&] { return load(shared->execs) > execs; }));
}
