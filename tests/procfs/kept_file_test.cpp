// procfs::kept_file: a thread's schedstat and stat kept open and read again
// are current at every read (the spinning thread's run time grows, its
// parked neighbour's does not), agree with a fresh read through proc_dir,
// and a thread that exits is no_such_process even with the file held.
#include <doctest/doctest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "procfs/busy_victim.hpp"
#include "support/failure_text.hpp"
#include "triage/procfs/kept_file.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/stat.hpp"

using triage::test_support::failure_text;

using namespace triage;

TEST_CASE("kept_file: read again, a /proc file of a thread is current; an exited thread's is no_such_process") {
    triage_test::busy_victim v;
    auto dir = procfs::proc_dir::open(v.pid());
    REQUIRE(dir);
    auto spinning = procfs::kept_file::open(*dir, v.tid("spinner"), "schedstat");
    auto parked = procfs::kept_file::open(*dir, v.tid("waiter-0"), "schedstat");
    auto stat = procfs::kept_file::open(*dir, v.tid("spinner"), "stat");
    REQUIRE(spinning);
    REQUIRE(parked);
    REQUIRE(stat);
    char buf[512];
    auto run_time = [&](const procfs::kept_file& f) {
        auto text = f.read(buf);
        REQUIRE_MESSAGE(text, failure_text(text));
        auto parsed = procfs::parse_schedstat(*text);
        REQUIRE(parsed);
        return parsed->run_time;
    };
    const auto spin0 = run_time(*spinning), park0 = run_time(*parked);
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    const auto spin1 = run_time(*spinning), park1 = run_time(*parked);
    CHECK(spin1 > spin0);
    CHECK(park1 == park0);
    auto fresh = procfs::read_schedstat(*dir, v.tid("spinner"));
    REQUIRE(fresh);
    CHECK(fresh->run_time >= spin1);
    auto text = stat->read(buf);
    REQUIRE(text);
    auto parsed = procfs::parse_stat(*text);
    REQUIRE(parsed);
    CHECK(parsed->tid == v.tid("spinner"));
    char tiny[8];
    auto truncated = stat->read(tiny);
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().code == errc::truncated);

    // One of our own threads, held open, then gone.
    auto self = procfs::proc_dir::open(::getpid());
    REQUIRE(self);
    std::atomic<pid_t> tid{0};
    std::atomic<bool> leave{false};
    std::thread t{[&] {
        tid = static_cast<pid_t>(::syscall(SYS_gettid));
        while (!leave) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }};
    while (tid == 0) std::this_thread::yield();
    auto held = procfs::kept_file::open(*self, tid, "schedstat");
    REQUIRE(held);
    CHECK(held->read(buf));
    leave = true;
    t.join();
    // join returns when the kernel clears the thread's tid, a little before
    // the task is released from /proc: read until then, bounded.
    auto gone = held->read(buf);
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
         gone && std::chrono::steady_clock::now() < deadline; gone = held->read(buf))
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == errc::no_such_process);
    CHECK(gone.error().message().find("/task/" + std::to_string(tid.load()) + "/schedstat") != std::string::npos);
}
