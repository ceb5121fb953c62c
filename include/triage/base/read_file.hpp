// triage/base/read_file.hpp — whole-file reads for small files (/proc, /sys).
//
// Offers: `read_fd(fd, buffer)` fills a caller's buffer without allocating
// (what hot loops over /proc use) and `read_file(path)` returns a std::string.
// Both read until end of file: /proc files report size 0, so they cannot be
// sized with stat. EINTR is retried.
// Thread-safe: yes. Signal-safe: read_fd is. Target process: none touched.
//
//   char buf[4096];
//   auto fd = TRIAGE_TRY(triage::open_file("/proc/self/stat"));
//   std::size_t n = TRIAGE_TRY(triage::read_fd(fd.get(), buf, "/proc/self/stat"));
#pragma once

#include <unistd.h>

#include <cerrno>
#include <span>
#include <string>
#include <string_view>

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage {

// Reads from the current offset until EOF or until `buffer` is full; returns
// the bytes read. `shown_path` names the file in errors.
[[nodiscard]] inline result<std::size_t> read_fd(int fd, std::span<char> buffer, std::string_view shown_path) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno(errno, "reading " + std::string{shown_path});
        }
        done += static_cast<std::size_t>(n);
    }
    return done;
}

// Reads a whole file of any size (grows the string as needed).
[[nodiscard]] inline result<std::string> read_file(const std::string& path) {
    unique_fd fd = TRIAGE_TRY(open_file(path));
    std::string out;
    std::size_t used = 0;
    out.resize(4096);
    for (;;) {
        std::size_t n = TRIAGE_TRY(read_fd(fd.get(), std::span{out.data() + used, out.size() - used}, path));
        used += n;
        if (used < out.size()) break;
        out.resize(out.size() * 2);
    }
    out.resize(used);
    return out;
}

} // namespace triage
