// triage/elf/impl/note.ipp — the definitions of
// triage/elf/note.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/elf/note.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL result<std::vector<note>> parse_notes(std::span<const std::byte> data, std::size_t alignment) {
    if (alignment != 4 && alignment != 8) {
        return fail(errc::invalid_argument, "parsing notes with alignment " + std::to_string(alignment));
    }
    const std::size_t mask = alignment - 1;
    auto align_up = [&](std::size_t n) { return n > SIZE_MAX - mask ? SIZE_MAX : (n + mask) & ~mask; };
    std::vector<note> out;
    std::size_t offset = 0;
    while (offset < data.size()) {
        auto truncated = [&] {
            return fail(errc::truncated, "parsing the note at offset " + std::to_string(offset) + " of " +
                                             std::to_string(data.size()) + " bytes");
        };
        std::uint32_t header[3];
        if (data.size() - offset < sizeof header) return truncated();
        std::memcpy(header, data.data() + offset, sizeof header);
        const std::size_t name_size = header[0];
        const std::size_t desc_size = header[1];
        std::size_t at = offset + sizeof header;
        if (name_size > data.size() - at) return truncated();
        std::string_view name{reinterpret_cast<const char*>(data.data() + at), name_size};
        // The stored name includes its NUL; tolerate producers that leave it out.
        if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
        // 4-byte notes pad the name to 4; 8-byte notes put the descriptor at an
        // 8-byte boundary (as gelf_getnote does for ELF_T_NHDR8).
        at = alignment == 8 ? align_up(at + name_size) : ((at + name_size + 3) & ~std::size_t{3});
        if (at > data.size() || desc_size > data.size() - at) return truncated();
        out.push_back(note{header[2], name, data.subspan(at, desc_size)});
        offset = align_up(at + desc_size);
    }
    return out;
}

} // namespace triage::elf
