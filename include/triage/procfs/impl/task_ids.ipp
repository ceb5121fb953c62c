// triage/procfs/impl/task_ids.ipp — the definitions of
// triage/procfs/task_ids.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/task_ids.hpp"

namespace triage::procfs::detail {

[[nodiscard]] TRIAGE_DECL result<std::vector<pid_t>> list_numeric_entries(const std::string& dir, pid_t owner) {
    const unique_fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    auto ids = fd ? numeric_entries(fd.get()) : std::unexpected(errno);
    if (!ids) {
        error err = error::from_errno(ids.error(), "listing " + dir);
        if ((ids.error() == ENOENT || ids.error() == ESRCH) && owner > 0) err.code = errc::no_such_process;
        return fail(std::move(err));
    }
    return std::move(*ids);
}

} // namespace triage::procfs::detail

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<std::vector<pid_t>> task_ids(pid_t pid) {
    return detail::list_numeric_entries("/proc/" + std::to_string(pid) + "/task", pid);
}

[[nodiscard]] TRIAGE_DECL result<std::vector<pid_t>> process_ids() { return detail::list_numeric_entries("/proc", 0); }

} // namespace triage::procfs
