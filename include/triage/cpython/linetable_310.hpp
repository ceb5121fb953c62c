// triage/cpython/linetable_310.hpp — the line of an instruction from a
// CPython 3.10 `co_linetable` (the PEP 626 format of 3.10 only).
//
// Offers:
//  - `line_for_linetable_310(table, first_line, instruction_index)`: the
//    source line of the instruction at `instruction_index`, counted in 2-byte
//    code units (3.10's f_lasti counts instructions, not bytes). The table is
//    a sequence of (byte-length: unsigned byte, line-delta: signed byte)
//    pairs starting at (0, co_firstlineno); a line delta of -128 means "these
//    bytes have no line" and leaves the running line unchanged. The answer is
//    the line of the first non-empty range that contains the instruction, as
//    CPython's PyCode_Addr2Line computes it:
//      - a value: that line;
//      - std::nullopt: the instruction has no line (an artificial instruction)
//        or lies past the end of the table;
//      - an index below zero (f_lasti == -1, frame not started): `first_line`.
// Errors: errc::malformed for a table of odd length (every real table holds
//    whole pairs) or one that drives the line out of int range.
// Thread-safe and signal-safe: a pure function over the caller's bytes; no
// allocation on success. Target process: none touched.
//
//   auto line = TRIAGE_TRY(triage::cpython::line_for_linetable_310(
//       linetable_bytes, co_firstlineno, f_lasti));
//   if (line) std::printf("line %d\n", *line);
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "triage/base/result.hpp"

namespace triage::cpython {

[[nodiscard]] inline result<std::optional<int>> line_for_linetable_310(std::span<const std::byte> table,
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
