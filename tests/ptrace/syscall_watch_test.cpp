// The syscall watch on a victim whose threads make known system calls: a
// thread spinning in user space is measured at 0 calls, a thread calling
// getppid() and nanosleep() is measured with those names, and never more
// often than the victim itself counted.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "ptrace/shared_victim.hpp"
#include "ptrace/syscalls_victim.hpp"
#include "triage/base/read_file.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/syscall_names.hpp"
#include "triage/ptrace/syscall_watch.hpp"

using namespace ptrace_test;
namespace tp = triage::ptrace;

namespace {

const tp::thread_syscalls* find(const tp::syscall_watch_result& r, pid_t tid) {
    for (const auto& t : r.threads)
        if (t.tid == tid) return &t;
    return nullptr;
}

std::uint64_t count_of(const tp::thread_syscalls& t, std::string_view name) {
    auto it = t.syscalls.find(name);
    return it == t.syscalls.end() ? 0 : it->second;
}
} // namespace

TEST_CASE("syscall watch: a user-space spinner makes 0 calls, a getppid loop makes getppid calls") {
    shared_victim victim{"ptrace_syscalls", sizeof(syscalls_shared)};
    auto* shared = victim.shared<syscalls_shared>();
    // "ready" is printed just before pause(): wait until the kernel shows
    // the main thread inside it (34 = pause in /proc/PID/syscall).
    REQUIRE(eventually([&] {
        auto text = triage::read_file("/proc/" + std::to_string(victim.pid()) + "/syscall");
        return text && text->starts_with("34 ");
    }));
    std::uint64_t calls_before = load(shared->getppid_calls);
    auto watched = tp::watch_syscalls(victim.pid(), std::chrono::milliseconds{300});
    std::uint64_t calls_after = load(shared->getppid_calls);
    REQUIRE_MESSAGE(watched.has_value(), watched.error().message());
    const auto& r = *watched;
    CHECK(r.pid == victim.pid());
    CHECK(r.threads.size() == 3);
    CHECK(r.window >= std::chrono::milliseconds{300});
    CHECK(r.attach_pause.count() > 0);
    CHECK(r.detach_pause.count() > 0);
    CHECK(r.stopped_for() == r.attach_pause + r.stops_in_window + r.detach_pause);

    const auto* spinner = find(r, shared->spinner_tid);
    REQUIRE(spinner != nullptr);
    CHECK(spinner->name == "spinner");
    CHECK(spinner->total == 0);
    CHECK(spinner->syscalls.empty());
    CHECK_FALSE(spinner->blocked_in.has_value());

    const auto* caller = find(r, shared->caller_tid);
    REQUIRE(caller != nullptr);
    CHECK(caller->name == "caller");
    std::uint64_t getppid = count_of(*caller, "getppid");
    CHECK(getppid > 0);
    // We cannot see more calls than the victim made around the window.
    CHECK(getppid <= calls_after - calls_before + 1);
    CHECK(count_of(*caller, "clock_nanosleep") > 0);
    CHECK(caller->by_number.at(*triage::procfs::syscall_number("getppid")) == getppid);
    std::uint64_t sum = 0;
    for (const auto& [name, n] : caller->syscalls) sum += n;
    CHECK(sum == caller->total);

    // The main thread sits in pause(): its restart after our interrupt is
    // reported as where it was blocked, not as a call.
    const auto* main_thread = find(r, shared->main_tid);
    REQUIRE(main_thread != nullptr);
    CHECK(main_thread->total == 0);
    REQUIRE(main_thread->blocked_in.has_value());
    CHECK(triage::procfs::syscall_name(*main_thread->blocked_in) == "pause");
    CHECK(r.total() == caller->total);

    check_runs_on(victim, shared->spins);
    check_runs_on(victim, shared->getppid_calls);
}

TEST_CASE("syscall watch: a signal sent during the window is delivered, not swallowed") {
    shared_victim victim{"ptrace_syscalls", sizeof(syscalls_shared)};
    auto* shared = victim.shared<syscalls_shared>();
    // SIGSTOP during the window: the victim ends up stopped, as it would
    // have without us; SIGCONT lets it run on.
    pid_t sender = ::fork();
    if (sender == 0) {
        ::usleep(100 * 1000);
        ::kill(victim.pid(), SIGSTOP);
        ::_exit(0);
    }
    auto watched = tp::watch_syscalls(victim.pid(), std::chrono::milliseconds{300});
    int status = 0;
    ::waitpid(sender, &status, 0);
    REQUIRE_MESSAGE(watched.has_value(), watched.error().message());
    CHECK(eventually([&] {
        auto st = triage::procfs::read_status(victim.pid());
        return st && st->state == 'T';
    }));
    std::uint64_t frozen = load(shared->spins);
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    CHECK(load(shared->spins) == frozen);
    REQUIRE(::kill(victim.pid(), SIGCONT) == 0);
    check_runs_on(victim, shared->spins);
}
