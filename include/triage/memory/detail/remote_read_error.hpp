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

#include "triage/base/config.hpp"
#include "triage/base/ptrace_permission.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"

namespace triage::memory::detail {

// The hint for a refused read: the ptrace advice for this machine, plus the
// seccomp case where only one of the two mechanisms is refused.
[[nodiscard]] TRIAGE_DECL std::string refused_read_hint();

[[nodiscard]] TRIAGE_DECL std::string process_context(pid_t pid, std::string_view how);

// `how` names the mechanism ("process_vm_readv", "/proc/12/mem").
[[nodiscard]] TRIAGE_DECL error remote_read_error(int e, pid_t pid, std::uint64_t address, std::string_view how);

// The process is gone: its memory can no longer be read.
[[nodiscard]] TRIAGE_DECL error process_gone(pid_t pid);

} // namespace triage::memory::detail

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/memory/detail/impl/remote_read_error.ipp"
#endif
