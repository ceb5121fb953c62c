// triage/cpython/impl/linetable_310.ipp — the definitions of
// triage/cpython/linetable_310.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/linetable_310.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<std::optional<int>> line_for_linetable_310(std::span<const std::byte> table,
                                                                             int first_line,
                                                                             std::int64_t instruction_index) {
    if (table.size() % 2 != 0) {
        return fail(errc::malformed, "decoding a 3.10 line table (co_linetable) of odd length " +
                                         std::to_string(table.size()));
    }
    if (instruction_index < 0) return first_line;
    // Offsets in the table are bytes; an instruction is one 2-byte code unit.
    // Past this bound the index cannot be inside any table we can hold.
    if (instruction_index > std::numeric_limits<std::int64_t>::max() / 2) return std::nullopt;
    const std::int64_t byte_offset = instruction_index * 2;
    std::int64_t end = 0;
    std::int64_t line = first_line;
    for (std::size_t i = 0; i + 1 < table.size(); i += 2) {
        end += std::to_integer<std::uint8_t>(table[i]);
        const auto line_delta = static_cast<std::int8_t>(std::to_integer<std::uint8_t>(table[i + 1]));
        const bool has_line = line_delta != -128;
        if (has_line) {
            line += line_delta;
            if (line > std::numeric_limits<int>::max() || line < std::numeric_limits<int>::min()) {
                return fail(errc::malformed, "decoding a 3.10 line table (co_linetable): line leaves int range "
                                             "at byte " + std::to_string(i));
            }
        }
        // Ranges before this one ended at or before the offset, so this is
        // the first range holding it; an empty range can never get here.
        if (end > byte_offset) {
            if (!has_line) return std::nullopt;
            return static_cast<int>(line);
        }
    }
    return std::nullopt;
}

} // namespace triage::cpython
