// triage/base/unique_fd.hpp — an owned file descriptor, and opening files.
//
// Offers: `unique_fd` (move-only, closes on destruction), `open_file(path,
// flags)` and `open_at(dirfd, name, flags)` returning result<unique_fd> with
// the path in the error ("not found opening /proc/12/maps");
// `open_regular_file(path)` for files a user names (a core, an executable):
// read-only, and only a regular file — a directory, FIFO, socket or device
// is refused by name ("it is a directory"), without being opened, so that
// a FIFO cannot block us and a device is never touched; `file_kind(mode)`
// names what a mode is ("a directory", "a FIFO", ...).
// Thread-safe: distinct objects yes. Signal-safe: the destructor is (close).
// Target process: none touched.
//
//   auto fd = TRIAGE_TRY(triage::open_file("/proc/self/stat"));
//   ::read(fd.get(), buf, sizeof buf);
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage {

class unique_fd {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_{fd} {}
    unique_fd(unique_fd&& other) noexcept : fd_{std::exchange(other.fd_, -1)} {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Opens `path` (O_CLOEXEC is always added). Errors name the path.
[[nodiscard]] TRIAGE_DECL result<unique_fd> open_file(const std::string& path, int flags = O_RDONLY);

// Opens `name` relative to the directory `dirfd`; `shown_path` is what the
// error message calls it.
[[nodiscard]] TRIAGE_DECL result<unique_fd> open_at(int dirfd, const char* name, const std::string& shown_path,
                                                    int flags = O_RDONLY);

// What a file of mode `mode` is, with its article: "a directory".
[[nodiscard]] constexpr std::string_view file_kind(mode_t mode) noexcept {
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symbolic link";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    }
    return "a special file";
}

// Opens a regular file for reading. Anything else is errc::invalid_argument
// ("reading /tmp: it is a directory, not a regular file"), refused before it
// is opened; a file swapped in between is refused after (O_NONBLOCK keeps a
// FIFO's open from waiting for a writer).
[[nodiscard]] TRIAGE_DECL result<unique_fd> open_regular_file(const std::string& path);

} // namespace triage

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/base/impl/unique_fd.ipp"
#endif
