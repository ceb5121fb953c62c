// triage/coredump/output_file.hpp — a file that appears under its name only
// when it is complete: the core writer's destination.
//
// Offers: `output_file::create(path)` opens an unnamed file (O_TMPFILE) in
// the destination's directory, or, where the file system has no O_TMPFILE,
// "PATH.partial-PID" (O_EXCL); `write_at(offset, bytes)` (pwrite, whole or an
// error), `set_size(n)` (ftruncate: a sparse tail), `free_space()` (statvfs
// of the destination's file system, bytes available to us), `allocated()`
// (st_blocks × 512) and `size()`, and `commit()`, which gives the file its
// name: linkat to a unique sibling name, then rename over PATH (atomic; an
// existing PATH is replaced). Until commit the destructor discards the file.
// An unnamed file leaves nothing behind even when we are killed (SIGKILL);
// a named partial file is registered for `remove_partial_file()`, which is
// async-signal-safe, for a fatal-signal path.
// Errors: errc::no_space (ENOSPC, EDQUOT) and other errno-based errors, all
// with the path in the context ("writing core.12 at offset 4096").
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

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage::coredump {

namespace detail {
// The named partial file of the output in progress, for a signal handler.
inline char partial_path[PATH_MAX]{};
inline std::atomic<bool> partial_registered{false};
} // namespace detail

// Unlinks the named partial file of the output in progress, if any.
// Async-signal-safe (unlink and an atomic flag only).
inline void remove_partial_file() noexcept {
    if (detail::partial_registered.exchange(false)) ::unlink(detail::partial_path);
}

class output_file {
public:
    [[nodiscard]] static result<output_file> create(std::string path) {
        if (path.empty()) return fail(errc::invalid_argument, "creating a core file with an empty name");
        std::string directory = ".";
        if (auto slash = path.rfind('/'); slash != std::string::npos) directory = slash == 0 ? "/" : path.substr(0, slash);
        int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (fd >= 0) return output_file{unique_fd{fd}, std::move(path), std::move(directory), {}};
        int e = errno;
        if (e != EOPNOTSUPP && e != EISDIR && e != EINVAL)
            return fail_errno(e, "creating a file in " + directory + " for " + path);
        // No O_TMPFILE here: a named partial file, removed on every exit path.
        std::string partial = path + ".partial-" + std::to_string(::getpid());
        if (partial.size() >= PATH_MAX) return fail(errc::invalid_argument, "creating " + partial, "the path is too long");
        fd = ::open(partial.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644);
        if (fd < 0) return fail_errno(errno, "creating " + partial);
        std::memcpy(detail::partial_path, partial.c_str(), partial.size() + 1);
        detail::partial_registered.store(true);
        return output_file{unique_fd{fd}, std::move(path), std::move(directory), std::move(partial)};
    }

    output_file(output_file&& other) noexcept
        : fd_{std::move(other.fd_)}, path_{std::move(other.path_)}, directory_{std::move(other.directory_)},
          partial_{std::move(other.partial_)}, committed_{std::exchange(other.committed_, true)} {}
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
        std::string sibling = path_ + ".new-" + std::to_string(::getpid());
        if (partial_.empty()) {
            std::string self = "/proc/self/fd/" + std::to_string(fd_.get());
            ::unlink(sibling.c_str());  // a leftover from a killed run of the same pid
            if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, sibling.c_str(), AT_SYMLINK_FOLLOW) != 0)
                return fail_errno(errno, "naming the finished core " + sibling);
        } else {
            sibling = partial_;
        }
        if (::rename(sibling.c_str(), path_.c_str()) != 0) {
            int e = errno;
            ::unlink(sibling.c_str());
            return fail_errno(e, "renaming the finished core to " + path_);
        }
        if (!partial_.empty()) detail::partial_registered.store(false);
        committed_ = true;
        return {};
    }

private:
    output_file(unique_fd fd, std::string path, std::string directory, std::string partial)
        : fd_{std::move(fd)}, path_{std::move(path)}, directory_{std::move(directory)}, partial_{std::move(partial)} {}

    [[nodiscard]] result<struct ::stat> stat() const {
        struct ::stat st{};
        if (::fstat(fd_.get(), &st) != 0) return fail_errno(errno, "checking " + path_);
        return st;
    }

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
    bool committed_ = false;
};

} // namespace triage::coredump
