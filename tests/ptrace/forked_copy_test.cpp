// ptrace::fork_copy and inject_syscall on a real 26-thread victim: every
// thread's registers and signal mask are the same after the fork as before
// it (the injected thread's too); the copy is a stopped child of the victim
// holding the same memory, invisible once disposed of;
// find_injection_site finds `syscall; ret` and a sigreturn trampoline; a fork_copy of a
// session that is not held is refused.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/victim.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/status.hpp"
#include "triage/ptrace/forked_copy.hpp"
#include "triage/ptrace/syscall_injection.hpp"

using triage::test_support::failure_text;

namespace tp = triage::ptrace;
using triage::test_support::victim;

namespace {

std::uint64_t blocked_signals(pid_t pid, pid_t tid) {
    auto status = triage::procfs::read_status(pid, tid);
    REQUIRE(status);
    return status->sig_blocked;
}

} // namespace

TEST_CASE("fork_copy: the target's threads are put back exactly; the copy holds its memory and goes without a trace") {
    victim v{{triage::test_support::victim_path("core_big"), "16"}};
    const std::uint64_t big = v.number("big", 0, 16);
    auto s = tp::session::attach(v.pid());
    REQUIRE_MESSAGE(s, failure_text(s));
    std::map<pid_t, tp::thread_registers> before;
    std::map<pid_t, std::uint64_t> masks;
    for (pid_t tid : s->threads()) {
        auto regs = s->registers(tid);
        REQUIRE(regs);
        before.emplace(tid, std::move(*regs));
        masks.emplace(tid, blocked_signals(v.pid(), tid));
    }
    auto copy = tp::fork_copy(*s);
    REQUIRE_MESSAGE(copy, failure_text(copy));
    CHECK(copy->pid() > 0);
    CHECK(copy->pid_in_target() == copy->pid());  // same PID namespace here
    CHECK(before.contains(copy->forked_by()));
    for (pid_t tid : s->threads()) {
        CAPTURE(tid);
        auto regs = s->registers(tid);
        REQUIRE(regs);
        const auto& was = before.at(tid);
        CHECK(std::memcmp(&regs->general, &was.general, sizeof was.general) == 0);
        CHECK(std::memcmp(&regs->fp, &was.fp, sizeof was.fp) == 0);
        CHECK(blocked_signals(v.pid(), tid) == masks.at(tid));
    }
    // A child of the victim, stopped by us, with one thread and the same memory.
    auto child = triage::procfs::read_status(copy->pid());
    REQUIRE(child);
    CHECK(child->ppid == v.pid());
    CHECK(child->threads == 1);
    CHECK(child->state == 't');
    REQUIRE(s->release());
    auto ours = triage::memory::live_process::open(copy->pid());
    auto theirs = triage::memory::live_process::open(v.pid());
    REQUIRE(ours);
    REQUIRE(theirs);
    std::vector<std::byte> a(1 << 16), b(1 << 16);
    REQUIRE(triage::memory::read_exact(*ours, big, a));
    REQUIRE(triage::memory::read_exact(*theirs, big, b));
    CHECK(a == b);
    auto disposed = copy->dispose();
    CHECK_MESSAGE(disposed, (disposed ? std::string{} : failure_text(disposed)));
    CHECK(copy->cleanup_stopped_for().count() > 0);
    CHECK_FALSE(std::filesystem::exists("/proc/" + std::to_string(copy->pid())));
    CHECK(triage::test_support::process_state(v.pid()) != 't');

    // Where the clone ran: `syscall; ret` and a sigreturn trampoline, in executable memory.
    auto site = tp::find_injection_site(v.pid());
    REQUIRE_MESSAGE(site, failure_text(site));
    std::array<std::byte, 3> insn{};
    REQUIRE(triage::memory::read_exact(*theirs, site->syscall_ret, insn));
    CHECK(insn == std::array{std::byte{0x0f}, std::byte{0x05}, std::byte{0xc3}});
    std::array<std::byte, 9> trampoline{};
    REQUIRE(triage::memory::read_exact(*theirs, site->sigreturn, trampoline));
    CHECK(((trampoline[0] == std::byte{0x48} && trampoline[7] == std::byte{0x0f} && trampoline[8] == std::byte{0x05}) ||
           (trampoline[0] == std::byte{0xb8} && trampoline[5] == std::byte{0x0f} && trampoline[6] == std::byte{0x05})));

    // Not held: refused.
    auto again = tp::fork_copy(*s);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == triage::errc::invalid_argument);
}
