// triage/procfs/kept_file.hpp — a small /proc file of one thread kept open
// and read again from its start (pread): what a sampler reads every tick
// for every thread (schedstat, stat) costs one system call instead of
// three (openat, read, close): 7 µs instead of 33 µs for the pair here.
//
// Offers: `kept_file::open(dir, tid, name)` and `read(buffer)` → the whole
// file as a view of `buffer`. The kernel makes these files anew on each read
// from offset 0 (seq_file), so every read is current. The descriptor stays
// bound to the thread it was opened for: once that thread has exited, reads
// fail (no_such_process), even if its tid is reused.
// Errors: as proc_dir::read (no_such_process for a thread that is gone,
// permission_denied, truncated when the file does not fit in `buffer`).
// Thread-safe: yes (pread). Signal-safe: read is on success. Target
// process: reads /proc only.
//
//   auto schedstat = TRIAGE_TRY(triage::procfs::kept_file::open(dir, tid, "schedstat"));
//   char buf[128];
//   auto text = TRIAGE_TRY(schedstat.read(buf));  // again at every tick
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

class kept_file {
public:
    [[nodiscard]] static result<kept_file> open(const proc_dir& dir, pid_t tid, std::string_view name) {
        const detail::relative_path rel{tid, name};
        unique_fd fd{::openat(dir.fd(), rel.bytes, O_RDONLY | O_CLOEXEC)};
        if (!fd) return std::unexpected(detail::proc_error(errno, "opening " + dir.path(tid, name)));
        return kept_file{std::move(fd), dir.path(tid, name)};
    }

    [[nodiscard]] result<std::string_view> read(std::span<char> buffer) const {
        for (;;) {
            const ssize_t got = ::pread(fd_.get(), buffer.data(), buffer.size(), 0);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) return std::unexpected(detail::proc_error(errno, "reading " + path_));
            // An exited thread's files read empty.
            if (got == 0) return std::unexpected(detail::proc_error(ESRCH, "reading " + path_));
            if (static_cast<std::size_t>(got) == buffer.size()) {
                return fail(errc::truncated, "reading " + path_, "the file is larger than " + std::to_string(buffer.size()) + " bytes");
            }
            return std::string_view{buffer.data(), static_cast<std::size_t>(got)};
        }
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    kept_file(unique_fd fd, std::string path) noexcept : fd_{std::move(fd)}, path_{std::move(path)} {}
    unique_fd fd_;
    std::string path_;
};

} // namespace triage::procfs
