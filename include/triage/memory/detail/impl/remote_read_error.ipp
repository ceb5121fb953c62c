// triage/memory/detail/impl/remote_read_error.ipp — the definitions of
// triage/memory/detail/remote_read_error.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/memory/detail/remote_read_error.hpp"

namespace triage::memory::detail {

[[nodiscard]] TRIAGE_DECL std::string refused_read_hint() {
    return ptrace_permission_hint() +
           "; in a container a seccomp filter may refuse process_vm_readv while /proc/PID/mem works "
           "(access_method::proc_mem, or automatic, which tries both)";
}

[[nodiscard]] TRIAGE_DECL std::string process_context(pid_t pid, std::string_view how) {
    std::string context = "reading memory of process " + std::to_string(pid);
    if (!how.empty()) {
        context += " with ";
        context += how;
    }
    return context;
}

[[nodiscard]] TRIAGE_DECL error remote_read_error(int e, pid_t pid, std::uint64_t address, std::string_view how) {
    switch (e) {
    case EFAULT:
    case EIO:
    case EINVAL:  // pread of an offset beyond the signed range: kernel addresses
        return error{errc::bad_address, e, "reading " + hex(address) + " in process " + std::to_string(pid), {}};
    case ESRCH: return error{errc::no_such_process, e, process_context(pid, {}), {}};
    case EPERM:
    case EACCES: return error{errc::permission_denied, e, process_context(pid, how), refused_read_hint()};
    default: return error::from_errno(e, process_context(pid, how) + " at " + hex(address));
    }
}

[[nodiscard]] TRIAGE_DECL error process_gone(pid_t pid) {
    return error{errc::no_such_process, ESRCH, process_context(pid, {}) + " (the process has exited)", {}};
}

} // namespace triage::memory::detail
