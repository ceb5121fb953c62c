// triage/procfs/impl/proc_dir.ipp — the definitions of
// triage/procfs/proc_dir.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <dirent.h>

#include <cstring>

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

[[nodiscard]] TRIAGE_DECL std::expected<std::vector<pid_t>, int> numeric_entries(int directory_fd) {
    constexpr int attempts = 4;
    std::vector<char> buffer(64 * 1024);
    // The entries of one getdents64 call's `size` bytes → `into`.
    auto parse = [&](std::size_t size, std::vector<pid_t>& into) {
        for (std::size_t at = 0; at < size;) {
            dirent64 entry{};
            std::memcpy(&entry, buffer.data() + at, std::min(sizeof entry, size - at));
            if (entry.d_reclen == 0) break;
            if (auto id = parse_unsigned<unsigned>(std::string_view{entry.d_name, ::strnlen(entry.d_name, sizeof entry.d_name)}))
                into.push_back(static_cast<pid_t>(*id));
            at += entry.d_reclen;
        }
    };
    // The whole listing → `into`; true when one call read it all.
    auto list = [&](std::vector<pid_t>& into) -> std::expected<bool, int> {
        if (::lseek(directory_fd, 0, SEEK_SET) < 0) return std::unexpected(errno);
        for (int calls = 0;; ++calls) {
            const ssize_t got = ::getdents64(directory_fd, buffer.data(), buffer.size());
            if (got < 0) return std::unexpected(errno);
            if (got == 0) return calls <= 1;
            parse(static_cast<std::size_t>(got), into);
        }
    };
    std::vector<pid_t> seen;  // the union of torn listings
    for (int attempt = 0; attempt < attempts; ++attempt) {
        std::vector<pid_t> ids;
        auto whole = list(ids);
        if (!whole) return std::unexpected(whole.error());
        if (*whole) {
            std::sort(ids.begin(), ids.end());
            return ids;
        }
        seen.insert(seen.end(), ids.begin(), ids.end());
        buffer.resize(std::max(buffer.size(), (ids.size() + 64) * 32) * 2);  // room for the whole listing in one call
    }
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    return seen;
}

} // namespace triage::procfs::detail
