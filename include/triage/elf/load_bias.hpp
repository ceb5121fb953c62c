// triage/elf/load_bias.hpp — where a mapped ELF object was placed: the load
// bias, from its mappings (/proc/PID/maps or a core's NT_FILE) and its PT_LOAD
// segments.
//
// Offers: `load_bias(mappings, segments, page_size)`: runtime address = file
// address (p_vaddr, st_value, sh_addr) + bias, modulo 2^64.
//
// The rule, exact whatever the order, number or offsets of the mappings:
//  - a loader maps segment s at page_down(s.vaddr) + bias from file offset
//    s.offset - (s.vaddr mod page) (the kernel's rule; glibc's
//    page_down(s.offset) is the same number for every file it accepts);
//  - so a mapping m of this file that begins segment s (m.offset equals that
//    file offset) gives the candidate bias m.start - page_down(s.vaddr), that
//    is m.start - (p_vaddr - (p_offset - m.offset)), page-aligned;
//  - a candidate B "places" a mapping m when m.start - m.offset == B +
//    page_down(s.vaddr) - (s.offset - s.vaddr mod page) for some segment s:
//    m lies where s (or a later part of it, after mprotect split it, or a
//    hole glibc left as a PROT_NONE view of the file) belongs;
//  - the bias is the candidate that places the most mappings; ties go to the
//    candidate from the lowest mapping, then the first segment.
// So a RELRO mapping that shares a file page with the read-only segment, or a
// data mmap of the same file elsewhere, cannot pull the bias off. No
// candidate (no mapping begins any segment) is std::nullopt. The work is
// bounded: mappings x segments candidates, each scored in mappings x segments,
// over at most the first `load_bias_limit` of each (real objects have fewer
// than 16; the limit only guards against hostile cores and files).
// Thread-safe: yes (pure). Signal-safe: yes. Target process: none touched.
//
//   auto bias = triage::elf::load_bias(object.mappings, file.load_segments(), 4096);
//   std::uint64_t runtime = symbol.value + *bias;
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "triage/base/config.hpp"
#include "triage/elf/segment.hpp"
#include "triage/procfs/maps.hpp"

namespace triage::elf {

inline constexpr std::size_t load_bias_limit = 64;

[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> load_bias(std::span<const procfs::mapping> mappings,
                                                                 std::span<const segment> segments,
                                                                 std::uint64_t page_size);

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/load_bias.ipp"
#endif
