// triage/elf/line_table.hpp — file:line of a code address from an ELF file's
// DWARF line table (.debug_line), read by us: only .debug_line is
// decompressed (with .debug_aranges, and .debug_line_str / .debug_str when a
// header points into them), where libdw decompresses every .debug_* section
// of the file first (python3.11's debug file: 3.4 MB instead of 25 MB).
//
// Offers `line_table`:
//  - `read(file)`: every line-number program of the file's .debug_line (or
//    .zdebug_line), DWARF 2 to 5, 32- and 64-bit; SHF_COMPRESSED sections
//    are decompressed through libelf (elf_compress), in `file`'s libelf state
//    (spans f.section_data gave for them before become invalid);
//  - `parse(debug_line, line_str, str, format, aranges)`: the same on bytes,
//    the pure core read() calls (what the tests and the fuzzer feed);
//  - `find(file_address)` → `source_line` {file, line, column}: what libdw's
//    dwfl_module_getsrc + dwfl_lineinfo (0.188) give for that address.
// libdw's rules, kept here: the unit that answers is the one whose compile
// unit's .debug_aranges entry starts last at or below the address. Within a
// unit, rows are sorted by address, an end of sequence before other rows at
// its address, else in program order, and the unit's last row counts as an
// end of sequence; the answer is the last row at or below the address,
// unless that row ends a sequence. So of rows tied at one address the last
// one the program emitted answers, an address where one sequence ends and
// another starts belongs to the one starting, and a row at the very address
// where its sequence ends answers up to the unit's next row. File names are
// built as libdw builds them: the name when absolute, else its directory,
// '/', the name; DWARF 5 directory 0 is the compilation directory; DWARF 2-4
// file 0 is "???".
// Known differences from libdw: (1) a DWARF 2-4 file in directory 0 is named
// relative ("lines.c"), where libdw puts DW_AT_comp_dir (in .debug_info,
// not read) in front; (2) which line unit a compile unit uses is in
// .debug_info too: each is matched to the unit with most sequences starting
// within its .debug_aranges entries (right for compilers' output; code
// discarded at address 0 is ambiguous); without a readable .debug_aranges,
// libdw 0.188 gives no line at all, and here the unit whose sequence starts
// last at or below the address answers; (3) units libdw rejects for a
// register out of its range (a column over 65535) are kept, and a unit whose
// row names a file beyond its table is rejected (libdw keeps it and names no
// file for that row); (4) extended opcode lengths are ULEB128 (libdw reads
// one byte). Addresses are file (link-time) addresses: subtract the load
// bias. ET_REL objects (.o) are refused: their addresses need relocating.
// Errors: errc::not_found without .debug_line (or with SHT_NOBITS: read the
// separate debug file, or libdw); errc::unsupported for ET_REL, compression
// other than zlib, and per unit a DWARF version outside 2-5 or an entry form
// not read (DW_FORM_strx...); errc::malformed per unit for bytes that do not
// parse (truncated, a length past the end, LEB128 over 64 bits, an index out
// of range, a header whose tables disagree with its header_length);
// errc::limit_exceeded for a file name over 4096 bytes or names beyond a
// budget proportional to the input. A unit that fails is skipped and the
// others kept (`skipped_units()`); when every unit fails, the first one's
// error is returned. Hostile input is safe: every read is bounds-checked,
// every loop consumes input, memory is proportional to the input.
// Thread-safe: `find` yes (const, no cache); `read` changes `file`'s libelf
// state (not alongside other users of that file). Signal-safe: no.
// Target process: none touched (reads files).
//
//   auto debug = TRIAGE_TRY(triage::elf::file::open(debug_path));
//   auto lines = TRIAGE_TRY(triage::elf::line_table::read(debug));
//   if (auto at = lines.find(pc - load_bias))
//       std::cout << at->file << ':' << at->line << '\n';  // "../Python/ceval.c:1234"
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/error.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/file.hpp"

namespace triage::elf {

// A row of the line table: `file` lives as long as the line_table.
struct source_line {
    std::string_view file;
    int line = 0;
    int column = 0;  // 0: unknown

    friend bool operator==(const source_line&, const source_line&) = default;
};

// What the bytes of .debug_line mean on the file's machine.
struct line_table_format {
    unsigned address_size = 8;  // DW_LNE_set_address and the v5 header: 8 for ELFCLASS64, 4 for ELFCLASS32
    bool big_endian = false;
};

// A unit of .debug_line left out of the table, and why.
struct skipped_line_unit {
    std::uint64_t offset = 0;  // of its unit_length field in .debug_line
    error reason;
};

namespace detail {
class line_strings;
class line_table_builder;
} // namespace detail

class line_table {
public:
    // The line table of `f` (a binary or library with DWARF, or its debug file).
    [[nodiscard]] TRIAGE_DECL static result<line_table> read(const file& f);

    // The line table in `debug_line`; `line_str` and `str` are .debug_line_str
    // and .debug_str (needed only by units whose header uses their forms),
    // `aranges` is .debug_aranges (which unit answers where; optional).
    [[nodiscard]] TRIAGE_DECL static result<line_table> parse(std::span<const std::byte> debug_line,
                                                              std::span<const std::byte> line_str = {},
                                                              std::span<const std::byte> str = {},
                                                              line_table_format format = {},
                                                              std::span<const std::byte> aranges = {});

    // The source line of the code at `file_address`, as libdw gives it.
    [[nodiscard]] TRIAGE_DECL std::optional<source_line> find(std::uint64_t file_address) const;

    // The table as bytes, to keep it across runs (line_cache.hpp): in this
    // machine's byte order, tagged with the format's version.
    [[nodiscard]] TRIAGE_DECL std::string serialize() const;
    // A table serialize() wrote. Every count, index and order find() relies
    // on is checked, so that any bytes are safe: errc::malformed when they
    // are not such a table (another version, byte order, truncated, edited).
    [[nodiscard]] TRIAGE_DECL static result<line_table> deserialize(std::span<const std::byte> bytes);

    // Units parsed, and rows a lookup can return (rows hidden by a later row
    // at the same address are not kept).
    [[nodiscard]] std::size_t unit_count() const noexcept { return units_; }
    [[nodiscard]] std::size_t row_count() const noexcept { return rows_; }
    // The first 64 units left out, and how many were.
    [[nodiscard]] std::span<const skipped_line_unit> skipped_units() const noexcept { return skipped_; }
    [[nodiscard]] std::size_t skipped_unit_count() const noexcept { return skipped_count_; }

private:
    friend class detail::line_table_builder;

    // Rows are kept compactly: a block holds the first of up to 16 rows of a
    // range; the others follow in stream_ from `offset` as LEB128 deltas:
    // address (ULEB, > 0), line (SLEB), column (ULEB), file (ULEB: 0 for the
    // same file, else its index + 1).
    struct block {
        std::uint64_t address = 0;
        std::uint32_t offset = 0;
        std::uint32_t file = 0;  // index into files_
        std::int32_t line = 0;
        std::uint32_t column = 0;
    };
    // Addresses [start, end) answered by blocks [first_block, end_block).
    struct range {
        std::uint64_t start = 0;
        std::uint64_t end = 0;
        std::uint32_t first_block = 0;
        std::uint32_t end_block = 0;
    };
    // Where the unit that answers changes: a .debug_aranges entry starts
    // (else a sequence). `unit` is no_unit where none answers.
    struct unit_start {
        std::uint64_t address = 0;
        std::uint32_t unit = 0;
    };
    static constexpr std::uint32_t no_unit = UINT32_MAX;

    [[nodiscard]] TRIAGE_DECL static result<line_table> parse_units(std::span<const std::byte> debug_line,
                                                                    detail::line_strings& strings,
                                                                    line_table_format format,
                                                                    std::span<const std::byte> aranges);

    std::vector<std::string> files_;  // distinct names, as libdw builds them
    std::vector<block> blocks_;
    std::vector<unsigned char> stream_;
    std::vector<range> ranges_;              // unit by unit, each unit's by start
    std::vector<std::uint32_t> unit_ranges_{0};  // unit k's ranges: [unit_ranges_[k], unit_ranges_[k + 1])
    std::vector<unit_start> starts_;         // by address; of equal addresses, in unit order
    std::size_t rows_ = 0;
    std::vector<skipped_line_unit> skipped_;
    std::size_t skipped_count_ = 0;
    std::size_t units_ = 0;
};

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/line_table.ipp"
#endif
