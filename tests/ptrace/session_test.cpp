// ptrace::session against real victims: every thread stopped and let go,
// registers checked against what the victim records about itself and
// against nm, signals delivered after release, 200 attach/release cycles on
// a victim whose threads churn, a second tracer, no permission, group-stop.
#include <doctest/doctest.h>

#include <signal.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "ptrace/churn_victim.hpp"
#include "ptrace/parked_victim.hpp"
#include "ptrace/shared_victim.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/ptrace/session.hpp"

using triage::test_support::failure_text;

using namespace ptrace_test;
using triage::test_support::any_thread_stopped;
using triage::test_support::thread_states;
namespace tp = triage::ptrace;

namespace {

struct symbol_range {
    std::uint64_t start = 0;  // link-time address
    std::uint64_t size = 0;
};

// The symbol's address and size from `nm -S` (an oracle we did not write).
symbol_range nm_symbol(const std::string& file, const std::string& name) {
    std::string out = triage::test_support::command_output({"nm", "-S", "--defined-only", file});
    std::size_t at = 0;
    while (at < out.size()) {
        std::size_t nl = out.find('\n', at);
        std::string line = out.substr(at, nl - at);
        at = nl == std::string::npos ? out.size() : nl + 1;
        char sym[256] = {};
        unsigned long long addr = 0, size = 0;
        char type = 0;
        if (std::sscanf(line.c_str(), "%llx %llx %c %255s", &addr, &size, &type, sym) == 4 && name == sym)
            return {addr, size};
    }
    FAIL("nm found no " << name << " in " << file);
    return {};
}

// The lowest PT_LOAD virtual address, from `readelf -lW`.
std::uint64_t first_load_vaddr(const std::string& file) {
    std::string out = triage::test_support::command_output({"readelf", "-lW", file});
    std::size_t at = out.find("\n  LOAD");
    REQUIRE(at != std::string::npos);
    unsigned long long offset = 0, vaddr = 0;
    REQUIRE(std::sscanf(out.c_str() + at, "\n  LOAD %llx %llx", &offset, &vaddr) == 2);
    return vaddr;
}

} // namespace

TEST_CASE("a session stops every thread and release lets them all run on") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    {
        auto s = tp::session::attach(victim.pid());
        REQUIRE_MESSAGE(s.has_value(), failure_text(s));
        CHECK(s->pid() == victim.pid());
        CHECK(s->held());
        CHECK(s->stops() == 1);
        // The session's own tracer thread holds every thread.
        CHECK(s->tracer_tid() != 0);
        for (pid_t tid : s->threads()) CHECK(triage::test_support::tracer_pid(tid) == s->tracer_tid());
        auto listed = triage::procfs::task_ids(victim.pid());
        REQUIRE(listed.has_value());
        CHECK(s->threads() == *listed);
        CHECK(s->threads().size() == 3);
        for (char state : thread_states(victim.pid())) CHECK(state == 't');
        // Stopped means stopped: the spinner's counter does not move.
        std::uint64_t frozen = load(shared->progress);
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        CHECK(load(shared->progress) == frozen);
        auto held_for = s->stopped_for();
        CHECK(held_for.count() > 0);
        REQUIRE(s->release().has_value());
        CHECK_FALSE(s->held());
        CHECK(s->threads().empty());
        auto released_after = s->stopped_for();
        CHECK(released_after >= held_for);
        CHECK(s->release().has_value());  // idempotent
        CHECK(s->stopped_for() == released_after);
        CHECK(s->stops() == 1);
        CHECK_FALSE(s->registers(victim.pid()).has_value());
    }
    check_runs_on(victim, shared->progress);
}

TEST_CASE("registers read through a session match what the victim records about itself") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    const std::string exe = triage::test_support::victim_path("ptrace_parked");
    symbol_range parked = nm_symbol(exe, "parked_in_known_function");
    REQUIRE(parked.size > 0);

    // Load bias: the executable's mapping at file offset 0, minus its first
    // PT_LOAD address.
    auto maps = triage::procfs::read_maps(victim.pid());
    REQUIRE(maps.has_value());
    char resolved[PATH_MAX] = {};
    REQUIRE(::realpath(exe.c_str(), resolved) != nullptr);
    std::uint64_t bias = 0;
    bool found = false;
    for (const auto& m : *maps) {
        if (m.path == resolved && m.offset == 0) {
            bias = m.start - (first_load_vaddr(exe) & ~std::uint64_t{0xfff});
            found = true;
            break;
        }
    }
    REQUIRE(found);
    const std::uint64_t function_start = parked.start + bias;
    CHECK(function_start == shared->parked_function);  // nm + maps agree with the victim

    {
        auto s = tp::session::attach(victim.pid());
        REQUIRE_MESSAGE(s.has_value(), failure_text(s));
        for (pid_t tid : s->threads()) {
            auto regs = s->registers(tid);
            REQUIRE_MESSAGE(regs.has_value(), failure_text(regs));
            CHECK(regs->tid == tid);
            // Every stack pointer lies in the stack the thread reported
            // (pthread_getattr_np) and in a writable mapping.
            bool recorded = false;
            for (const auto& t : shared->threads) {
                if (t.tid != tid) continue;
                recorded = true;
                CHECK(regs->stack_pointer() >= t.stack_lo);
                CHECK(regs->stack_pointer() < t.stack_hi);
            }
            CHECK(recorded);
            bool in_writable = false;
            for (const auto& m : *maps)
                if (regs->stack_pointer() >= m.start && regs->stack_pointer() < m.end && m.writable) in_writable = true;
            CHECK(in_writable);
            // The XSAVE image starts with the FXSAVE image the FP request gave.
            REQUIRE(regs->xstate.size() >= 576);
            std::uint32_t xstate_mxcsr = 0;
            std::memcpy(&xstate_mxcsr, regs->xstate.data() + 24, sizeof xstate_mxcsr);
            CHECK(xstate_mxcsr == regs->fp.mxcsr);
        }
        auto spinner = s->registers(shared->spinner_tid);
        REQUIRE_MESSAGE(spinner.has_value(), failure_text(spinner));
        CHECK(spinner->instruction_pointer() >= function_start);
        CHECK(spinner->instruction_pointer() < function_start + parked.size);
        CHECK(spinner->frame_pointer() == shared->parked_frame);
        CHECK(spinner->fp.mxcsr == shared->spinner_mxcsr);
        CHECK(spinner->fp.mxcsr == 0x9fc0);
        auto sleeper = s->registers(shared->sleeper_tid);
        REQUIRE(sleeper.has_value());
        CHECK(sleeper->fp.mxcsr == 0x1f80);  // the default: MXCSR is per thread
        CHECK_FALSE(s->registers(999999).has_value());
    }
    check_runs_on(victim, shared->progress);
}

TEST_CASE("signals sent while the target is stopped are delivered after release") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    {
        auto s = tp::session::attach(victim.pid());
        REQUIRE_MESSAGE(s.has_value(), failure_text(s));
        REQUIRE(::kill(victim.pid(), SIGUSR1) == 0);
        for (int i = 0; i < 3; ++i) {
            sigval value{};
            REQUIRE(::sigqueue(victim.pid(), SIGRTMIN + 1, value) == 0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        CHECK(load(shared->usr1_calls) == 0);  // nobody runs a handler while stopped
        CHECK(load(shared->rt_calls) == 0);
    }
    CHECK(eventually([&] { return load(shared->usr1_calls) == 1 && load(shared->rt_calls) == 3; }));
    CHECK(load(shared->usr1_calls) == 1);
    CHECK(load(shared->rt_calls) == 3);
    check_runs_on(victim, shared->progress);
}

TEST_CASE("200 attach/release cycles on a victim whose threads start and exit all the time") {
    shared_victim victim{"ptrace_churn", sizeof(churn_shared)};
    auto* shared = victim.shared<churn_shared>();
    int complete_sets = 0;
    int exiting_seen = 0;
    std::uint64_t batches_before = load(shared->batches);
    for (int cycle = 0; cycle < 200; ++cycle) {
        auto s = tp::session::attach(victim.pid());
        REQUIRE_MESSAGE(s.has_value(), "cycle " << cycle << ": " << failure_text(s));
        REQUIRE(!s->threads().empty());
        CHECK(std::binary_search(s->threads().begin(), s->threads().end(), victim.pid()));
        // With every thread stopped, nothing can start or exit: the kernel's
        // list is exactly what we hold.
        auto listed = triage::procfs::task_ids(victim.pid());
        REQUIRE(listed.has_value());
        // A listed thread we do not hold may only be one that already exited
        // (a zombie the kernel is removing); a live one would be a miss.
        bool complete = true;
        for (pid_t tid : *listed) {
            if (std::binary_search(s->threads().begin(), s->threads().end(), tid)) continue;
            auto st = triage::procfs::read_status(victim.pid(), tid);
            bool exiting = !st || st->state == 'Z' || st->state == 'X';
            if (exiting) ++exiting_seen;
            else complete = false;
            CHECK_MESSAGE(exiting, "thread " << tid << " in state " << (st ? st->state : '?') << " was not held");
        }
        for (pid_t tid : s->threads()) CHECK(std::binary_search(listed->begin(), listed->end(), tid));
        if (complete) ++complete_sets;
        REQUIRE(s->release().has_value());
        if (cycle % 20 == 0) {
            // Progress between cycles too, not only at the end.
            std::uint64_t before = load(shared->batches);
            REQUIRE(eventually([&] { return load(shared->batches) > before; }));
        }
    }
    CHECK(complete_sets == 200);
    MESSAGE("threads seen exiting while held: " << exiting_seen);
    CHECK(load(shared->batches) > batches_before);
    check_runs_on(victim, shared->batches);
    // No signal lost: every real-time signal the victim queued to itself
    // (some of them dequeued by a thread just as we stopped it) arrives.
    std::uint64_t sent = load(shared->sent);
    CHECK(eventually([&] { return load(shared->received) >= sent; }));
}

TEST_CASE("a second tracer gets already_traced naming the first (strace)") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    triage::test_support::child_process strace{
        {"strace", "-q", "-f", "-o", "/dev/null", "-p", std::to_string(victim.pid())}};
    bool traced = eventually([&] {
        auto st = triage::procfs::read_status(victim.pid());
        return st && st->tracer_pid == strace.pid();
    });
    if (traced) {
        auto s = tp::session::attach(victim.pid());
        REQUIRE_FALSE(s.has_value());
        CHECK(s.error().code == triage::errc::already_traced);
        std::string message = s.error().message();
        CHECK_MESSAGE(message.find("pid " + std::to_string(strace.pid()) + " (strace) is already tracing it") != std::string::npos,
                      message);
    }
    ::kill(strace.pid(), SIGTERM);  // strace detaches on SIGTERM
    CHECK(strace.wait_for_exit(std::chrono::seconds{20}).has_value());
    REQUIRE(traced);
    CHECK(eventually([&] {
        auto st = triage::procfs::read_status(victim.pid());
        return st && st->tracer_pid == 0;
    }));
    check_runs_on(victim, shared->progress);
}

TEST_CASE("without permission the error says what to do") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t child = ::fork();
    if (child == 0) {
        ::close(report[0]);
        // Become an unprivileged user: no CAP_SYS_PTRACE, another uid.
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(3);
        auto s = tp::session::attach(victim.pid());
        std::string line = s ? std::string{"attached"}
                             : std::to_string(static_cast<int>(s.error().code)) + "|" + s.error().message();
        (void)!::write(report[1], line.data(), line.size());
        ::_exit(0);
    }
    ::close(report[1]);
    std::string line;
    char buf[1024];
    ssize_t n = 0;
    while ((n = ::read(report[0], buf, sizeof buf)) > 0) line.append(buf, static_cast<std::size_t>(n));
    ::close(report[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    INFO(line);
    CHECK(line.starts_with(std::to_string(static_cast<int>(triage::errc::permission_denied)) + "|"));
    CHECK(line.find("root") != std::string::npos);
    CHECK(line.find("CAP_SYS_PTRACE") != std::string::npos);
    // Yama is named only where it exists (issue 8.11).
    const bool yama = ::access("/proc/sys/kernel/yama/ptrace_scope", F_OK) == 0;
    CHECK((line.find("ptrace_scope") != std::string::npos) == yama);
    check_runs_on(victim, shared->progress);
}

TEST_CASE("a target the user stopped (SIGSTOP) stays stopped after release, and runs on SIGCONT") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    REQUIRE(::kill(victim.pid(), SIGSTOP) == 0);
    REQUIRE(eventually([&] {
        for (char c : thread_states(victim.pid()))
            if (c != 'T') return false;
        return true;
    }));
    {
        auto s = tp::session::attach(victim.pid());
        REQUIRE_MESSAGE(s.has_value(), failure_text(s));
        CHECK(s->threads().size() == 3);
        auto regs = s->registers(shared->spinner_tid);
        CHECK(regs.has_value());
    }
    // Back in group-stop: every thread 'T', no progress.
    CHECK(eventually([&] {
        for (char c : thread_states(victim.pid()))
            if (c != 'T') return false;
        return true;
    }));
    std::uint64_t frozen = load(shared->progress);
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    CHECK(load(shared->progress) == frozen);
    REQUIRE(::kill(victim.pid(), SIGCONT) == 0);
    check_runs_on(victim, shared->progress);
}

TEST_CASE("an exception unwinding through a session releases the target") {
    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    bool stopped_inside = false;
    try {
        auto s = tp::session::attach(victim.pid());
        REQUIRE(s.has_value());
        stopped_inside = any_thread_stopped(victim.pid());
        tp::session moved = std::move(*s);  // a moved-from session releases nothing twice
        throw std::runtime_error("investigation failed");
    } catch (const std::runtime_error&) {
    }
    CHECK(stopped_inside);
    check_runs_on(victim, shared->progress);
}

TEST_CASE("attach errors: bad pid, gone process, a thread id") {
    auto zero = tp::session::attach(0);
    REQUIRE_FALSE(zero.has_value());
    CHECK(zero.error().code == triage::errc::invalid_argument);

    pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    int status = 0;
    ::waitpid(gone, &status, 0);
    auto missing = tp::session::attach(gone);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == triage::errc::no_such_process);

    shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
    auto* shared = victim.shared<parked_shared>();
    auto thread = tp::session::attach(shared->sleeper_tid);
    REQUIRE_FALSE(thread.has_value());
    CHECK(thread.error().code == triage::errc::invalid_argument);
    CHECK(thread.error().message().find(std::to_string(victim.pid())) != std::string::npos);
    check_runs_on(victim, shared->progress);
}
