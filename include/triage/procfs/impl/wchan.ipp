// triage/procfs/impl/wchan.ipp — the definitions of
// triage/procfs/wchan.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/wchan.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<wait_channel> read_wchan(const proc_dir& dir, pid_t tid) {
    char buffer[1024];  // symbol names are at most KSYM_NAME_LEN (512) bytes
    std::string_view text = TRIAGE_TRY(dir.read(tid, "wchan", buffer));
    return wait_channel{parse_wchan(text)};
}

[[nodiscard]] TRIAGE_DECL result<wait_channel> read_wchan(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_wchan(dir, tid);
}

} // namespace triage::procfs
