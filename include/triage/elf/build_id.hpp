// triage/elf/build_id.hpp — GNU build-ids: finding one among notes, and
// writing it the way readelf, gdb and debuginfod do (lowercase hex).
//
// Offers: `find_build_id(notes)` (the descriptor of the first "GNU"
// NT_GNU_BUILD_ID note) and `build_id_hex(bytes)`. A build-id names one
// link of one file: equal build-ids mean the same code and data layout.
// Thread-safe: yes (pure). Signal-safe: build_id_hex no (allocates).
// Target process: none touched.
//
//   auto notes = TRIAGE_TRY(triage::elf::parse_notes(bytes, 4));
//   if (auto id = triage::elf::find_build_id(notes))
//       std::cout << triage::elf::build_id_hex(*id) << '\n';  // "c561f3aa..."
#pragma once

#include <elf.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/elf/note.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL std::optional<std::span<const std::byte>> find_build_id(std::span<const note> notes);

[[nodiscard]] TRIAGE_DECL std::string build_id_hex(std::span<const std::byte> id);

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/build_id.ipp"
#endif
