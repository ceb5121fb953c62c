// triage/procfs/impl/ns_tids.ipp — the definitions of
// triage/procfs/ns_tids.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/ns_tids.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<ns_tid_map> read_ns_tids(const proc_dir& dir) {
    task_status process = TRIAGE_TRY(read_status(dir));
    if (process.ns_pids.size() <= 1) return ns_tid_map{};
    std::vector<ns_tid_pair> threads;
    for (pid_t tid : TRIAGE_TRY(dir.task_ids())) {
        auto status = read_status(dir, tid);
        if (!status && status.error().code == errc::no_such_process) continue;  // exited just now
        if (!status) return fail(std::move(status.error()));
        if (status->ns_pids.empty()) continue;
        threads.push_back({tid, status->ns_pids.back()});
    }
    return ns_tid_map{std::move(threads), true};
}

} // namespace triage::procfs
