// triage/memory/detail/remote_read_error.hpp — the errors of reading another
// process's memory, shared by live_process and proc_mem.
//
// Offers: `remote_read_error(errno, pid, address, how)`: EFAULT/EIO/EINVAL →
// errc::bad_address "reading 0x7f00 in process 12"; ESRCH → no_such_process
// "reading memory of process 12"; EPERM/EACCES → permission_denied with the
// ptrace advice; anything else keeps its errno.
// Thread-safe: values only. Signal-safe: no (allocates). Target process: none.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "triage/base/ptrace_permission.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"

namespace triage::memory::detail {

// The hint for a refused read: the ptrace advice for this machine, plus the
// seccomp case where only one of the two mechanisms is refused.
[[nodiscard]] inline std::string refused_read_hint() {
    return ptrace_permission_hint() +
           "; in a container a seccomp filter may refuse process_vm_readv while /proc/PID/mem works "
           "(access_method::proc_mem, or automatic, which tries both)";
}

[[nodiscard]] inline std::string process_context(pid_t pid, std::string_view how) {
    std::string context = "reading memory of process " + std::to_string(pid);
    if (!how.empty()) {
        context += " with ";
        context += how;
    }
    return context;
}

// `how` names the mechanism ("process_vm_readv", "/proc/12/mem").
[[nodiscard]] inline error remote_read_error(int e, pid_t pid, std::uint64_t address, std::string_view how) {
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

// The process is gone: its memory can no longer be read.
[[nodiscard]] inline error process_gone(pid_t pid) {
    return error{errc::no_such_process, ESRCH, process_context(pid, {}) + " (the process has exited)", {}};
}

} // namespace triage::memory::detail
