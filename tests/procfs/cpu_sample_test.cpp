// Per-thread CPU% from two samples, and `| hottest(n)`.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include <range/v3/range/concepts.hpp>

#include "procfs/busy_victim.hpp"
#include "procfs/cpu_oracle.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/hottest.hpp"
#include "triage/procfs/proc_dir.hpp"

using namespace triage;
using namespace std::chrono_literals;

namespace {
procfs::task_stat thread(pid_t tid, std::uint64_t utime, std::uint64_t stime, std::uint64_t starttime) {
    procfs::task_stat t;
    t.tid = tid;
    t.utime = utime;
    t.stime = stime;
    t.starttime = starttime;
    return t;
}
} // namespace

TEST_CASE("cpu_usage: deltas over the monotonic window; new, gone and reused threads") {
    procfs::cpu_sample before, after;
    before.monotonic = 1000s;
    before.boottime = 2000s;  // = 200000 ticks at 100 Hz
    after.monotonic = 1002s;  // a 2 s window
    after.boottime = 2002s;
    before.threads = {thread(10, 500, 100, 1000), thread(11, 0, 0, 1000), thread(12, 7, 0, 1000),
                      thread(13, 40, 0, 1000)};
    after.threads = {thread(10, 640, 160, 1000),    // +200 ticks = 2 s of CPU in 2 s: 100%
                     thread(11, 0, 1, 1000),        // 1 tick: 0.5%
                     thread(13, 50, 0, 150000),     // tid reused by a thread older than the window: no %
                     thread(14, 100, 0, 200050)};   // new inside the window: 100 ticks from 0 = 50%
    // 12 is gone: dropped.
    auto usage = procfs::cpu_usage(before, after, 100);
    REQUIRE(usage.size() == 4);
    CHECK(usage[0].stat.tid == 10);
    CHECK(usage[0].ticks == 200);
    CHECK(usage[0].cpu_percent.value() == doctest::Approx(100.0));
    CHECK(usage[1].cpu_percent.value() == doctest::Approx(0.5));
    CHECK(usage[2].stat.tid == 13);
    CHECK_FALSE(usage[2].cpu_percent);
    CHECK(usage[3].stat.tid == 14);
    CHECK(usage[3].cpu_percent.value() == doctest::Approx(50.0));
    CHECK(procfs::total_cpu_percent(usage) == doctest::Approx(150.5));

    auto top = usage | procfs::hottest(2);
    static_assert(std::same_as<decltype(top), std::vector<procfs::thread_cpu>>);
    REQUIRE(top.size() == 2);
    CHECK(top[0].stat.tid == 10);
    CHECK(top[1].stat.tid == 14);
    auto all = usage | procfs::hottest();
    REQUIRE(all.size() == 4);
    CHECK(all[2].stat.tid == 11);
    CHECK(all[3].stat.tid == 13);  // no percentage: last
}

TEST_CASE("a spinning thread samples as the kernel's CPU clock says; sleeping ones near 0") {
    triage_test::busy_victim victim;
    auto dir = procfs::proc_dir::open(victim.pid());
    REQUIRE(dir);
    std::vector<procfs::thread_cpu> hot;
    double oracle = 0;
    for (int attempt = 0; attempt < 3; ++attempt) {  // a shared machine can steal the spinner's core
        double cpu_before = triage_test::process_cpu_seconds(victim.pid());
        auto wall_before = std::chrono::steady_clock::now();
        auto before = procfs::sample_cpu(*dir);
        REQUIRE(before);
        std::this_thread::sleep_for(500ms);
        auto after = procfs::sample_cpu(*dir);
        REQUIRE(after);
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
        oracle = 100.0 * (triage_test::process_cpu_seconds(victim.pid()) - cpu_before) / wall;
        hot = procfs::cpu_usage(*before, *after) | procfs::hottest(3);
        REQUIRE(hot.size() == 3);
        if (hot[0].cpu_percent.value_or(0) > 50.0) break;
    }
    CAPTURE(oracle);
    CHECK(hot[0].stat.tid == victim.tid("spinner"));
    // Clock ticks (10 ms) against the scheduler's nanoseconds, over 0.5 s.
    CHECK(std::abs(hot[0].cpu_percent.value() - oracle) < 10.0);
    // The brief's bar, whenever the machine gave the spinner that much.
    if (oracle > 60.0) CHECK(hot[0].cpu_percent.value() > 50.0);
    CHECK(hot[0].cpu_percent.value() < 110.0);
    CHECK(hot[1].cpu_percent.value() < 5.0);
    CHECK(victim.process.running());
}
