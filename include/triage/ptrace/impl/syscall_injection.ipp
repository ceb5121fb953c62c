// triage/ptrace/impl/syscall_injection.ipp — the definitions of
// triage/ptrace/syscall_injection.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "triage/base/unique_fd.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/ptrace/syscall_injection.hpp"

namespace triage::ptrace {

[[nodiscard]] TRIAGE_DECL result<std::uint64_t> find_syscall_instruction(pid_t pid) {
    const std::string context = "finding a syscall instruction in pid " + std::to_string(pid);
    auto maps = procfs::read_maps(pid);
    if (!maps) return fail(std::move(maps.error()).within(context));
    std::vector<const procfs::mapping*> order;
    for (const auto& m : *maps)
        if (m.executable && m.readable && m.path == "[vdso]") order.push_back(&m);
    for (const auto& m : *maps)
        if (m.executable && m.readable && m.path != "[vdso]" && m.path != "[vsyscall]") order.push_back(&m);
    const std::string mem_path = "/proc/" + std::to_string(pid) + "/mem";
    const int fd = ::open(mem_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, context + ": opening " + mem_path);
    unique_fd mem{fd};
    constexpr std::uint64_t chunk = 64 * 1024;
    constexpr std::uint64_t budget = 16 * 1024 * 1024;  // bytes scanned at most
    std::vector<unsigned char> bytes(chunk + 1);
    std::uint64_t scanned = 0;
    for (const procfs::mapping* m : order) {
        for (std::uint64_t at = m->start; at < m->end && scanned < budget; at += chunk) {
            const std::uint64_t want = std::min<std::uint64_t>(chunk + 1, m->end - at);
            const ssize_t got = ::pread(fd, bytes.data(), want, static_cast<off_t>(at));
            if (got < 2) break;
            scanned += static_cast<std::uint64_t>(got);
            for (ssize_t i = 0; i + 1 < got; ++i)
                if (bytes[static_cast<std::size_t>(i)] == 0x0f && bytes[static_cast<std::size_t>(i) + 1] == 0x05)
                    return at + static_cast<std::uint64_t>(i);
        }
    }
    return fail(errc::not_found, context, "no executable mapping holds the bytes of a syscall instruction");
}

namespace detail {
// Kernel sigset_t: 64 signals.
using kernel_sigset = std::uint64_t;

// Moves `tid` from the single-step trap's SIGTRAP signal-delivery-stop to
// an event-stop (PTRACE_INTERRUPT, then resumed with no signal: the trap
// is taken before the thread could leave the kernel). From a
// signal-delivery-stop, a tracer's death would deliver that SIGTRAP and
// kill the process; from an event-stop it just resumes the thread. The
// restart of an interrupted system call still happens when it leaves (it
// follows the signal handling the thread is in). A signal held back
// during the call is queued to it again first.
[[nodiscard]] TRIAGE_DECL result<void> park(pid_t tid, int held_back, const std::string& context) {
    if (held_back != 0) (void)::syscall(SYS_tkill, tid, held_back);
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0 || ::ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0)
        return fail_errno(errno, context + ": parking the thread");
    for (int report = 0; report < 16; ++report) {
        int status = 0;
        pid_t r = 0;
        while ((r = ::waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {}
        if (r < 0) return fail_errno(errno, context + ": parking the thread");
        if (!WIFSTOPPED(status)) return fail(errc::no_such_process, context, "the thread died");
        if (((status >> 16) & 0xff) == PTRACE_EVENT_STOP) return {};
        // Anything else (a signal it dequeued first): let it through, stop after.
        if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0 ||
            ::ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(WSTOPSIG(status)))) != 0)
            return fail_errno(errno, context + ": parking the thread");
    }
    return fail(errc::inconsistent, context, "the thread did not come to an event-stop");
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<injected_syscall> inject_syscall(pid_t tid, const syscall_request& call, std::uint64_t at) {
#if !defined(__x86_64__)
    (void)tid, (void)call, (void)at;
    return fail(errc::invalid_argument, "running a system call in a thread", "only x86-64 is supported");
#else
    const std::string context = "running system call " + std::to_string(call.number) + " in thread " + std::to_string(tid);
    {
        // What runs is whatever is at `at` now: make sure it is a syscall
        // instruction (an exec since it was found would move it).
        const std::string mem_path = "/proc/" + std::to_string(tid) + "/mem";
        unsigned char insn[2]{};
        const int fd = ::open(mem_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail_errno(errno, context + ": opening " + mem_path);
        unique_fd mem{fd};
        if (::pread(fd, insn, sizeof insn, static_cast<off_t>(at)) != sizeof insn || insn[0] != 0x0f || insn[1] != 0x05)
            return fail(errc::invalid_argument, context, "no syscall instruction at " + std::to_string(at));
    }
    user_regs_struct saved{};
    detail::kernel_sigset saved_mask = 0;
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &saved) != 0) return fail_errno(errno, context);
    if (saved.cs != 0x33)  // __USER_CS: a 32-bit (compat) thread would not run a 64-bit syscall instruction
        return fail(errc::unsupported, context, "it runs 32-bit code");
    if (::ptrace(PTRACE_GETSIGMASK, tid, sizeof saved_mask, &saved_mask) != 0) return fail_errno(errno, context);
    detail::kernel_sigset all = ~detail::kernel_sigset{0};
    if (::ptrace(PTRACE_SETSIGMASK, tid, sizeof all, &all) != 0) return fail_errno(errno, context);

    injected_syscall out;
    // Puts the thread back; false if it is gone.
    auto put_back = [&]() -> result<void> {
        if (::ptrace(PTRACE_SETREGS, tid, nullptr, &saved) != 0 ||
            ::ptrace(PTRACE_SETSIGMASK, tid, sizeof saved_mask, &saved_mask) != 0) {
            if (errno == ESRCH) return fail(errc::no_such_process, context, "the thread died during the call");
            return fail_errno(errno, context + ": putting its registers back");
        }
        return {};
    };
    user_regs_struct regs = saved;
    regs.orig_rax = static_cast<unsigned long long>(-1);
    regs.rax = static_cast<unsigned long long>(call.number);
    regs.rdi = call.args[0];
    regs.rsi = call.args[1];
    regs.rdx = call.args[2];
    regs.r10 = call.args[3];
    regs.r8 = call.args[4];
    regs.r9 = call.args[5];
    regs.rip = at;
    regs.rsp = 0;
    if (::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0) {
        const int e = errno;
        (void)put_back();
        return fail_errno(e, context);
    }
    int held_back = 0;
    for (int step = 0;; ++step) {
        if (step == 64 || ::ptrace(PTRACE_SINGLESTEP, tid, nullptr, nullptr) != 0) {
            const int e = step == 64 ? EIO : errno;
            TRIAGE_TRY(put_back());
            return fail_errno(e, context + ": single-stepping");
        }
        int status = 0;
        pid_t r = 0;
        while ((r = ::waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {}
        if (r < 0) return fail_errno(errno, context + ": waiting for the thread");
        if (!WIFSTOPPED(status)) return fail(errc::no_such_process, context, "the thread died during the call");
        const int event = (status >> 16) & 0xff;
        const int signal = WSTOPSIG(status);
        if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK) {
            unsigned long message = 0;
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && message != 0)
                out.new_process = static_cast<pid_t>(message);
            continue;
        }
        if (event != 0) continue;  // another event stop: step on
        if (signal == SIGTRAP) break;  // the single-step trap: the instruction ran
        if (signal == SIGSEGV || signal == SIGBUS || signal == SIGILL) {
            TRIAGE_TRY(put_back());
            return fail(errc::unsupported, context, "the instruction at the chosen address faulted (signal " + std::to_string(signal) + ")");
        }
        // Only SIGSTOP gets through the mask: held back, queued again when
        // the thread is parked (a second one adds nothing).
        held_back = signal;
    }
    user_regs_struct after{};
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &after) != 0) {
        const int e = errno;
        TRIAGE_TRY(put_back());
        return fail_errno(e, context + ": reading the result");
    }
    out.result = static_cast<long>(after.rax);
    TRIAGE_TRY(put_back());
    TRIAGE_TRY(detail::park(tid, held_back, context));
    return out;
#endif
}

} // namespace triage::ptrace
