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

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage {

// Reads from the current offset until EOF or until `buffer` is full; returns
// the bytes read. `shown_path` names the file in errors.
[[nodiscard]] TRIAGE_DECL result<std::size_t> read_fd(int fd, std::span<char> buffer, std::string_view shown_path);

// Reads a whole file of any size (grows the string as needed).
[[nodiscard]] TRIAGE_DECL result<std::string> read_file(const std::string& path);

} // namespace triage

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/base/impl/read_file.ipp"
#endif
