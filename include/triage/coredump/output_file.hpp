// triage/coredump/output_file.hpp — a file that appears under its name only
// when it is complete, is private, and never takes the place of anything
// that is not a core: the core writer's destination.
//
// Offers: `output_file::create(path, options)` checks the path, then opens
// an unnamed file (O_TMPFILE) in the destination's directory, or, where the
// file system has no O_TMPFILE, "PATH.partial-PID" (O_EXCL). The path must
// name a new file, or an existing regular file when `options.replace`; a
// directory ("DIR" or "DIR/"), a symbolic link (never followed, even with
// `replace`), a device, a FIFO or a socket is refused, as is a directory
// that does not exist. Then `write_at(offset, bytes)` (pwrite, whole or an
// error), `set_size(n)` (ftruncate: a sparse tail), `free_space()` (statvfs
// of the destination's file system, bytes available to us), `allocated()`
// (st_blocks × 512) and `size()`, and `commit()`, which gives the file its
// name: without `replace`, a link that cannot replace anything (linkat, or
// renameat2 RENAME_NOREPLACE); with it, once PATH is checked again to be a
// regular file, a link to a unique sibling name and a rename over PATH.
// Until commit the destructor discards the file. An unnamed file leaves
// nothing behind even when we are killed (SIGKILL); a named partial file is
// registered for `remove_partial_file()`, which is async-signal-safe, for a
// fatal-signal path.
// The file is private: mode 0600 whatever the umask (a core holds the
// process's keys and tokens), set before it has a name; replacing a file
// keeps its mode or narrows it, never widens it (its mode & 0600).
// Errors: errc::invalid_argument for a path that is refused (sys_errno says
// why: EISDIR, ELOOP for a link, EEXIST for an existing file without
// `replace`, ENODEV for a device, FIFO or socket, ENOTDIR), errc::not_found
// for a missing directory, errc::no_space (ENOSPC, EDQUOT), permission and
// other errno-based errors, all with the path in the context ("writing
// core.12 at offset 4096") and, for permissions, what to check on the
// directory.
// Thread-safe: distinct objects. Signal-safe: only remove_partial_file().
// Target process: none touched.
//
//   auto out = TRIAGE_TRY(triage::coredump::output_file::create("core.12"));
//   TRIAGE_TRY(out.write_at(0, header_bytes));
//   TRIAGE_TRY(out.set_size(total));
//   TRIAGE_TRY(out.commit());
#pragma once

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage::coredump {

struct output_options {
    bool replace = false;  // an existing regular file may be replaced (triage-gcore --force)
};

namespace detail {
// The named partial file of the output in progress, for a signal handler.
inline char partial_path[PATH_MAX]{};
inline std::atomic<bool> partial_registered{false};

inline constexpr mode_t private_mode = 0600;

// An error about the path itself, not about writing: EISDIR, ELOOP, ...
[[nodiscard]] TRIAGE_DECL std::unexpected<error> refuse_path(int why, const std::string& path, std::string hint);

// The advice for EACCES/EPERM on a file we create: about the directory, not about ptrace.
[[nodiscard]] TRIAGE_DECL std::string directory_hint(const std::string& directory);

// A failure to create a file in `directory`; permissions are about the directory.
[[nodiscard]] TRIAGE_DECL std::unexpected<error> creation_error(int e, std::string context, const std::string& directory);

// Whether `path` may be written, by what is there now: the mode the file
// must have (0600, or narrower to match an existing file it replaces).
[[nodiscard]] TRIAGE_DECL result<mode_t> check_destination(const std::string& path, const std::string& directory,
                                                           const output_options& options);
} // namespace detail

// Unlinks the named partial file of the output in progress, if any.
// Async-signal-safe (unlink and an atomic flag only).
TRIAGE_DECL void remove_partial_file() noexcept;

class output_file {
public:
    [[nodiscard]] static result<output_file> create(std::string path, output_options options = {}) {
        std::string directory = ".";
        if (auto slash = path.find_last_of('/', path.find_last_not_of('/')); slash != std::string::npos)
            directory = slash == 0 ? "/" : path.substr(0, slash);
        const mode_t mode = TRIAGE_TRY(detail::check_destination(path, directory, options));
        int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, detail::private_mode);
        if (fd >= 0) {
            output_file out{unique_fd{fd}, std::move(path), std::move(directory), {}, options};
            TRIAGE_TRY(out.set_mode(mode));
            return out;
        }
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            return detail::creation_error(errno, "creating a file in " + directory + " for " + path, directory);
        // No O_TMPFILE here: a named partial file, removed on every exit path.
        std::string partial = path + ".partial-" + std::to_string(::getpid());
        if (partial.size() >= PATH_MAX) return fail(errc::invalid_argument, "creating " + partial, "the path is too long");
        fd = ::open(partial.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, detail::private_mode);
        if (fd < 0) return detail::creation_error(errno, "creating " + partial, directory);
        std::memcpy(detail::partial_path, partial.c_str(), partial.size() + 1);
        detail::partial_registered.store(true);
        output_file out{unique_fd{fd}, std::move(path), std::move(directory), std::move(partial), options};
        TRIAGE_TRY(out.set_mode(mode));
        return out;
    }

    output_file(output_file&& other) noexcept
        : fd_{std::move(other.fd_)}, path_{std::move(other.path_)}, directory_{std::move(other.directory_)},
          partial_{std::move(other.partial_)}, options_{other.options_}, mode_{other.mode_},
          committed_{std::exchange(other.committed_, true)} {}
    output_file& operator=(output_file&&) = delete;
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;
    ~output_file() { discard(); }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    [[nodiscard]] result<void> write_at(std::uint64_t offset, std::span<const std::byte> bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::pwrite(fd_.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
            if (n < 0) {
                if (errno == EINTR) continue;
                return fail_errno(errno, "writing " + path_ + " at offset " + std::to_string(offset + done));
            }
            if (n == 0) return fail_errno(EIO, "writing " + path_ + " at offset " + std::to_string(offset + done));
            done += static_cast<std::size_t>(n);
        }
        return {};
    }

    [[nodiscard]] result<void> set_size(std::uint64_t size) {
        if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0)
            return fail_errno(errno, "extending " + path_ + " to " + std::to_string(size) + " bytes");
        return {};
    }

    // Bytes an unprivileged writer may still use on the destination's file system.
    [[nodiscard]] result<std::uint64_t> free_space() const {
        struct statvfs vfs{};
        if (::fstatvfs(fd_.get(), &vfs) != 0) return fail_errno(errno, "checking free space in " + directory_);
        return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    }

    [[nodiscard]] result<std::uint64_t> size() const { return TRIAGE_TRY(stat()).st_size; }
    [[nodiscard]] result<std::uint64_t> allocated() const {
        return static_cast<std::uint64_t>(TRIAGE_TRY(stat()).st_blocks) * 512;
    }

    [[nodiscard]] result<void> commit() {
        if (committed_) return fail(errc::invalid_argument, "committing " + path_ + " twice");
        if (options_.replace) {
            TRIAGE_TRY(recheck_replaced());
            TRIAGE_TRY(replace_path());
        } else {
            TRIAGE_TRY(link_new_path());
        }
        if (!partial_.empty()) detail::partial_registered.store(false);
        committed_ = true;
        return {};
    }

private:
    output_file(unique_fd fd, std::string path, std::string directory, std::string partial, output_options options)
        : fd_{std::move(fd)}, path_{std::move(path)}, directory_{std::move(directory)}, partial_{std::move(partial)},
          options_{options} {}

    [[nodiscard]] result<struct ::stat> stat() const {
        struct ::stat st{};
        if (::fstat(fd_.get(), &st) != 0) return fail_errno(errno, "checking " + path_);
        return st;
    }

    // Applied before the file has a name, so it never has a wider one.
    [[nodiscard]] result<void> set_mode(mode_t mode) {
        if (::fchmod(fd_.get(), mode) != 0) return fail_errno(errno, "making " + path_ + " private");
        mode_ = mode;
        return {};
    }

    // What is at PATH now must still be a regular file; the core takes the
    // narrower of the two modes.
    [[nodiscard]] result<void> recheck_replaced() {
        struct ::stat st{};
        if (::lstat(path_.c_str(), &st) != 0) {
            if (errno == ENOENT) return {};
            return fail_errno(errno, "checking " + path_ + " before replacing it");
        }
        if (!S_ISREG(st.st_mode))
            return detail::refuse_path(ENODEV, path_,
                                       "it became " + std::string{file_kind(st.st_mode)} + " while the core was written; not replaced");
        const mode_t narrower = mode_ & st.st_mode;
        if (narrower != mode_) TRIAGE_TRY(set_mode(narrower));
        return {};
    }

    // Gives the file the name PATH, which must not exist.
    [[nodiscard]] result<void> link_new_path() {
        int r = 0;
        if (partial_.empty()) {
            r = ::linkat(AT_FDCWD, self_path().c_str(), AT_FDCWD, path_.c_str(), AT_SYMLINK_FOLLOW);
        } else {
            r = ::renameat2(AT_FDCWD, partial_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE);
            if (r != 0 && errno == EINVAL) {  // no RENAME_NOREPLACE on this file system: link, which never replaces
                r = ::link(partial_.c_str(), path_.c_str());
                if (r == 0) ::unlink(partial_.c_str());
            }
        }
        if (r == 0) return {};
        if (errno == EEXIST)
            return detail::refuse_path(EEXIST, path_, "something was created under that name while the core was written; not replaced");
        return fail_errno(errno, "naming the finished core " + path_);
    }

    // Renames the file over PATH, through a sibling name of our own.
    [[nodiscard]] result<void> replace_path() {
        std::string sibling = partial_;
        for (int attempt = 0; sibling.empty(); ++attempt) {
            std::string name = path_ + ".new-" + std::to_string(::getpid()) + "-" + std::to_string(attempt);
            if (::linkat(AT_FDCWD, self_path().c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0) {
                sibling = std::move(name);
            } else if (errno != EEXIST || attempt == 99) {
                return fail_errno(errno, "naming the finished core " + name);
            }
        }
        if (::rename(sibling.c_str(), path_.c_str()) != 0) {
            int e = errno;
            ::unlink(sibling.c_str());
            return fail_errno(e, "renaming the finished core to " + path_);
        }
        return {};
    }

    [[nodiscard]] std::string self_path() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }

    void discard() noexcept {
        if (committed_) return;
        committed_ = true;
        if (!partial_.empty()) {
            detail::partial_registered.store(false);
            ::unlink(partial_.c_str());
        }
        fd_.reset();
    }

    unique_fd fd_;
    std::string path_;
    std::string directory_;
    std::string partial_;  // empty for an unnamed (O_TMPFILE) file
    output_options options_;
    mode_t mode_ = detail::private_mode;
    bool committed_ = false;
};

} // namespace triage::coredump

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/coredump/impl/output_file.ipp"
#endif
