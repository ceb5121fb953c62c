// triage/ptrace/impl/registers.ipp — the definitions of
// triage/ptrace/registers.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/ptrace/registers.hpp"

namespace triage::ptrace::detail {

[[nodiscard]] TRIAGE_DECL std::size_t xstate_capacity() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_count(0xD, 0, &eax, &ebx, &ecx, &edx) && ecx >= 576) return ecx;
    return 4096;
}

[[nodiscard]] TRIAGE_DECL error register_error(int e, pid_t tid, const char* what) {
    error err = error::from_errno(e, std::string{"reading "} + what + " of thread " + std::to_string(tid));
    if (e == ESRCH) {
        err.code = errc::no_such_process;
        err.hint = "the thread exited, is not stopped, or is traced by another thread of ours";
    }
    return err;
}

} // namespace triage::ptrace::detail

namespace triage::ptrace {

[[nodiscard]] TRIAGE_DECL result<thread_registers> read_registers(pid_t tid) {
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
