// triage/cpython/location_table.hpp — the source position of an instruction
// from a CPython 3.11+ location table (`co_linetable`, PEP 657 format; 3.11,
// 3.12 and 3.13 share it: the tests check each against co_positions()).
//
// Offers:
//  - `source_position{line, end_line, column, end_column}`: columns are
//    0-based UTF-8 byte offsets, absent when the table has none.
//  - `line_for_location_table(table, first_line, code_unit_index)`: the line
//    of the instruction at `code_unit_index` (2-byte code units from the
//    start of the bytecode: in 3.11/3.12 `frame->prev_instr - _PyCode_CODE(co)`,
//    in 3.13 `frame->instr_ptr - _PyCode_CODE(co)`), as PyCode_Addr2Line
//    computes it. Cheap: skips over the columns of every entry.
//  - `position_for_location_table(...)`: the same walk, plus end line and
//    columns of the entry holding the instruction, as co_positions() gives them.
// Both answer:
//  - a value for an instruction with a location;
//  - std::nullopt for an instruction whose entry says "no location"
//    (code 15) or one that lies past the end of the table;
//  - `first_line` for an index below zero (a frame that has not started),
//    as CPython does.
// The format: each entry starts with a byte 1cccclll (bit 7 set): code c,
// length l+1 code units. Codes 0–9: short form (same line, one byte of
// columns); 10–12: one-line form (line += c-10, then column and end-column
// bytes); 13: no columns (line += signed varint); 14: long form (signed
// varint line delta, varints end-line delta, column+1, end-column+1); 15: no
// location. Varints are little-endian 6-bit chunks, 0x40 = more follow;
// a signed varint keeps the sign in bit 0.
// Errors: errc::malformed when the table does not start an entry at its first
//    byte, a varint runs off the end of the table or past 36 bits, the
//    columns of the entry asked for are cut off, or a line leaves int range.
// Thread-safe and signal-safe: pure functions over the caller's bytes; no
// allocation on success. Target process: none touched.
//
//   auto line = TRIAGE_TRY(triage::cpython::line_for_location_table(
//       linetable_bytes, co_firstlineno, code_unit_index));
//   if (line) std::printf("line %d\n", *line);
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::cpython {

struct source_position {
    int line = 0;
    int end_line = 0;
    std::optional<int> column;
    std::optional<int> end_column;

    friend bool operator==(const source_position&, const source_position&) = default;
};

namespace detail::location_table {

inline constexpr int code_no_columns = 13;
inline constexpr int code_long = 14;
inline constexpr int code_no_location = 15;
inline constexpr int max_varint_chunks = 6;  // CPython writes 32-bit values: at most 6 chunks

[[nodiscard]] TRIAGE_DECL std::uint8_t byte_at(std::span<const std::byte> table, std::size_t at);

[[nodiscard]] TRIAGE_DECL result<std::uint64_t> read_varint(std::span<const std::byte> table, std::size_t& at);

[[nodiscard]] TRIAGE_DECL result<std::int64_t> read_signed_varint(std::span<const std::byte> table, std::size_t& at);

[[nodiscard]] TRIAGE_DECL result<int> to_line(std::int64_t line, std::size_t at);

// The entry that holds an instruction: where it starts, its code, its line.
struct entry {
    std::size_t start = 0;
    int code = 0;
    int line = 0;
};

// Walks entries from (0, first_line) to the one covering `index` (>= 0).
[[nodiscard]] TRIAGE_DECL result<std::optional<entry>> find_entry(std::span<const std::byte> table, int first_line,
                                                                  std::int64_t index);

} // namespace detail::location_table

[[nodiscard]] TRIAGE_DECL result<std::optional<int>> line_for_location_table(std::span<const std::byte> table,
                                                                              int first_line,
                                                                              std::int64_t code_unit_index);

[[nodiscard]] inline result<std::optional<source_position>>
position_for_location_table(std::span<const std::byte> table, int first_line, std::int64_t code_unit_index) {
    namespace lt = detail::location_table;
    if (code_unit_index < 0) return source_position{first_line, first_line, std::nullopt, std::nullopt};
    const auto found = TRIAGE_TRY(lt::find_entry(table, first_line, code_unit_index));
    if (!found || found->code == lt::code_no_location) return std::nullopt;
    source_position position{found->line, found->line, std::nullopt, std::nullopt};
    std::size_t at = found->start + 1;
    auto column_byte = [&]() -> result<int> {
        if (at >= table.size()) {
            return fail(errc::malformed, "decoding a location table (co_linetable): columns cut off at byte " +
                                             std::to_string(at));
        }
        return lt::byte_at(table, at++);
    };
    // A long-form column is stored plus one; zero means "no column".
    auto long_column = [&]() -> result<std::optional<int>> {
        const std::uint64_t stored = TRIAGE_TRY(lt::read_varint(table, at));
        if (stored == 0) return std::nullopt;
        if (stored - 1 > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
            return fail(errc::malformed, "decoding a location table (co_linetable): column out of int range at byte " +
                                             std::to_string(at));
        }
        return static_cast<int>(stored - 1);
    };
    switch (found->code) {
    case lt::code_no_columns: break;
    case lt::code_long: {
        TRIAGE_TRY(lt::read_signed_varint(table, at));  // the line delta, already applied
        const std::uint64_t end_line_delta = TRIAGE_TRY(lt::read_varint(table, at));
        position.end_line = TRIAGE_TRY(lt::to_line(std::int64_t{found->line} + static_cast<std::int64_t>(end_line_delta),
                                                   found->start));
        position.column = TRIAGE_TRY(long_column());
        position.end_column = TRIAGE_TRY(long_column());
        break;
    }
    case 10:
    case 11:
    case 12:
        position.column = TRIAGE_TRY(column_byte());
        position.end_column = TRIAGE_TRY(column_byte());
        break;
    default: {  // short forms 0–9: column group in the code, the rest in one byte
        const int packed = TRIAGE_TRY(column_byte());
        const int column = (found->code << 3) | (packed >> 4);
        position.column = column;
        position.end_column = column + (packed & 15);
        break;
    }
    }
    return position;
}

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/location_table.ipp"
#endif
