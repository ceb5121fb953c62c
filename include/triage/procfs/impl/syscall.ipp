// triage/procfs/impl/syscall.ipp — the definitions of
// triage/procfs/syscall.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/syscall.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<syscall_info> parse_syscall(std::string_view text) {
    auto bad = [] { return fail(errc::malformed, "parsing syscall"); };
    text = trim(text);
    syscall_info info;
    if (text == "running") return info;
    auto nr = parse_signed<long>(next_token(text, ' '));
    if (!nr || *nr < -1) return bad();
    info.number = *nr;
    if (*nr >= 0) {
        info.kind = syscall_kind::in_syscall;
        for (auto& argument : info.arguments)
            if (!detail::parse_hex_word(next_token(text, ' '), argument)) return bad();
    } else {
        info.kind = syscall_kind::outside_syscall;
    }
    if (!detail::parse_hex_word(next_token(text, ' '), info.stack_pointer)) return bad();
    if (!detail::parse_hex_word(next_token(text, ' '), info.instruction_pointer)) return bad();
    if (!text.empty()) return bad();
    return info;
}

[[nodiscard]] TRIAGE_DECL result<syscall_info> read_syscall(const proc_dir& dir, pid_t tid) {
    char buffer[256];  // 9 hex words at most
    std::string_view text = TRIAGE_TRY(dir.read(tid, "syscall", buffer));
    auto info = parse_syscall(text);
    if (!info) return fail(std::move(info.error()).within("reading " + dir.path(tid, "syscall")));
    return info;
}

[[nodiscard]] TRIAGE_DECL result<syscall_info> read_syscall(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_syscall(dir, tid);
}

} // namespace triage::procfs
