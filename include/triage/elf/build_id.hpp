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

#include "triage/elf/note.hpp"

namespace triage::elf {

[[nodiscard]] inline std::optional<std::span<const std::byte>> find_build_id(std::span<const note> notes) {
    for (const note& n : notes) {
        if (n.type == NT_GNU_BUILD_ID && n.name == "GNU" && !n.desc.empty()) return n.desc;
    }
    return std::nullopt;
}

[[nodiscard]] inline std::string build_id_hex(std::span<const std::byte> id) {
    constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(id.size() * 2);
    for (std::byte b : id) {
        out += digits[std::to_integer<unsigned>(b) >> 4];
        out += digits[std::to_integer<unsigned>(b) & 0xf];
    }
    return out;
}

} // namespace triage::elf
