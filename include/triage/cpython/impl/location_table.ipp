// triage/cpython/impl/location_table.ipp — the definitions of
// triage/cpython/location_table.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/location_table.hpp"

namespace triage::cpython::detail::location_table {

[[nodiscard]] TRIAGE_DECL std::uint8_t byte_at(std::span<const std::byte> table, std::size_t at) {
    return std::to_integer<std::uint8_t>(table[at]);
}

[[nodiscard]] TRIAGE_DECL result<std::uint64_t> read_varint(std::span<const std::byte> table, std::size_t& at) {
    std::uint64_t value = 0;
    for (int chunk = 0; chunk < max_varint_chunks; ++chunk) {
        if (at >= table.size()) {
            return fail(errc::malformed, "decoding a location table (co_linetable): varint runs past the end at byte " +
                                             std::to_string(at));
        }
        const std::uint8_t b = byte_at(table, at++);
        value |= std::uint64_t{b & 63u} << (6 * chunk);
        if ((b & 64u) == 0) return value;
    }
    return fail(errc::malformed, "decoding a location table (co_linetable): varint longer than " +
                                     std::to_string(max_varint_chunks) + " bytes ending at byte " +
                                     std::to_string(at));
}

[[nodiscard]] TRIAGE_DECL result<std::int64_t> read_signed_varint(std::span<const std::byte> table, std::size_t& at) {
    const std::uint64_t raw = TRIAGE_TRY(read_varint(table, at));
    const auto magnitude = static_cast<std::int64_t>(raw >> 1);
    return (raw & 1) != 0 ? -magnitude : magnitude;
}

[[nodiscard]] TRIAGE_DECL result<int> to_line(std::int64_t line, std::size_t at) {
    if (line > std::numeric_limits<int>::max() || line < std::numeric_limits<int>::min()) {
        return fail(errc::malformed, "decoding a location table (co_linetable): line leaves int range at byte " +
                                         std::to_string(at));
    }
    return static_cast<int>(line);
}

[[nodiscard]] TRIAGE_DECL result<std::optional<entry>> find_entry(std::span<const std::byte> table, int first_line,
                                                                  std::int64_t index) {
    if (table.empty()) return std::nullopt;
    if ((byte_at(table, 0) & 0x80u) == 0) {
        return fail(errc::malformed, "decoding a location table (co_linetable): first byte does not start an entry");
    }
    std::int64_t end = 0;
    std::int64_t line = first_line;
    std::size_t at = 0;
    while (at < table.size()) {
        const std::size_t start = at;
        const std::uint8_t first = byte_at(table, at);
        const int code = (first >> 3) & 15;
        if (code == code_no_columns || code == code_long) {
            std::size_t operand = at + 1;
            line += TRIAGE_TRY(read_signed_varint(table, operand));
        } else if (code >= 10 && code <= 12) {
            line += code - 10;
        }
        if (line > std::numeric_limits<int>::max() || line < std::numeric_limits<int>::min()) {
            return fail(to_line(line, start).error());
        }
        end += (first & 7) + 1;
        if (end > index) return entry{start, code, static_cast<int>(line)};
        ++at;
        while (at < table.size() && (byte_at(table, at) & 0x80u) == 0) ++at;
    }
    return std::nullopt;
}

} // namespace triage::cpython::detail::location_table

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<std::optional<int>> line_for_location_table(std::span<const std::byte> table,
                                                                              int first_line,
                                                                              std::int64_t code_unit_index) {
    namespace lt = detail::location_table;
    if (code_unit_index < 0) return first_line;
    const auto found = TRIAGE_TRY(lt::find_entry(table, first_line, code_unit_index));
    if (!found || found->code == lt::code_no_location) return std::nullopt;
    return found->line;
}

} // namespace triage::cpython
