// triage/elf/note.hpp — ELF notes (NT_GNU_BUILD_ID, NT_PRSTATUS, NT_FILE, ...)
// parsed from the bytes of a PT_NOTE segment or an SHT_NOTE section.
//
// Offers: `note` (type, owner name, descriptor; views into the caller's
// bytes) and `parse_notes(bytes, alignment)`. The note headers must be in the
// host's byte order, as libelf delivers them (elf_getdata on an SHT_NOTE
// section, elf_getdata_rawchunk with ELF_T_NHDR/ELF_T_NHDR8). `alignment` is
// 4 for ordinary notes and 8 for 8-byte-aligned ones (GNU property notes,
// p_align/sh_addralign 8). Every size is checked against the buffer; the loop
// ends with the buffer (each note takes at least 12 bytes). A note that does
// not fit is errc::truncated with its offset.
// Thread-safe: yes (pure). Signal-safe: no (allocates).
// Target process: none touched.
//
//   for (const auto& n : TRIAGE_TRY(triage::elf::parse_notes(bytes, 4)))
//       if (n.name == "GNU" && n.type == NT_GNU_BUILD_ID) return n.desc;
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/result.hpp"

namespace triage::elf {

struct note {
    std::uint32_t type = 0;
    std::string_view name;          // owner, without the terminating NUL ("GNU", "CORE", "LINUX")
    std::span<const std::byte> desc;  // the descriptor
};

[[nodiscard]] inline result<std::vector<note>> parse_notes(std::span<const std::byte> data, std::size_t alignment) {
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
