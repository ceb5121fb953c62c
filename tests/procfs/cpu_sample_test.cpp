// Per-thread CPU% from two samples (schedstat nanoseconds, one timestamp
// per thread), and `| hottest(n)`.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <optional>
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
procfs::thread_sample thread(pid_t tid, std::chrono::nanoseconds run, std::chrono::nanoseconds at,
                             std::uint64_t starttime = 1000) {
    procfs::thread_sample t;
    t.stat.tid = tid;
    t.stat.starttime = starttime;
    t.run_time = run;
    t.at = at;
    return t;
}

const procfs::thread_cpu& row(const std::vector<procfs::thread_cpu>& usage, pid_t tid) {
    auto it = std::ranges::find_if(usage, [&](const procfs::thread_cpu& t) { return t.stat.tid == tid; });
    REQUIRE(it != usage.end());
    return *it;
}
} // namespace

TEST_CASE("cpu_usage: each thread over its own timestamps; clamped; new, gone and reused threads") {
    procfs::cpu_sample before, after;
    before.started = 1000s;
    before.boot_offset = after.boot_offset = 1000s;  // boot clock = monotonic + 1000 s; 100 ticks a second
    after.started = 1000s + 200ms;
    before.threads = {thread(10, 1s, 1000s), thread(11, 0s, 1000s + 1ms), thread(12, 7s, 1000s + 2ms),
                      thread(13, 40s, 1000s + 3ms), thread(15, 0s, 1000s + 10ms)};
    after.threads = {thread(10, 1200ms, 1000s + 200ms),   // 200 ms on a CPU in 200 ms: 100%
                     thread(11, 250ms, 1000s + 201ms),    // 250 ms in 200 ms: one tick of lag, clamped
                     thread(13, 41s, 1000s + 203ms, 150000),  // tid reused by a thread older than the window
                     thread(14, 50ms, 1000s + 200ms, 200010),  // started 100 ms into the window
                     thread(15, 50ms, 1000s + 110ms)};    // read early in the sweep: its own 100 ms
    // 12 is gone: dropped.
    auto usage = procfs::cpu_usage(before, after, 100);
    REQUIRE(usage.size() == 5);
    CHECK(row(usage, 10).cpu_percent.value() == doctest::Approx(100.0));
    CHECK(row(usage, 11).cpu_percent.value() == 100.0);
    CHECK(row(usage, 11).run_time == 250ms);
    CHECK(row(usage, 11).interval == 200ms);
    CHECK_FALSE(row(usage, 13).cpu_percent);
    CHECK(row(usage, 14).interval == 100ms);
    CHECK(row(usage, 14).cpu_percent.value() == doctest::Approx(50.0));
    CHECK(row(usage, 15).cpu_percent.value() == doctest::Approx(50.0));  // a sweep-wide window would say 25%
    CHECK(procfs::total_cpu_percent(usage) == doctest::Approx(300.0));

    auto top = usage | procfs::hottest(2);
    static_assert(std::same_as<decltype(top), std::vector<procfs::thread_cpu>>);
    REQUIRE(top.size() == 2);
    CHECK(top[0].stat.tid == 10);  // ties by tid
    CHECK(top[1].stat.tid == 11);
    auto all = usage | procfs::hottest();
    REQUIRE(all.size() == 5);
    CHECK(all[2].stat.tid == 14);
    CHECK(all[3].stat.tid == 15);
    CHECK(all[4].stat.tid == 13);  // no percentage: last
}

TEST_CASE("hottest orders records by an optional tid too, unknown tids last") {
    struct record {
        std::optional<pid_t> tid;
        std::optional<double> cpu_percent;
    };
    std::vector<record> records{{std::nullopt, 5.0}, {7, 5.0}, {3, std::nullopt}, {9, 80.0}, {2, 5.0}};
    auto sorted = std::move(records) | procfs::hottest();
    REQUIRE(sorted.size() == 5);
    CHECK(sorted[0].tid == 9);
    CHECK(sorted[1].tid == 2);
    CHECK(sorted[2].tid == 7);
    CHECK_FALSE(sorted[3].tid);
    CHECK(sorted[4].tid == 3);
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
        procfs::wait_for_window(*before, 500ms);
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
    // Nanoseconds against nanoseconds over 0.5 s: the tick lag is ≤ 1%.
    CHECK(std::abs(hot[0].cpu_percent.value() - std::min(oracle, 100.0)) < 5.0);
    if (oracle > 95.0) CHECK(hot[0].cpu_percent.value() >= 90.0);
    CHECK(hot[0].cpu_percent.value() <= 100.0);
    CHECK(hot[1].cpu_percent.value() < 1.0);
    CHECK(victim.process.running());
}

TEST_CASE("no thread is ever above 100%, over 100 windows of 10 ms and 10 of 200 ms") {
    // One core, one thread: a 10 ms window with one sweep-wide timestamp,
    // or with clock ticks, read 115% and more (issue 8.10).
    triage_test::busy_victim victim;
    auto dir = procfs::proc_dir::open(victim.pid());
    REQUIRE(dir);
    double highest = 0;
    auto sample = [&](std::chrono::milliseconds window) {
        auto before = procfs::sample_cpu(*dir);
        REQUIRE(before);
        procfs::wait_for_window(*before, window);
        auto after = procfs::sample_cpu(*dir);
        REQUIRE(after);
        auto usage = procfs::cpu_usage(*before, *after);
        for (const auto& t : usage) {
            CAPTURE(t.stat.tid);
            REQUIRE(t.cpu_percent);
            CHECK(*t.cpu_percent >= 0.0);
            CHECK(*t.cpu_percent <= 100.0);
            // The raw numbers: at most a tick (≤ 10 ms) of lag on either end.
            CHECK(t.run_time <= t.interval + 20ms);
            highest = std::max(highest, *t.cpu_percent);
        }
        return usage;
    };
    for (int k = 0; k < 100; ++k) sample(10ms);
    for (int k = 0; k < 10; ++k) {
        double cpu_before = triage_test::process_cpu_seconds(victim.pid());
        auto wall_before = std::chrono::steady_clock::now();
        auto usage = sample(200ms);
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
        double oracle = 100.0 * (triage_test::process_cpu_seconds(victim.pid()) - cpu_before) / wall;
        CAPTURE(oracle);
        // When the machine gave the spinner a whole core, we say 90–100%.
        if (oracle > 97.0) CHECK(row(usage, victim.tid("spinner")).cpu_percent.value() >= 90.0);
    }
    MESSAGE("highest reading: " << highest << "%");
    CHECK(victim.process.running());
}

TEST_CASE("a thread started inside the window is measured from its start; one that ended is dropped") {
    auto dir = procfs::proc_dir::open(::getpid());
    REQUIRE(dir);
    std::atomic<bool> stop{false};
    std::atomic<pid_t> ended_tid{0}, born_tid{0};
    std::thread ended([&] { ended_tid = ::gettid(); while (!stop) std::this_thread::sleep_for(1ms); });
    while (ended_tid == 0) std::this_thread::sleep_for(1ms);
    auto before = procfs::sample_cpu(*dir);
    REQUIRE(before);
    stop = true;
    ended.join();
    std::this_thread::sleep_for(20ms);  // past the tick its start is rounded down to
    std::thread born([&] {
        born_tid = ::gettid();
        auto until = std::chrono::steady_clock::now() + 100ms;
        while (std::chrono::steady_clock::now() < until) {
        }
    });
    while (born_tid == 0) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    auto after = procfs::sample_cpu(*dir);
    REQUIRE(after);
    born.join();
    auto usage = procfs::cpu_usage(*before, *after);
    CHECK(std::ranges::none_of(usage, [&](const procfs::thread_cpu& t) { return t.stat.tid == ended_tid; }));
    const auto& fresh = row(usage, born_tid);
    REQUIRE(fresh.cpu_percent);
    CHECK(*fresh.cpu_percent <= 100.0);
    // From its start (rounded down to a 10 ms tick), not from the window's.
    const auto window = after->threads.back().at - before->started;
    CHECK(fresh.interval <= window + 10ms);
    CHECK(fresh.interval < window);
}

TEST_CASE("sample_threads reads the named threads by id, as sample_cpu does; gone ones count as vanished") {
    triage_test::busy_victim victim;
    auto dir = procfs::proc_dir::open(victim.pid());
    REQUIRE(dir);
    const pid_t spinner = victim.tid("spinner"), waiter = victim.tid("waiter-0");
    const pid_t not_a_thread = 0x3FFFFFFF;  // above pid_max: never a thread
    const std::vector<pid_t> wanted{spinner, not_a_thread, waiter};
    auto before = procfs::sample_cpu(*dir);
    REQUIRE(before);
    procfs::wait_for_window(*before, 200ms);
    auto some = procfs::sample_threads(*dir, wanted);
    REQUIRE(some);
    CHECK(some->pid == victim.pid());
    CHECK(some->vanished == 1);
    REQUIRE(some->threads.size() == 2);
    CHECK(some->threads[0].stat.tid == std::min(spinner, waiter));  // sorted by tid, like sample_cpu
    CHECK(some->threads[1].stat.tid == std::max(spinner, waiter));
    for (const auto& t : procfs::cpu_usage(*before, *some)) {
        REQUIRE(t.cpu_percent);
        if (t.stat.tid == spinner) CHECK(*t.cpu_percent > 20.0);  // it spins; a shared core may steal some
        else CHECK(*t.cpu_percent < 5.0);
        CHECK(t.stat.comm.view() == (t.stat.tid == spinner ? "spinner" : "waiter-0"));
    }
    const std::vector<pid_t> none{not_a_thread};
    auto empty = procfs::sample_threads(*dir, none);
    REQUIRE(empty);
    CHECK(empty->threads.empty());
    CHECK(empty->vanished == 1);
}
