// triage/elf/debuglink.hpp — the .gnu_debuglink section: the name of the
// separate debug file and the CRC-32 of that file's contents.
//
// Offers: `debuglink{file, crc32}`, `parse_debuglink(section bytes,
// big_endian)` (NUL-terminated name, padding to 4, then the CRC in the ELF
// file's byte order; errc::malformed when the bytes do not have that shape),
// `debuglink_crc32(bytes, crc)` (the CRC gdb and objcopy use: CRC-32/ISO-HDLC,
// as zlib's crc32; pass the previous value to continue over chunks) and
// `file_crc32(path)`, which reads the file in 64 KiB chunks (errors name the
// path). A debug file matches a debuglink when its name and CRC both match.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto link = file.gnu_debuglink();  // {"61f3...486.debug", 0x...}
//   bool matches = link && TRIAGE_TRY(triage::elf::file_crc32(candidate)) == link->crc32;
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/read_file.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage::elf {

struct debuglink {
    std::string file;  // a bare file name, e.g. "python3.11.debug"
    std::uint32_t crc32 = 0;
};

namespace detail {
inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}();
} // namespace detail

[[nodiscard]] constexpr std::uint32_t debuglink_crc32(std::span<const std::byte> bytes, std::uint32_t crc = 0) noexcept {
    crc = ~crc;
    for (std::byte b : bytes) crc = detail::crc32_table[(crc ^ std::to_integer<std::uint32_t>(b)) & 0xff] ^ (crc >> 8);
    return ~crc;
}

[[nodiscard]] TRIAGE_DECL result<std::uint32_t> file_crc32(const std::string& path);

[[nodiscard]] TRIAGE_DECL result<debuglink> parse_debuglink(std::span<const std::byte> section, bool big_endian);

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/debuglink.ipp"
#endif
