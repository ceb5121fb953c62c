// triage/coredump/impl/output_file.ipp — the definitions of
// triage/coredump/output_file.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/coredump/output_file.hpp"

namespace triage::coredump::detail {

[[nodiscard]] TRIAGE_DECL std::unexpected<error> refuse_path(int why, const std::string& path, std::string hint) {
    return fail(error{errc::invalid_argument, why, "writing a core to " + path, std::move(hint)});
}

[[nodiscard]] TRIAGE_DECL std::string directory_hint(const std::string& directory) {
    return "check that " + directory + " is writable by this user (its mode, owner, and attributes such as immutable)";
}

[[nodiscard]] TRIAGE_DECL std::unexpected<error> creation_error(int e, std::string context, const std::string& directory) {
    if (e == EACCES || e == EPERM) return fail_errno(e, std::move(context), directory_hint(directory));
    return fail_errno(e, std::move(context));
}

[[nodiscard]] TRIAGE_DECL result<mode_t> check_destination(const std::string& path, const std::string& directory,
                                                           const output_options& options) {
    if (path.empty()) return fail(errc::invalid_argument, "writing a core file", "the file name is empty");
    std::string bare = path;
    while (bare.size() > 1 && bare.back() == '/') bare.pop_back();
    struct ::stat st{};
    if (bare != path) {
        if (::stat(bare.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            return refuse_path(EISDIR, path, "it is a directory; name a file inside it");
        return refuse_path(EISDIR, path, "a name ending in '/' is a directory; name a file");
    }
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) return creation_error(errno, "checking " + path, directory);
        struct ::stat dir{};
        if (::stat(directory.c_str(), &dir) != 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                return fail(errc::not_found, "writing a core to " + path, "the directory " + directory + " does not exist");
            return fail_errno(errno, "checking the directory " + directory + " for " + path, directory_hint(directory));
        }
        if (!S_ISDIR(dir.st_mode))
            return refuse_path(ENOTDIR, path, directory + " is " + std::string{file_kind(dir.st_mode)} + ", not a directory");
        return private_mode;
    }
    if (S_ISDIR(st.st_mode)) return refuse_path(EISDIR, path, "it is a directory; name a file inside it");
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX]{};
        ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
        std::string to = n > 0 ? " to " + std::string(target, static_cast<std::size_t>(n)) : std::string{};
        return refuse_path(ELOOP, path, "it is a symbolic link" + to + "; a core is never written through a link: name the file itself");
    }
    if (!S_ISREG(st.st_mode))
        return refuse_path(ENODEV, path,
                           "it is " + std::string{file_kind(st.st_mode)} + "; a core is written only to a new file or over a regular file");
    if (!options.replace) return refuse_path(EEXIST, path, "it already exists; choose a new name, or ask for it to be replaced");
    return static_cast<mode_t>(st.st_mode & private_mode);
}

} // namespace triage::coredump::detail

namespace triage::coredump {

TRIAGE_DECL void remove_partial_file() noexcept {
    if (detail::partial_registered.exchange(false)) ::unlink(detail::partial_path);
}

} // namespace triage::coredump
