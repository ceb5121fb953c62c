// triage/procfs/impl/comm.ipp — the definitions of
// triage/procfs/comm.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/comm.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<task_name> read_comm(const proc_dir& dir, pid_t tid) {
    char buffer[256];
    std::string_view text = TRIAGE_TRY(dir.read(tid, "comm", buffer));
    return task_name{parse_comm(text)};
}

[[nodiscard]] TRIAGE_DECL result<task_name> read_comm(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_comm(dir, tid);
}

} // namespace triage::procfs
