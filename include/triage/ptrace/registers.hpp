// triage/ptrace/registers.hpp — the registers of one stopped thread (x86-64).
//
// Offers: `thread_registers` (general registers, the FXSAVE-format FP/SSE
// state and the raw XSAVE area) with `instruction_pointer()`,
// `stack_pointer()`, `frame_pointer()`, and `read_registers(tid)`.
// The XSAVE area comes from PTRACE_GETREGSET NT_X86_XSTATE; its size is what
// the kernel returns in iov_len (it depends on the CPU's enabled features:
// ~1 KiB with AVX, ~2.7 KiB with AVX-512, ~11 KiB with AMX). Bytes 0..511 are
// the legacy FXSAVE image, 512..575 the XSAVE header (xstate_bv first). A
// kernel or CPU without XSAVE gives an empty `xstate`, not an error.
// Errors: no_such_process (the thread exited), permission_denied, system;
// ptrace answers ESRCH also when the thread is not stopped or is traced by
// another of our threads — read through ptrace::session, which checks both.
// Thread-safe: must be called from the thread that attached (ptrace rule).
// Signal-safe: no (allocates the XSAVE buffer).
// Target process: reads registers of a thread that is already stopped.
//
//   auto session = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   for (pid_t tid : session.threads()) {
//       auto regs = TRIAGE_TRY(session.registers(tid));
//       fmt::print("{} rip={:#x}\n", tid, regs.instruction_pointer());
//   }
#pragma once

#include <cpuid.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "triage/base/result.hpp"

namespace triage::ptrace {

struct thread_registers {
    pid_t tid = 0;
    user_regs_struct general{};
    user_fpregs_struct fp{};
    std::vector<std::byte> xstate;  // NT_X86_XSTATE image, as long as the kernel made it

    [[nodiscard]] std::uint64_t instruction_pointer() const noexcept { return general.rip; }
    [[nodiscard]] std::uint64_t stack_pointer() const noexcept { return general.rsp; }
    [[nodiscard]] std::uint64_t frame_pointer() const noexcept { return general.rbp; }
};

namespace detail {
// Upper bound of the XSAVE area for every feature the CPU supports
// (CPUID leaf 0xD, sub-leaf 0, ECX), or 4 KiB if the CPU does not say.
[[nodiscard]] inline std::size_t xstate_capacity() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_count(0xD, 0, &eax, &ebx, &ecx, &edx) && ecx >= 576) return ecx;
    return 4096;
}

[[nodiscard]] inline error register_error(int e, pid_t tid, const char* what) {
    error err = error::from_errno(e, std::string{"reading "} + what + " of thread " + std::to_string(tid));
    if (e == ESRCH) {
        err.code = errc::no_such_process;
        err.hint = "the thread exited, is not stopped, or is traced by another thread of ours";
    }
    return err;
}
} // namespace detail

// Reads every register set of `tid`, which must be a stopped tracee of the
// calling thread.
[[nodiscard]] inline result<thread_registers> read_registers(pid_t tid) {
    thread_registers regs;
    regs.tid = tid;
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs.general) != 0)
        return fail(detail::register_error(errno, tid, "general registers"));
    if (::ptrace(PTRACE_GETFPREGS, tid, nullptr, &regs.fp) != 0)
        return fail(detail::register_error(errno, tid, "FP registers"));
    regs.xstate.resize(detail::xstate_capacity());
    iovec io{regs.xstate.data(), regs.xstate.size()};
    if (::ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(static_cast<std::uintptr_t>(NT_X86_XSTATE)), &io) != 0) {
        int e = errno;
        if (e != EINVAL && e != ENODEV) return fail(detail::register_error(e, tid, "XSAVE state"));
        io.iov_len = 0;  // no XSAVE on this CPU or kernel
    }
    regs.xstate.resize(io.iov_len);
    return regs;
}

} // namespace triage::ptrace
