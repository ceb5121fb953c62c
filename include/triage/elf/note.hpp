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

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::elf {

struct note {
    std::uint32_t type = 0;
    std::string_view name;          // owner, without the terminating NUL ("GNU", "CORE", "LINUX")
    std::span<const std::byte> desc;  // the descriptor
};

[[nodiscard]] TRIAGE_DECL result<std::vector<note>> parse_notes(std::span<const std::byte> data, std::size_t alignment);

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/note.ipp"
#endif
