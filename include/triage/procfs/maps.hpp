// triage/procfs/maps.hpp — the memory mappings of a process (/proc/PID/maps).
//
// Offers: `mapping` (one line: range, permissions, offset, device, inode,
// path, and whether the file was deleted), `parse_maps(text)` for any maps
// text (also fuzzed) and `read_maps(pid)`. A malformed line is
// errc::malformed with its line number; a vanished process is
// errc::no_such_process.
// Thread-safe: yes. Signal-safe: no (allocates). Target process: reads a
// /proc file only; nothing is attached.
//
//   for (const auto& m : TRIAGE_TRY(triage::procfs::read_maps(pid)))
//       if (m.executable && m.path.ends_with("libpython3.11.so.1.0")) ...
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/read_file.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"

namespace triage::procfs {

struct mapping {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // one past the last byte
    bool readable = false;
    bool writable = false;
    bool executable = false;
    bool shared = false;  // 's' rather than 'p'
    std::uint64_t offset = 0;  // file offset of `start`
    std::uint32_t dev_major = 0;
    std::uint32_t dev_minor = 0;
    std::uint64_t inode = 0;
    std::string path;      // "" for anonymous memory; "[heap]", "[stack]", ... for special ones
    bool deleted = false;  // the kernel appended " (deleted)": the file was removed or replaced

    [[nodiscard]] std::uint64_t size() const noexcept { return end - start; }
    [[nodiscard]] bool contains(std::uint64_t address) const noexcept { return address >= start && address < end; }
    // Backed by a file (not anonymous, not [heap]/[stack]/[vdso]...).
    [[nodiscard]] bool is_file() const noexcept { return inode != 0 && !path.empty() && path.front() == '/'; }
};

namespace detail {
[[nodiscard]] TRIAGE_DECL result<mapping> parse_maps_line(std::string_view line, std::size_t line_number);
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<std::vector<mapping>> parse_maps(std::string_view text);

[[nodiscard]] TRIAGE_DECL result<std::vector<mapping>> read_maps(pid_t pid);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/maps.ipp"
#endif
