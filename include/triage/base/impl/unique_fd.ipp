// triage/base/impl/unique_fd.ipp — the definitions of
// triage/base/unique_fd.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/unique_fd.hpp"

namespace triage {

[[nodiscard]] TRIAGE_DECL result<unique_fd> open_file(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, "opening " + path);
    return unique_fd{fd};
}

[[nodiscard]] TRIAGE_DECL result<unique_fd> open_at(int dirfd, const char* name, const std::string& shown_path,
                                                    int flags) {
    int fd = ::openat(dirfd, name, flags | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, "opening " + shown_path);
    return unique_fd{fd};
}

[[nodiscard]] TRIAGE_DECL result<unique_fd> open_regular_file(const std::string& path) {
    auto refuse = [&](mode_t mode) {
        return fail(errc::invalid_argument, "reading " + path, "it is " + std::string{file_kind(mode)} + ", not a regular file");
    };
    struct ::stat st{};
    if (::stat(path.c_str(), &st) != 0) return fail_errno(errno, "opening " + path);
    if (!S_ISREG(st.st_mode)) return refuse(st.st_mode);
    unique_fd fd = TRIAGE_TRY(open_file(path, O_RDONLY | O_NONBLOCK));
    if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, "reading " + path);
    if (!S_ISREG(st.st_mode)) return refuse(st.st_mode);
    return fd;
}

} // namespace triage
