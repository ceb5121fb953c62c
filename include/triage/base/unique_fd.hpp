// triage/base/unique_fd.hpp — an owned file descriptor, and opening files.
//
// Offers: `unique_fd` (move-only, closes on destruction), `open_file(path,
// flags)` and `open_at(dirfd, name, flags)` returning result<unique_fd> with
// the path in the error ("not found opening /proc/12/maps").
// Thread-safe: distinct objects yes. Signal-safe: the destructor is (close).
// Target process: none touched.
//
//   auto fd = TRIAGE_TRY(triage::open_file("/proc/self/stat"));
//   ::read(fd.get(), buf, sizeof buf);
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <utility>

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
[[nodiscard]] inline result<unique_fd> open_file(const std::string& path, int flags = O_RDONLY) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, "opening " + path);
    return unique_fd{fd};
}

// Opens `name` relative to the directory `dirfd`; `shown_path` is what the
// error message calls it.
[[nodiscard]] inline result<unique_fd> open_at(int dirfd, const char* name, const std::string& shown_path,
                                               int flags = O_RDONLY) {
    int fd = ::openat(dirfd, name, flags | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, "opening " + shown_path);
    return unique_fd{fd};
}

} // namespace triage
