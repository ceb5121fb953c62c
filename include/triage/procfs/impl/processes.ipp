// triage/procfs/impl/processes.ipp — the definitions of
// triage/procfs/processes.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/processes.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<stat_view> processes() {
    std::vector<pid_t> ids = TRIAGE_TRY(process_ids());
    unique_fd dir = TRIAGE_TRY(open_file("/proc", O_RDONLY | O_DIRECTORY));
    return stat_view{std::move(dir), "/proc", std::move(ids)};
}

} // namespace triage::procfs
