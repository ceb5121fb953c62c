// triage/elf/segment.hpp — a loadable segment (PT_LOAD program header).
//
// Offers: `segment{vaddr, memsz, offset, filesz, flags, align}` as in the
// program header (flags are PF_R/PF_W/PF_X). `elf::file::load_segments()`
// returns them; `load_bias()` (elf/load_bias.hpp) matches them to mappings.
// Thread-safe: yes (a value). Signal-safe: yes. Target process: none touched.
//
//   for (const triage::elf::segment& s : file.load_segments())
//       if (s.flags & PF_X) text_end = s.vaddr + s.memsz;
#pragma once

#include <cstdint>

namespace triage::elf {

struct segment {
    std::uint64_t vaddr = 0;   // p_vaddr
    std::uint64_t memsz = 0;   // p_memsz
    std::uint64_t offset = 0;  // p_offset
    std::uint64_t filesz = 0;  // p_filesz
    std::uint32_t flags = 0;   // p_flags
    std::uint64_t align = 0;   // p_align

    friend bool operator==(const segment&, const segment&) = default;
};

} // namespace triage::elf
