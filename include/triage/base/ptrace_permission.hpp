// triage/base/ptrace_permission.hpp — what to do when the kernel refuses us
// ptrace access to a process, said truthfully for this machine.
//
// Offers: `ptrace_permission_hint()`: the advice for a refused PTRACE_SEIZE,
// process_vm_readv, /proc/PID/mem or a ptrace-guarded /proc file. It reads
// our effective capabilities (CapEff of /proc/self/status) and Yama's
// /proc/sys/kernel/yama/ptrace_scope, and says only what applies:
//   - without CAP_SYS_PTRACE: run as root or grant it (setcap), and Yama's
//     setting when Yama is active;
//   - with it (root, usually): which of the remaining causes can apply —
//     Yama's scope 3, a target in a user namespace we do not own, a
//     security module or seccomp filter.
// Yama is named only where /proc/sys/kernel/yama exists.
// Plain file errors (a core path we cannot write) must not use it: their
// advice is about the file, not about ptrace.
// Thread-safe: yes. Signal-safe: no (allocates). Target process: none.
//
//   if (errno == EPERM)
//       return triage::fail(triage::errc::permission_denied, "attaching to 1234",
//                           triage::ptrace_permission_hint());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"

namespace triage {

namespace detail {
inline constexpr unsigned cap_sys_ptrace = 19;  // linux/capability.h

// Whether our effective capability set holds CAP_SYS_PTRACE.
[[nodiscard]] TRIAGE_DECL bool have_cap_sys_ptrace();
} // namespace detail

[[nodiscard]] TRIAGE_DECL std::string ptrace_permission_hint();

} // namespace triage

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/base/impl/ptrace_permission.ipp"
#endif
