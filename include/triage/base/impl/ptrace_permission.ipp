// triage/base/impl/ptrace_permission.ipp — the definitions of
// triage/base/ptrace_permission.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/ptrace_permission.hpp"

namespace triage::detail {

[[nodiscard]] TRIAGE_DECL bool have_cap_sys_ptrace() {
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

} // namespace triage::detail

namespace triage {

[[nodiscard]] TRIAGE_DECL std::string ptrace_permission_hint() {
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
