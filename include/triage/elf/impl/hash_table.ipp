// triage/elf/impl/hash_table.ipp — the definitions of
// triage/elf/hash_table.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/elf/hash_table.hpp"

namespace triage::elf::detail {

[[nodiscard]] TRIAGE_DECL bool table_word(std::span<const std::byte> table, std::size_t i, std::uint32_t& out) noexcept {
    if (i >= table.size() / 4) return false;
    std::memcpy(&out, table.data() + i * 4, 4);
    return true;
}

} // namespace triage::elf::detail
