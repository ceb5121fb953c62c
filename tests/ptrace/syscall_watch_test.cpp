// The syscall watch on a victim whose threads make known system calls: a
// thread spinning in user space is measured at 0 calls, a thread calling
// getppid() and nanosleep() is measured with those names, and never more
// often than the victim itself counted. The watch also runs on a session
// the caller holds: one session, a window, then registers from the same
// session; threads born in the window join it.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "ptrace/churn_victim.hpp"
#include "ptrace/shared_victim.hpp"
#include "ptrace/syscalls_victim.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "triage/base/read_file.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/syscall_names.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/ptrace/syscall_watch.hpp"

using triage::test_support::failure_text;

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
    REQUIRE_MESSAGE(watched.has_value(), failure_text(watched));
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
    REQUIRE_MESSAGE(watched.has_value(), failure_text(watched));
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

TEST_CASE("syscall watch on a held session: the window, then registers of every thread from the same session") {
    shared_victim victim{"ptrace_syscalls", sizeof(syscalls_shared)};
    auto* shared = victim.shared<syscalls_shared>();
    const auto began = std::chrono::steady_clock::now();
    auto s = tp::session::attach(victim.pid());
    REQUIRE_MESSAGE(s.has_value(), failure_text(s));
    CHECK(s->stops() == 1);
    const std::vector<pid_t> held_before = s->threads();
    REQUIRE(held_before.size() == 3);

    auto watched = tp::watch_syscalls(*s, std::chrono::milliseconds{300});
    REQUIRE_MESSAGE(watched.has_value(), failure_text(watched));
    const auto* caller = find(*watched, shared->caller_tid);
    REQUIRE(caller != nullptr);
    CHECK(count_of(*caller, "getppid") > 0);
    const auto* spinner = find(*watched, shared->spinner_tid);
    REQUIRE(spinner != nullptr);
    CHECK(spinner->total == 0);

    // Stopped again and still held: one more stop, the same threads, and
    // the time it ran in the window is not counted as stopped.
    CHECK(s->held());
    CHECK(s->stops() == 2);
    CHECK(s->threads() == held_before);
    for (char state : triage::test_support::thread_states(victim.pid())) CHECK(state == 't');
    const std::uint64_t frozen = load(shared->spins);
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    CHECK(load(shared->spins) == frozen);
    CHECK(std::chrono::steady_clock::now() - began - s->stopped_for() >= watched->window);
    CHECK(watched->window >= std::chrono::milliseconds{300});
    for (pid_t tid : s->threads()) {
        auto regs = s->registers(tid);
        CHECK_MESSAGE(regs.has_value(), failure_text(regs));
    }
    auto spinner_regs = s->registers(shared->spinner_tid);
    REQUIRE(spinner_regs.has_value());
    CHECK(spinner_regs->instruction_pointer() != 0);

    REQUIRE(s->release().has_value());
    CHECK(s->stops() == 2);
    auto after = tp::watch_syscalls(*s, std::chrono::milliseconds{10});
    REQUIRE_FALSE(after.has_value());
    CHECK(after.error().code == triage::errc::invalid_argument);
    check_runs_on(victim, shared->spins);
    check_runs_on(victim, shared->getppid_calls);
}

TEST_CASE("syscall watch on a held session: threads born in the window join the session, stopped") {
    shared_victim victim{"ptrace_churn", sizeof(churn_shared)};
    auto* shared = victim.shared<churn_shared>();
    auto s = tp::session::attach(victim.pid());
    REQUIRE_MESSAGE(s.has_value(), failure_text(s));
    auto watched = tp::watch_syscalls(*s, std::chrono::milliseconds{100});
    REQUIRE_MESSAGE(watched.has_value(), failure_text(watched));
    std::size_t started = 0;
    for (const auto& t : watched->threads) started += t.started ? 1 : 0;
    CHECK(started > 0);
    // Every live thread of the victim is one the session holds, stopped.
    auto listed = triage::procfs::task_ids(victim.pid());
    REQUIRE(listed.has_value());
    for (pid_t tid : *listed) {
        const char state = triage::test_support::thread_state(victim.pid(), tid);
        if (state == 'Z' || state == 'X' || state == '?') continue;
        CHECK_MESSAGE(std::binary_search(s->threads().begin(), s->threads().end(), tid), "thread " << tid << " is not held");
        CHECK_MESSAGE(state == 't', "thread " << tid << " is in state " << state);
    }
    for (pid_t tid : s->threads()) CHECK(s->registers(tid).has_value());
    REQUIRE(s->release().has_value());
    check_runs_on(victim, shared->batches);
    const std::uint64_t sent = load(shared->sent);
    CHECK(eventually([&] { return load(shared->received) >= sent; }));
}
