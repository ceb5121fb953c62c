// triage/procfs/impl/tasks.ipp — the definitions of
// triage/procfs/tasks.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/tasks.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<stat_view> tasks(const proc_dir& dir) {
    std::vector<pid_t> ids = TRIAGE_TRY(dir.task_ids());
    std::string shown = dir.path(whole_process, "task");
    int fd = ::openat(dir.fd(), "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(detail::proc_error(errno, "opening " + shown));
    return stat_view{unique_fd{fd}, std::move(shown), std::move(ids)};
}

[[nodiscard]] TRIAGE_DECL result<stat_view> tasks(pid_t pid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return tasks(dir);
}

} // namespace triage::procfs
