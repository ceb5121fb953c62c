// triage/elf/impl/build_id.ipp — the definitions of
// triage/elf/build_id.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/elf/build_id.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL std::optional<std::span<const std::byte>> find_build_id(std::span<const note> notes) {
    for (const note& n : notes) {
        if (n.type == NT_GNU_BUILD_ID && n.name == "GNU" && !n.desc.empty()) return n.desc;
    }
    return std::nullopt;
}

[[nodiscard]] TRIAGE_DECL std::string build_id_hex(std::span<const std::byte> id) {
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
