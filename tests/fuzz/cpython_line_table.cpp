// Fuzzes the three CPython line-table decoders (co_lnotab, the 3.10
// co_linetable, the 3.11+ location table) on arbitrary bytes and offsets.
// Input: 4 bytes first line, 4 bytes offset, 1 byte of flags, then the table.
// Checks that nothing crashes or hangs and that the line-only and the full
// position decoders of the location table agree.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "triage/cpython/linetable_310.hpp"
#include "triage/cpython/lnotab.hpp"
#include "triage/cpython/location_table.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 9) return 0;
    std::int32_t first_line = 0;
    std::int32_t raw_offset = 0;
    std::memcpy(&first_line, data, 4);
    std::memcpy(&raw_offset, data + 4, 4);
    const std::uint8_t flags = data[8];
    const auto table = std::as_bytes(std::span(data + 9, size - 9));
    // Mostly offsets inside the table's range, sometimes anything at all.
    const std::int64_t offset =
        (flags & 1) != 0 ? std::int64_t{raw_offset}
                         : std::int64_t{raw_offset} % static_cast<std::int64_t>(4 * table.size() + 8) - 1;
    const auto deltas = (flags & 2) != 0 ? triage::cpython::lnotab_line_deltas::signed_bytes
                                         : triage::cpython::lnotab_line_deltas::unsigned_bytes;
    (void)triage::cpython::line_for_lnotab(table, first_line, offset, deltas);
    (void)triage::cpython::line_for_linetable_310(table, first_line, offset);
    const auto line = triage::cpython::line_for_location_table(table, first_line, offset);
    const auto position = triage::cpython::position_for_location_table(table, first_line, offset);
    if (position && line) {
        const bool same = position->has_value() == line->has_value() && (!*line || (*position)->line == **line);
        if (!same) __builtin_trap();
    }
    if (position && !line) __builtin_trap();  // a position implies its line decodes
    return 0;
}
