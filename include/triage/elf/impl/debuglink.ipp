// triage/elf/impl/debuglink.ipp — the definitions of
// triage/elf/debuglink.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/elf/debuglink.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL result<std::uint32_t> file_crc32(const std::string& path) {
    unique_fd fd = TRIAGE_TRY(open_file(path));
    std::array<char, 64 * 1024> chunk;
    std::uint32_t crc = 0;
    for (;;) {
        std::size_t n = TRIAGE_TRY(read_fd(fd.get(), chunk, path));
        crc = debuglink_crc32(std::as_bytes(std::span{chunk.data(), n}), crc);
        if (n < chunk.size()) break;
    }
    return crc;
}

[[nodiscard]] TRIAGE_DECL result<debuglink> parse_debuglink(std::span<const std::byte> section, bool big_endian) {
    if (section.empty()) return fail(errc::malformed, "parsing .gnu_debuglink (empty section)");
    const char* text = reinterpret_cast<const char*>(section.data());
    const void* nul = std::memchr(text, '\0', section.size());
    if (nul == nullptr || nul == text) return fail(errc::malformed, "parsing .gnu_debuglink (no file name)");
    std::size_t name_length = static_cast<std::size_t>(static_cast<const char*>(nul) - text);
    std::size_t crc_at = (name_length + 1 + 3) & ~std::size_t{3};
    if (crc_at > section.size() || section.size() - crc_at < 4) {
        return fail(errc::truncated, "parsing .gnu_debuglink (no CRC after the file name)");
    }
    std::uint32_t crc = 0;
    for (int i = 0; i < 4; ++i) {
        std::uint32_t byte = std::to_integer<std::uint32_t>(section[crc_at + static_cast<std::size_t>(i)]);
        crc |= byte << (big_endian ? 8 * (3 - i) : 8 * i);
    }
    return debuglink{std::string{text, name_length}, crc};
}

} // namespace triage::elf
