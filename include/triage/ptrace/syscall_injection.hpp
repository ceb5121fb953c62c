// triage/ptrace/syscall_injection.hpp — make one stopped thread of the
// target run one system call of ours, then put it back exactly as it was,
// and leave it able to put itself back if we die in between.
//
// Offers: `find_injection_site(pid)`, two places in the target's executable
// memory (its vDSO first, then libc, then its other executable mappings):
// a `syscall; ret` sequence (bytes 0f 05 c3) and a sigreturn trampoline
// (`mov $15, %rax; syscall`, glibc's and musl's __restore_rt: 48 c7 c0 0f
// 00 00 00 0f 05, or the 32-bit-operand form b8 0f 00 00 00 0f 05): the
// kernel runs whatever bytes are at the instruction pointer, so any such
// bytes are those instructions; `inject_syscall(tid, call, site,
// options)`, which runs `call` in `tid` and returns its raw result
// (`options`: the ptrace options the thread has, put back after; a clone()
// needs PTRACE_O_TRACECLONE among them, so that its copy is traced from
// birth). A call the kernel ends with a restart request (a SIGSTOP came)
// is run again, up to three times.
//
// How (x86-64), on the tracer thread that holds `tid` in a ptrace-stop that
// is not a group-stop:
//  1. saves the general registers, the signal mask and the whole extended
//     FPU state (PTRACE_GETREGS, PTRACE_GETSIGMASK, NT_X86_XSTATE);
//  2. writes, below the 128-byte red zone of the thread's stack (the
//     memory the kernel itself would take for the frame of a signal
//     delivered to the thread at that moment), two signal
//     frames, each under the address of the trampoline: the thread's own
//     state (with the restart of an interrupted system call already
//     applied, as the kernel would) and, for a clone(), a state that only
//     calls exit_group(0);
//  3. blocks every signal and points the thread at the `syscall; ret`
//     with rax = number, rdi... = args, orig_rax = -1, rsp = its frame; a
//     clone()'s new stack is the second frame;
//  4. resumes it with PTRACE_SYSCALL to the syscall-exit-stop, following
//     clone event stops (the new pid is `injected_syscall::new_process`),
//     with PTRACE_O_TRACESYSGOOD added to its options: a tracer that dies
//     in a syscall-stop leaves that stop's code as the signal the thread
//     sends itself, SIGTRAP without the option (fatal once its mask is
//     back), an invalid number the kernel drops with it;
//  5. puts back the registers, the mask and the options, then the stack
//     bytes; waits for a clone()'s process to come to its first stop
//     (it is traced from birth under PTRACE_O_TRACECLONE), gives it
//     PTRACE_O_EXITKILL and puts the stack bytes back in it too (its
//     memory is then the target's at the stop, byte for byte);
//  6. moves the thread to an event-stop (PTRACE_INTERRUPT and PTRACE_CONT),
//     so that when it is resumed the kernel restarts the system call it was
//     interrupted in (-ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: the
//     same call; -ERESTART_RESTARTBLOCK: restart_syscall) exactly as from
//     the original stop: that logic runs when it leaves the signal handling
//     it is in. A SIGSTOP it dequeued meanwhile is queued again first.
// If our process dies at any point (SIGKILL), the kernel resumes the
// thread with what it holds at that moment: the original registers (after
// step 5), or the injected ones, which return through the trampoline into
// the first frame, so rt_sigreturn puts back every register, the FPU state
// and the mask (the only difference: a nanosleep interrupted before the
// call returns EINTR with the time left, as after a signal handler). A
// copy the clone made and nobody holds runs the second frame and exits
// with status 0 (a zombie with exit signal 0: reap_guardian reaps it).
// Without the trampoline's frames the thread would crash there.
//
// Errors: invalid_argument (not x86-64; the site's bytes are not there; a
// fork, vfork or clone3, whose copy would run the target's code; a
// clone() with CLONE_VM or CLONE_VFORK);
// unsupported (a 32-bit thread; a shadow stack, which rt_sigreturn would
// check; no room on the thread's stack for the frames; the instruction
// faulted: all put back); no_such_process (the thread died: nothing to put
// back); system (a ptrace request failed; the registers were put back if
// they had been changed); not_found (find_injection_site: the bytes are in
// no executable mapping).
// Thread-safety: inject_syscall only on the tracer thread of `tid`.
// Target process: `tid` runs two instructions of its own text or vDSO
// with registers of ours and every signal blocked; a few KiB of its stack
// below the red zone (two frames and its FPU state: 3.1 KiB with AVX-512)
// are written and then restored.
//
//   auto site = TRIAGE_TRY(triage::ptrace::find_injection_site(pid));
//   long pid_or_error = TRIAGE_TRY(triage::ptrace::inject_syscall(tid, {SYS_getpid, {}}, site, PTRACE_O_TRACECLONE)).result;
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
    std::optional<pid_t> new_process;  // the process a clone() made (PTRACE_EVENT_CLONE), in our PID namespace
    bool new_process_held = false;     // in its first ptrace-stop, with PTRACE_O_EXITKILL and our bytes gone from its stack
};

struct injection_site {
    std::uint64_t syscall_ret = 0;  // `syscall; ret`
    std::uint64_t sigreturn = 0;    // `mov $15, %rax; syscall`
};

[[nodiscard]] TRIAGE_DECL result<injection_site> find_injection_site(pid_t pid);

// `options`: the thread's ptrace options now (PTRACE_SETOPTIONS' value),
// put back after the call.
[[nodiscard]] TRIAGE_DECL result<injected_syscall> inject_syscall(pid_t tid, const syscall_request& call, const injection_site& site,
                                                                  long options);

} // namespace triage::ptrace

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/ptrace/impl/syscall_injection.ipp"
#endif
