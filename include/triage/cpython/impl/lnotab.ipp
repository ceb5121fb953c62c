// triage/cpython/impl/lnotab.ipp — the definitions of
// triage/cpython/lnotab.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/lnotab.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<int> line_for_lnotab(std::span<const std::byte> table, int first_line,
                                                      std::int64_t byte_offset, lnotab_line_deltas deltas) {
    std::int64_t address = 0;
    std::int64_t line = first_line;
    const std::size_t pairs = table.size() / 2;
    for (std::size_t i = 0; i < pairs; ++i) {
        address += std::to_integer<std::uint8_t>(table[2 * i]);
        if (address > byte_offset) break;
        const auto raw = std::to_integer<std::uint8_t>(table[2 * i + 1]);
        line += deltas == lnotab_line_deltas::signed_bytes ? static_cast<std::int8_t>(raw) : raw;
        if (line > std::numeric_limits<int>::max() || line < std::numeric_limits<int>::min()) {
            return fail(errc::malformed, "decoding a line number table (co_lnotab): line leaves int range at pair " +
                                             std::to_string(i));
        }
    }
    return static_cast<int>(line);
}

} // namespace triage::cpython
