// triage/procfs/impl/proc_dir.ipp — the definitions of
// triage/procfs/proc_dir.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL std::string ptrace_access_hint() {
    return "these files need ptrace access to the process: " + ptrace_permission_hint();
}

} // namespace triage::procfs

namespace triage::procfs::detail {

[[nodiscard]] TRIAGE_DECL std::expected<std::size_t, int> read_whole_small_file(int fd, std::span<char> buffer) noexcept {
    for (;;) {
        ssize_t got = ::read(fd, buffer.data(), buffer.size());
        if (got >= 0) return static_cast<std::size_t>(got);
        if (errno != EINTR) return std::unexpected(errno);
    }
}

[[nodiscard]] TRIAGE_DECL error proc_error(int e, std::string context) {
    error err = error::from_errno(e, std::move(context));
    if (e == ENOENT || e == ESRCH) err.code = errc::no_such_process;
    if (err.code == errc::permission_denied) err.hint = ptrace_access_hint();
    return err;
}

[[nodiscard]] TRIAGE_DECL std::vector<pid_t> numeric_entries(DIR* d) {
    std::vector<pid_t> ids;
    while (const dirent* entry = ::readdir(d)) {
        if (auto id = parse_unsigned<unsigned>(entry->d_name)) ids.push_back(static_cast<pid_t>(*id));
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

} // namespace triage::procfs::detail
