// triage/ptrace/syscall_injection.hpp — make one stopped thread of the
// target run one system call of ours, then put it back exactly as it was.
//
// Offers: `find_syscall_instruction(pid)`, the address of a `syscall`
// instruction (bytes 0f 05) in the target's executable memory (its vDSO
// first, then its other executable mappings): the kernel runs whatever
// bytes are at the instruction pointer, so any such pair is one;
// `inject_syscall(tid, call, at)`, which runs `call` in `tid` by pointing it
// at `at` for exactly one instruction, and returns the call's raw result.
//
// How (x86-64), on the tracer thread that holds `tid` in a ptrace-stop that
// is not a group-stop: saves the general registers and the signal mask
// (PTRACE_GETREGS, PTRACE_GETSIGMASK); blocks every signal, so that no
// signal is dequeued during the call (a forced SIGTRAP still is); sets
// rax = number, rdi, rsi, rdx, r10, r8, r9 = args, rip = at, rsp = 0 and
// orig_rax = -1 (so the kernel does not restart the system call the thread
// was in when it stopped); single-steps (PTRACE_SINGLESTEP) over the one
// instruction, following clone/fork event stops (their new pid is
// `injected_syscall::new_process`); reads rax at the single-step trap; puts
// back the registers and the mask; then moves the thread from the trap's
// SIGTRAP signal-delivery-stop to an event-stop (PTRACE_INTERRUPT and
// PTRACE_CONT: the interrupt is taken before the thread can leave the
// kernel), where the death of its tracer would just resume it (from a
// signal-delivery-stop the kernel would deliver that SIGTRAP and kill the
// process). When the thread is resumed, the kernel restarts the system
// call it was interrupted in exactly as it would have from the original
// stop (-ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: the same call
// again; -ERESTART_RESTARTBLOCK: restart_syscall), because that logic runs
// on the registers in place when the thread leaves the signal handling it
// is in. A SIGSTOP the thread dequeued meanwhile (it cannot be blocked) is
// queued to it again before that.
// rsp = 0 makes a copy of the thread that would ever run (a fork whose
// tracer died before it could hold it) fault at its first use of the stack
// instead of running the target's code.
//
// Errors: invalid_argument (not x86-64; no syscall instruction at `at`);
// unsupported (a 32-bit thread); no_such_process (the thread died:
// nothing to put back); system (a ptrace request failed; the registers
// were put back if they had been changed); unsupported (the instruction at
// `at` faulted: registers put back); not_found (find_syscall_instruction:
// no executable memory holds the bytes).
// Thread-safety: inject_syscall only on the tracer thread of `tid`.
// Target process: `tid` runs one instruction of its own text or vDSO with
// registers of ours, with every signal blocked, then is put back; memory is
// not written. If our process is killed (SIGKILL) during the call, the
// kernel lets the thread run on with the injected registers: it crashes.
// That window lasts as long as the system call (for a fork, about 1 ms per
// 2 GiB of mapped memory).
//
//   long pid_or_error = TRIAGE_TRY(triage::ptrace::inject_syscall(tid, {SYS_getpid, {}}, at)).result;
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::ptrace {

struct syscall_request {
    long number = 0;
    std::array<std::uint64_t, 6> args{};
};

struct injected_syscall {
    long result = 0;                   // the raw return value: -errno on failure
    std::optional<pid_t> new_process;  // a process or thread the call created (PTRACE_EVENT_CLONE/FORK/VFORK)
};

[[nodiscard]] TRIAGE_DECL result<std::uint64_t> find_syscall_instruction(pid_t pid);

[[nodiscard]] TRIAGE_DECL result<injected_syscall> inject_syscall(pid_t tid, const syscall_request& call, std::uint64_t at);

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/syscall_injection.ipp"
#endif
