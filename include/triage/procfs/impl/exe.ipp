// triage/procfs/impl/exe.ipp — the definitions of
// triage/procfs/exe.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/exe.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL executable parse_exe_link(std::string_view target) {
    constexpr std::string_view marker = " (deleted)";
    bool deleted = target.ends_with(marker);
    if (deleted) target.remove_suffix(marker.size());
    return executable{std::string{target}, deleted};
}

[[nodiscard]] TRIAGE_DECL result<executable> read_exe(const proc_dir& dir, pid_t tid) {
    std::string target = TRIAGE_TRY(dir.read_link(tid, "exe"));
    return parse_exe_link(target);
}

[[nodiscard]] TRIAGE_DECL result<executable> read_exe(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_exe(dir, tid);
}

} // namespace triage::procfs
