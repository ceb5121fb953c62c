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

#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"

namespace triage {

namespace detail {
inline constexpr unsigned cap_sys_ptrace = 19;  // linux/capability.h

// Whether our effective capability set holds CAP_SYS_PTRACE.
[[nodiscard]] inline bool have_cap_sys_ptrace() {
    auto status = read_file("/proc/self/status");
    if (!status) return false;
    std::string_view rest = *status;
    while (!rest.empty()) {
        auto pair = split_key_value(next_line(rest));
        if (!pair || pair->key != "CapEff") continue;
        auto caps = parse_unsigned<std::uint64_t>(trim(pair->value), 16);
        return caps && ((*caps >> cap_sys_ptrace) & 1u) != 0;
    }
    return false;
}
} // namespace detail

[[nodiscard]] inline std::string ptrace_permission_hint() {
    const bool privileged = detail::have_cap_sys_ptrace();
    std::string hint = privileged
        ? "we hold CAP_SYS_PTRACE, so something else refuses: a target in a user namespace we do not own, "
          "or a security module (SELinux, AppArmor) or seccomp filter that forbids ptrace"
        : "run as root or grant CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep on the tool); "
          "without it only processes of our own user that are dumpable can be read";
    auto scope = read_file("/proc/sys/kernel/yama/ptrace_scope");
    if (!scope) return hint;
    std::string_view value = trim(*scope);
    if (value == "0") return hint;
    hint += "; Yama's /proc/sys/kernel/yama/ptrace_scope is " + std::string{value};
    if (value == "1") hint += privileged ? "" : " (only a parent may attach without CAP_SYS_PTRACE)";
    else if (value == "2") hint += " (only CAP_SYS_PTRACE may attach)";
    else if (value == "3") hint += " (attaching is disabled for everyone until reboot)";
    return hint;
}

} // namespace triage
