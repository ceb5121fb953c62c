// processes() and tasks(pid): lazy ranges that skip what vanished.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>

#include <range/v3/range/concepts.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/transform.hpp>

#include "procfs/busy_victim.hpp"
#include "support/child_process.hpp"
#include "triage/procfs/processes.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/procfs/tasks.hpp"

using namespace triage;

static_assert(ranges::input_range<procfs::stat_view>);
static_assert(ranges::view_<procfs::stat_view>);
static_assert(!ranges::forward_range<procfs::stat_view>);  // each read is a syscall: single pass
static_assert(std::same_as<ranges::range_value_t<procfs::stat_view>, procfs::task_stat>);

TEST_CASE("tasks(pid) yields every thread of a victim, names intact, and composes with views") {
    triage_test::busy_victim victim;
    auto threads = procfs::tasks(victim.pid());
    REQUIRE(threads);
    CHECK(threads->listed() == 10);
    std::set<std::string> names;
    for (const procfs::task_stat& t : *threads) names.insert(std::string{t.comm.view()});
    CHECK(names == std::set<std::string>{"procfs_busy", "spinner", "waiter-0", "waiter-1", "waiter-2", "locked-0",
                                         "locked-1", "sleeper-0", "sleeper-1", "a) b (c"});
    CHECK(threads->vanished() == 0);
    CHECK(threads->failed() == 0);

    auto again = procfs::tasks(victim.pid());
    REQUIRE(again);
    auto sleeping = *again | ranges::views::filter([](const procfs::task_stat& t) { return t.state == 'S'; }) |
                    ranges::views::transform([](const procfs::task_stat& t) { return t.tid; });
    std::set<pid_t> sleeping_tids;
    for (pid_t tid : sleeping) sleeping_tids.insert(tid);
    CHECK(sleeping_tids.count(victim.tid("waiter-2")) == 1);
    CHECK(sleeping_tids.count(victim.tid("a) b (c")) == 1);
    CHECK(victim.process.running());
}

TEST_CASE("processes() holds us, init and kernel threads") {
    auto all = procfs::processes();
    REQUIRE(all);
    bool self = false, init = false, kthreadd = false;
    std::size_t count = 0;
    for (const auto& p : *all) {
        ++count;
        self |= p.tid == ::getpid();
        init |= p.tid == 1 && !p.kernel_thread();
        kthreadd |= p.tid == 2 && p.kernel_thread() && p.comm == "kthreadd";
    }
    CHECK(self);
    CHECK(init);
    CHECK(kthreadd);
    CHECK(count + all->vanished() == all->listed());
    CHECK(all->failed() == 0);
}

TEST_CASE("tasks of a process whose threads come and go: skipped, never an error") {
    test_support::child_process churn{{test_support::victim_path("procfs_churn")}};
    REQUIRE(churn.read_line() == "ready");
    std::size_t yielded = 0, vanished = 0, listed = 0;
    for (int sweep = 0; sweep < 300; ++sweep) {
        auto threads = procfs::tasks(churn.pid());
        REQUIRE(threads);
        for (const auto& t : *threads) {
            REQUIRE(t.tid > 0);
            ++yielded;
        }
        CHECK(threads->failed() == 0);
        if (threads->first_error()) FAIL(threads->first_error()->message());
        vanished += threads->vanished();
        listed += threads->listed();
    }
    CHECK(yielded + vanished == listed);
    CHECK(yielded >= 300);  // the main thread at least, every time
    MESSAGE("300 sweeps: " << listed << " listed, " << yielded << " read, " << vanished << " exited in between");
    // Alive and not stopped (its main thread may be in the kernel starting threads).
    CHECK(churn.alive());
    CHECK_FALSE(churn.is_stopped());
}

TEST_CASE("10,000 threads: every one is read, in a sane time") {
    test_support::child_process many{{test_support::victim_path("procfs_many"), "10000"}};
    REQUIRE(many.read_line(std::chrono::seconds{60}) == "ready 10000");
    auto start = std::chrono::steady_clock::now();
    auto threads = procfs::tasks(many.pid());
    REQUIRE(threads);
    std::size_t count = 0, sleeping = 0;
    for (const auto& t : *threads) {
        ++count;
        sleeping += t.state == 'S';
    }
    auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    CHECK(count == 10001);
    CHECK(sleeping == 10001);
    auto ids = procfs::task_ids(many.pid());
    REQUIRE(ids);
    CHECK(ids->size() == 10001);
    MESSAGE("swept 10,001 threads in " << elapsed.count() << " ms");
    CHECK(many.running());
}
