// triage/coredump/impl/signal_names.ipp — the definitions of
// triage/coredump/signal_names.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <csignal>
#include <cstring>

#include "triage/coredump/signal_names.hpp"

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL std::string signal_name(int signo) {
    const char* abbrev = signo > 0 && signo < NSIG ? ::sigabbrev_np(signo) : nullptr;
    return abbrev != nullptr ? std::string{"SIG"} + abbrev : "signal " + std::to_string(signo);
}

[[nodiscard]] TRIAGE_DECL std::string signal_code_name(int signo, int code) {
    struct entry {
        int signo;  // 0: any signal
        int code;
        const char* name;
        const char* meaning;
    };
    static constexpr entry table[] = {
        {SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR", "address not mapped to object"},
        {SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR", "invalid permissions for mapped object"},
        {SIGSEGV, 3, "SEGV_BNDERR", "failed address bound checks"},
        {SIGSEGV, 4, "SEGV_PKUERR", "access denied by memory protection keys"},
        {SIGBUS, BUS_ADRALN, "BUS_ADRALN", "invalid address alignment"},
        {SIGBUS, BUS_ADRERR, "BUS_ADRERR", "nonexistent physical address (a truncated mapped file?)"},
        {SIGBUS, BUS_OBJERR, "BUS_OBJERR", "object-specific hardware error"},
        {SIGILL, ILL_ILLOPC, "ILL_ILLOPC", "illegal opcode"},
        {SIGILL, ILL_ILLOPN, "ILL_ILLOPN", "illegal operand"},
        {SIGILL, ILL_ILLADR, "ILL_ILLADR", "illegal addressing mode"},
        {SIGILL, ILL_ILLTRP, "ILL_ILLTRP", "illegal trap"},
        {SIGILL, ILL_PRVOPC, "ILL_PRVOPC", "privileged opcode"},
        {SIGILL, ILL_PRVREG, "ILL_PRVREG", "privileged register"},
        {SIGILL, ILL_COPROC, "ILL_COPROC", "coprocessor error"},
        {SIGILL, ILL_BADSTK, "ILL_BADSTK", "internal stack error"},
        {SIGFPE, FPE_INTDIV, "FPE_INTDIV", "integer divide by zero"},
        {SIGFPE, FPE_INTOVF, "FPE_INTOVF", "integer overflow"},
        {SIGFPE, FPE_FLTDIV, "FPE_FLTDIV", "floating-point divide by zero"},
        {SIGFPE, FPE_FLTOVF, "FPE_FLTOVF", "floating-point overflow"},
        {SIGFPE, FPE_FLTUND, "FPE_FLTUND", "floating-point underflow"},
        {SIGFPE, FPE_FLTRES, "FPE_FLTRES", "floating-point inexact result"},
        {SIGFPE, FPE_FLTINV, "FPE_FLTINV", "invalid floating-point operation"},
        {SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT", "breakpoint"},
        {SIGTRAP, TRAP_TRACE, "TRAP_TRACE", "trace trap"},
        {SIGSYS, 1, "SYS_SECCOMP", "a system call a seccomp filter forbids"},
        {0, SI_USER, "SI_USER", "sent by kill"},
        {0, SI_KERNEL, "SI_KERNEL", "sent by the kernel"},
        {0, SI_QUEUE, "SI_QUEUE", "sent by sigqueue"},
        {0, SI_TIMER, "SI_TIMER", "a timer expired"},
        {0, SI_TKILL, "SI_TKILL", "sent by tkill or raise"},
    };
    for (const entry& e : table) {
        const bool applies = e.signo == signo || (e.signo == 0 && code <= 0) || (e.signo == 0 && code == SI_KERNEL);
        if (applies && e.code == code) return std::string{e.name} + " (" + e.meaning + ")";
    }
    return "code " + std::to_string(code);
}

[[nodiscard]] TRIAGE_DECL bool dumps_core(int signo) noexcept {
    switch (signo) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
    case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS: return true;
    default: return false;
    }
}

} // namespace triage::coredump
