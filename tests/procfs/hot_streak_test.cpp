// The sustained-CPU trigger (procfs/hot_streak.hpp) on a victim that turns
// hot after a delay (tests/victims/procfs_turns_hot.c): it fires on the
// thread that turned hot, only after it stayed hot for the whole window
// (checked against the thread's own schedstat run time, not a clock), never
// on a thread at a tenth of a core, and ends on a timeout, a stop request or
// a thread that is not there. Thresholds stay low (30%): CI runs these tests
// beside a build, and a spinning thread may get well under a whole core.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "support/failure_text.hpp"
#include "support/victim.hpp"
#include "triage/procfs/hot_streak.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/task_ids.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace std::chrono_literals;

namespace {

struct turning_victim {
    test_support::victim process;
    pid_t late = 0, light = 0, parked = 0;
    explicit turning_victim(int delay_ms)
        : process{{test_support::victim_path("procfs_turns_hot"), std::to_string(delay_ms)}} {
        late = static_cast<pid_t>(process.number("late"));
        light = static_cast<pid_t>(process.number("light"));
        parked = static_cast<pid_t>(process.number("parked"));
    }
};

std::chrono::nanoseconds run_time_of(pid_t pid, pid_t tid) {
    auto s = procfs::read_schedstat(pid, tid);
    REQUIRE_MESSAGE(s, failure_text(s));
    return s->run_time;
}

} // namespace

TEST_CASE("wait_until_hot fires on the thread that turned hot, once it stayed hot for the whole window") {
    turning_victim v{600};
    auto dir = procfs::proc_dir::open(v.process.pid());
    REQUIRE(dir);
    const auto late_before = run_time_of(v.process.pid(), v.late);
    procfs::hot_streak_options o;
    o.cpu_percent = 30;  // `light` spins ~10% of the time
    o.samples = 4;
    o.interval = 150ms;
    o.timeout = 60s;
    auto hot = procfs::wait_until_hot(*dir, o);
    REQUIRE_MESSAGE(hot, failure_text(hot));
    CHECK(hot->tid == v.late);  // never `light`, at ~10%; the lifetime average of neither matters
    REQUIRE(hot->cpu_percent.size() == 4);
    for (double p : hot->cpu_percent) CHECK(p >= 30);
    // Its own run time since the wait began covers the window: four
    // intervals at 30% or more, less one scheduler tick per reading.
    CHECK(run_time_of(v.process.pid(), v.late) - late_before >= 4 * 150ms * 30 / 100 - 10ms);
    CHECK(std::ranges::any_of(hot->last, [&](const auto& t) { return t.stat.tid == v.light; }));
    CHECK(v.process.running());
}

TEST_CASE("wait_until_hot: one named thread, the whole process, a timeout, a stop request") {
    turning_victim v{0};
    auto dir = procfs::proc_dir::open(v.process.pid());
    REQUIRE(dir);
    procfs::hot_streak_options o;
    o.samples = 3;
    o.interval = 100ms;
    o.timeout = 2s;

    SUBCASE("a thread at a tenth of a core never reaches 50%, and the timeout says so") {
        o.cpu_percent = 50;
        o.thread = v.light;
        auto hot = procfs::wait_until_hot(*dir, o);
        REQUIRE_FALSE(hot);
        CHECK(hot.error().code == errc::interrupted);
        CHECK(hot.error().message().find("thread " + std::to_string(v.light) +
                                         " did not stay at 50% CPU or more for 3 intervals of 100 ms within 2000 ms") !=
              std::string::npos);
    }
    SUBCASE("the spinning thread, named, reaches 20%") {
        o.cpu_percent = 20;
        o.thread = v.late;
        o.timeout = 30s;
        auto hot = procfs::wait_until_hot(*dir, o);
        REQUIRE_MESSAGE(hot, failure_text(hot));
        CHECK(hot->tid == v.late);
        for (double p : hot->cpu_percent) CHECK(p >= 20);
    }
    SUBCASE("the whole process: the sum of its threads") {
        o.scope = procfs::hot_scope::whole_process;
        o.timeout = 30s;
        o.cpu_percent = 25;  // one thread spinning, one at a tenth of a core
        auto hot = procfs::wait_until_hot(*dir, o);
        REQUIRE_MESSAGE(hot, failure_text(hot));
        for (double p : hot->cpu_percent) CHECK(p >= 25);
        CHECK(std::ranges::any_of(hot->last, [&](const auto& t) { return t.stat.tid == hot->tid; }));
        o.cpu_percent = 400;  // more than its two busy threads can use
        o.timeout = 2s;
        hot = procfs::wait_until_hot(*dir, o);
        REQUIRE_FALSE(hot);
        CHECK(hot.error().message().find("the process did not stay at 400% CPU") != std::string::npos);
    }
    SUBCASE("a stop request ends the wait after the interval it comes in") {
        o.cpu_percent = 100'000;
        o.timeout.reset();
        std::atomic<bool> stop{false};
        o.stop_requested = [&] { return stop.load(); };
        std::thread stopper{[&] {
            std::this_thread::sleep_for(300ms);
            stop = true;
        }};
        auto hot = procfs::wait_until_hot(*dir, o);
        stopper.join();
        REQUIRE_FALSE(hot);
        CHECK(hot.error().code == errc::interrupted);
        CHECK(hot.error().message().find("interrupted while waiting until") != std::string::npos);
    }
    SUBCASE("a thread that is not the process's is refused at once") {
        o.thread = 1;  // init's, never the victim's
        auto hot = procfs::wait_until_hot(*dir, o);
        REQUIRE_FALSE(hot);
        CHECK(hot.error().code == errc::not_found);
    }
    CHECK(v.process.running());
}
