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

#include "triage/base/config.hpp"
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
[[nodiscard]] TRIAGE_DECL std::size_t xstate_capacity() noexcept;

[[nodiscard]] TRIAGE_DECL error register_error(int e, pid_t tid, const char* what);
} // namespace detail

// Reads every register set of `tid`, which must be a stopped tracee of the
// calling thread.
[[nodiscard]] TRIAGE_DECL result<thread_registers> read_registers(pid_t tid);

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/registers.ipp"
#endif
