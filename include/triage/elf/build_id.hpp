// triage/elf/build_id.hpp — GNU build-ids: finding one among notes, and
// writing it the way readelf, gdb and debuginfod do (lowercase hex).
//
// Offers: `find_build_id(notes)` (the descriptor of the first "GNU"
// NT_GNU_BUILD_ID note), `build_id_hex(bytes)`, and
// `build_id_in_image(read)`: the build-id of an ELF image read through
// `read(file offset, into) -> bytes read` (the mapping of a loaded object's
// first page in a live process or a core: what runs, not what is on disk;
// empty when it has none or the bytes are not there). A build-id names one
// link of one file: equal build-ids mean the same code and data layout.
// Thread-safe: yes (pure). Signal-safe: build_id_hex no (allocates).
// Target process: none touched.
//
//   auto notes = TRIAGE_TRY(triage::elf::parse_notes(bytes, 4));
//   if (auto id = triage::elf::find_build_id(notes))
//       std::cout << triage::elf::build_id_hex(*id) << '\n';  // "c561f3aa..."
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/elf/note.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL std::optional<std::span<const std::byte>> find_build_id(std::span<const note> notes);

[[nodiscard]] TRIAGE_DECL std::string build_id_hex(std::span<const std::byte> id);

// Bounded: 64 program headers, notes up to 64 KiB.
template <class Read>
[[nodiscard]] std::vector<std::byte> build_id_in_image(Read&& read) {
    Elf64_Ehdr eh;
    if (read(0, std::as_writable_bytes(std::span{&eh, 1})) != sizeof eh) return {};
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr))
        return {};
    for (unsigned i = 0; i < std::min<unsigned>(eh.e_phnum, 64); ++i) {
        Elf64_Phdr ph;
        if (read(eh.e_phoff + i * sizeof ph, std::as_writable_bytes(std::span{&ph, 1})) != sizeof ph) return {};
        if (ph.p_type != PT_NOTE || ph.p_filesz == 0 || ph.p_filesz > 65536) continue;
        std::vector<std::byte> bytes(ph.p_filesz);
        std::size_t got = read(ph.p_offset, bytes);
        auto notes = parse_notes(std::span{bytes}.first(got), ph.p_align == 8 ? 8 : 4);
        if (!notes) continue;
        if (auto id = find_build_id(*notes)) return {id->begin(), id->end()};
    }
    return {};
}

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/build_id.ipp"
#endif
