// triage/elf/impl/line_table.ipp — the definitions of
// triage/elf/line_table.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <dwarf.h>
#include <elf.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <unordered_map>
#include <utility>

#include "triage/base/text.hpp"
#include "triage/elf/line_table.hpp"

namespace triage::elf::detail {

inline constexpr std::size_t max_file_name_length = 4096;  // PATH_MAX
inline constexpr std::size_t max_recorded_skips = 64;

// "reading the .debug_line unit at offset 0x1f0 (what)"
[[nodiscard]] TRIAGE_DECL std::string line_unit_context(std::uint64_t offset, std::string_view what) {
    return "reading the .debug_line unit at offset " + hex(offset) + " (" + std::string{what} + ")";
}

// Reads fixed-size and LEB128 numbers and C strings. A read past the end, or
// a LEB128 number over 64 bits, makes it fail: it then stays at the end and
// yields zeros, so every loop over it stops.
class dwarf_cursor {
public:
    dwarf_cursor(const unsigned char* begin, const unsigned char* end, bool big_endian) noexcept
        : at_{begin}, end_{end}, big_endian_{big_endian} {}

    [[nodiscard]] bool ok() const noexcept { return !failed_; }
    [[nodiscard]] bool more() const noexcept { return at_ < end_; }
    [[nodiscard]] std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - at_); }
    [[nodiscard]] const unsigned char* here() const noexcept { return at_; }

    void fail() noexcept {
        failed_ = true;
        at_ = end_;
    }

    void skip(std::uint64_t n) noexcept {
        if (n > left()) return fail();
        at_ += n;
    }

    // Moves forward to `to`, which must lie between here and the end.
    void move_to(const unsigned char* to) noexcept {
        if (to < at_ || to > end_) return fail();
        at_ = to;
    }

    std::uint8_t u8() noexcept {
        if (at_ == end_) {
            fail();
            return 0;
        }
        return *at_++;
    }

    // An unsigned number of `size` (1-8) bytes.
    std::uint64_t fixed(unsigned size) noexcept {
        if (size == 0 || size > 8 || size > left()) {
            fail();
            return 0;
        }
        std::uint64_t value = 0;
        if (big_endian_) {
            for (unsigned i = 0; i < size; ++i) value = (value << 8) | at_[i];
        } else {
            for (unsigned i = size; i-- > 0;) value = (value << 8) | at_[i];
        }
        at_ += size;
        return value;
    }

    std::uint64_t uleb() noexcept {
        std::uint64_t value = 0;
        for (unsigned shift = 0; at_ < end_; shift += 7) {
            const unsigned byte = *at_++;
            if (shift == 63) {
                if (byte > 1) break;  // bits beyond 64, or yet another byte
                return value | (std::uint64_t{byte} << 63);
            }
            value |= std::uint64_t{byte & 0x7fu} << shift;
            if ((byte & 0x80u) == 0) return value;
        }
        fail();
        return 0;
    }

    std::int64_t sleb() noexcept {
        std::uint64_t value = 0;
        for (unsigned shift = 0; at_ < end_; shift += 7) {
            const unsigned byte = *at_++;
            if (shift == 63) {
                if (byte != 0 && byte != 0x7f) break;  // bits beyond 64, or yet another byte
                return static_cast<std::int64_t>(value | (std::uint64_t{byte & 1u} << 63));
            }
            value |= std::uint64_t{byte & 0x7fu} << shift;
            if ((byte & 0x80u) == 0) {
                if ((byte & 0x40u) != 0) value |= ~std::uint64_t{0} << (shift + 7);
                return static_cast<std::int64_t>(value);
            }
        }
        fail();
        return 0;
    }

    // A NUL-terminated string, without its NUL.
    std::string_view cstring() noexcept {
        const void* nul = at_ == end_ ? nullptr : std::memchr(at_, 0, left());
        if (nul == nullptr) {
            fail();
            return {};
        }
        const auto* stop = static_cast<const unsigned char*>(nul);
        std::string_view text{reinterpret_cast<const char*>(at_), static_cast<std::size_t>(stop - at_)};
        at_ = stop + 1;
        return text;
    }

private:
    const unsigned char* at_;
    const unsigned char* end_;
    bool big_endian_;
    bool failed_ = false;
};

// The bytes of section `name` (".debug_line") of `f`, or of its GNU-compressed
// twin (".zdebug_line"); a compressed section is decompressed through libelf,
// in f's own state (spans that f.section_data gave for it become invalid).
[[nodiscard]] TRIAGE_DECL result<std::span<const std::byte>> debug_section(const file& f, std::string_view name) {
    const std::string wanted{name};
    std::optional<section_info> info = f.section(wanted);
    if (!info) info = f.section(".z" + wanted.substr(1));
    if (!info) {
        return fail(errc::not_found, "finding " + wanted + " in " + f.name(),
                    "use the file's separate debug file (a -dbg/-dbgsym package), or libdw");
    }
    if (info->type == SHT_NOBITS) {
        return fail(errc::not_found, "reading " + info->name + " of " + f.name(),
                    "it has no bytes in this file (SHT_NOBITS): read its separate debug file");
    }
    Elf_Scn* scn = ::elf_getscn(f.handle(), info->index);
    if (scn == nullptr) return fail(errc::malformed, "reading " + info->name + " of " + f.name());
    if ((info->flags & SHF_COMPRESSED) != 0) {
        GElf_Chdr header;
        if (::gelf_getchdr(scn, &header) == nullptr) {
            return fail(errc::malformed, "reading the compression header of " + info->name + " of " + f.name() + " (" +
                                             ::elf_errmsg(-1) + ")");
        }
        if (header.ch_type != ELFCOMPRESS_ZLIB) {
            return fail(errc::unsupported, "decompressing " + info->name + " of " + f.name() + " (compression type " +
                                               std::to_string(header.ch_type) + "; only zlib is read)");
        }
        if (::elf_compress(scn, 0, 0) < 0) {
            return fail(errc::malformed,
                        "decompressing " + info->name + " of " + f.name() + " (" + ::elf_errmsg(-1) + ")");
        }
    } else if (info->name != wanted && ::elf_compress_gnu(scn, 0, 0) < 0) {
        return fail(errc::malformed, "decompressing " + info->name + " of " + f.name() + " (" + ::elf_errmsg(-1) + ")");
    }
    Elf_Data* data = ::elf_getdata(scn, nullptr);
    if (data == nullptr) {
        return fail(errc::malformed, "reading " + info->name + " of " + f.name() + " (" + ::elf_errmsg(-1) + ")");
    }
    if (data->d_buf == nullptr || data->d_size == 0) return std::span<const std::byte>{};
    return std::span{static_cast<const std::byte*>(data->d_buf), data->d_size};
}

// Where DW_FORM_line_strp and DW_FORM_strp point (.debug_line_str,
// .debug_str): given as bytes, or read from a file when first asked for.
class line_strings {
public:
    line_strings(std::span<const std::byte> line_str, std::span<const std::byte> str) noexcept
        : sections_{{{line_str, true, {}}, {str, true, {}}}} {}
    explicit line_strings(const file& f) noexcept : file_{&f} {}

    // The string at `offset` of the section `form` points into.
    [[nodiscard]] result<std::string_view> at(std::uint64_t form, std::uint64_t offset) {
        const bool line_str = form == DW_FORM_line_strp;
        const char* name = line_str ? ".debug_line_str" : ".debug_str";
        section& s = sections_[line_str ? 0 : 1];
        if (!s.loaded) {
            s.loaded = true;
            auto bytes = debug_section(*file_, name);
            if (bytes) {
                s.bytes = *bytes;
            } else {
                s.failure = std::move(bytes.error());
            }
        }
        if (s.failure) return fail(*s.failure);
        if (offset >= s.bytes.size()) {
            return fail(errc::malformed, "reading the string at offset " + hex(offset) + " of " + name +
                                             " (past its end at " + hex(s.bytes.size()) + ")");
        }
        const auto* begin = reinterpret_cast<const char*>(s.bytes.data()) + offset;
        const void* nul = std::memchr(begin, 0, s.bytes.size() - offset);
        if (nul == nullptr) {
            return fail(errc::malformed,
                        "reading the string at offset " + hex(offset) + " of " + name + " (no NUL before its end)");
        }
        return std::string_view{begin, static_cast<std::size_t>(static_cast<const char*>(nul) - begin)};
    }

private:
    struct section {
        std::span<const std::byte> bytes;
        bool loaded = false;
        std::optional<error> failure;
    };
    const file* file_ = nullptr;
    std::array<section, 2> sections_{};
};

// Parses units of .debug_line one after another into a line_table: rows in
// libdw's order, kept where a lookup can return them, file names interned.
class line_table_builder {
public:
    line_table_builder(line_table& table, line_strings& strings, line_table_format format, std::size_t input_size)
        : table_{table}, strings_{strings}, format_{format}, name_budget_{(std::size_t{16} << 20) + 4 * input_size} {
        // Rough sizes from DWARF as GCC writes it (a row kept for 9 bytes of
        // .debug_line, 4 bytes of ours), so that the table is seldom copied
        // as it grows; pages never written cost nothing.
        table_.blocks_.reserve(input_size / 128 + 16);
        table_.stream_.reserve(input_size / 2 + 4096);
    }

    // The unit whose bytes after its unit_length are [body, end); `offset`
    // (of its unit_length) names it in errors.
    [[nodiscard]] result<void> add_unit(const unsigned char* body, const unsigned char* end, unsigned offset_size,
                                        std::uint64_t offset) {
        unit_offset_ = offset;
        directories_.clear();
        files_.clear();
        dwarf_cursor c{body, end, format_.big_endian};
        program_header h;
        h.version = static_cast<unsigned>(c.fixed(2));
        if (!c.ok()) return unit_failure(errc::malformed, "its header is truncated");
        if (h.version < 2 || h.version > 5) {
            return unit_failure(errc::unsupported, "DWARF version " + std::to_string(h.version) + "; 2 to 5 are read");
        }
        version_ = h.version;
        if (h.version >= 5) {
            const unsigned address_size = c.u8();
            const unsigned selector_size = c.u8();
            if (c.ok() && address_size != format_.address_size) {
                return unit_failure(errc::malformed, "addresses of " + std::to_string(address_size) +
                                                         " bytes in a file of " + std::to_string(format_.address_size) +
                                                         "-byte addresses");
            }
            if (c.ok() && selector_size != 0) return unit_failure(errc::unsupported, "segment selectors");
        }
        const std::uint64_t header_length = c.fixed(offset_size);
        if (!c.ok()) return unit_failure(errc::malformed, "its header is truncated");
        if (header_length > c.left()) {
            return unit_failure(errc::malformed,
                                "a header_length of " + hex(header_length) + " bytes runs past the unit's end");
        }
        const unsigned char* program = c.here() + header_length;
        h.minimum_instruction_length = c.u8();
        h.maximum_operations = h.version >= 4 ? c.u8() : 1;
        (void)c.u8();  // default_is_stmt: libdw keeps every row, is_stmt or not
        h.line_base = static_cast<std::int8_t>(c.u8());
        h.line_range = c.u8();
        h.opcode_base = c.u8();
        if (!c.ok()) return unit_failure(errc::malformed, "its header is truncated");
        if (h.maximum_operations == 0) return unit_failure(errc::malformed, "maximum_operations_per_instruction is 0");
        if (h.opcode_base == 0) return unit_failure(errc::malformed, "opcode_base is 0");
        h.opcode_lengths = c.here();
        c.skip(h.opcode_base - 1u);
        if (h.version >= 5) {
            TRIAGE_TRY(read_entry_table(c, offset_size, false));
            TRIAGE_TRY(read_entry_table(c, offset_size, true));
        } else {
            TRIAGE_TRY(read_v2_tables(c));
        }
        if (!c.ok()) return unit_failure(errc::malformed, "its header is truncated");
        if (c.here() != program) {
            return unit_failure(errc::malformed, "its header's tables end " + std::to_string(c.here() - body) +
                                                     " bytes into the unit, its header_length says " +
                                                     std::to_string(program - body));
        }
        const table_mark mark = current_mark();
        start_unit(static_cast<std::size_t>(end - program));
        auto ran = run_program(program, end, h);
        if (ran) ran = take_rows();
        if (ran) ran = end_unit();
        if (!ran) {
            undo(mark);
            return ran;
        }
        table_.unit_ranges_.push_back(static_cast<std::uint32_t>(table_.ranges_.size()));
        ++table_.units_;
        return {};
    }

    // Decides which unit answers where: by `aranges` (.debug_aranges), as
    // libdw does, when it reads; else by where sequences start.
    void finish(std::span<const std::byte> aranges) {
        table_.stream_.resize(stream_used_);
        auto& starts = table_.starts_;
        auto entries = aranges.empty() ? std::nullopt : read_aranges(aranges, format_.big_endian);
        if (entries && !entries->empty()) {
            const auto unit_of = units_of_compile_units(*entries);
            for (const arange& a : *entries) {
                auto at = std::lower_bound(unit_of.begin(), unit_of.end(), std::pair{a.unit_offset, std::uint32_t{0}});
                const bool known = at != unit_of.end() && at->first == a.unit_offset;
                starts.push_back({a.address, known ? at->second : line_table::no_unit});
            }
            // libdw answers nothing past the end of the entry that starts last.
            auto by_address = [](const arange& x, const arange& y) { return x.address < y.address; };
            const arange& last = *std::max_element(entries->begin(), entries->end(), by_address);
            if (last.address + last.length + 1 > last.address) {
                starts.push_back({last.address + last.length + 1, line_table::no_unit});
            }
        } else {
            for (const sequence_span& s : spans_) starts.push_back({s.start, s.unit});
        }
        std::stable_sort(starts.begin(), starts.end(),
                         [](const line_table::unit_start& a, const line_table::unit_start& b) {
                             return a.address < b.address;
                         });
    }

private:
    struct program_header {
        unsigned version = 0;
        std::uint8_t minimum_instruction_length = 0;
        std::uint8_t maximum_operations = 1;
        std::int8_t line_base = 0;
        std::uint8_t line_range = 0;
        std::uint8_t opcode_base = 0;
        const unsigned char* opcode_lengths = nullptr;  // of opcodes 1 .. opcode_base-1, at [opcode - 1]
    };
    struct line_file {
        std::string_view directory;
        std::string_view name;
        bool has_directory = false;  // not for a DWARF 2-4 file in directory 0 (comp_dir: in .debug_info)
    };
    // A row as the program emits it. `rank` orders rows at one address: an
    // end of sequence (top bit clear) first, then program order. (No default
    // values: the buffer of rows is not written before it is used.)
    struct pending_row {
        std::uint64_t address;
        std::uint32_t file;
        std::int32_t line;
        std::uint32_t column;
        std::uint32_t rank;

        [[nodiscard]] bool end_sequence() const noexcept { return (rank >> 31) == 0; }
    };
    // The table's sizes before a unit, to take the unit out again.
    struct table_mark {
        std::size_t blocks = 0;
        std::size_t stream = 0;
        std::size_t ranges = 0;
        std::size_t spans = 0;
        std::size_t rows = 0;
    };
    // A sequence as the program wrote it: from its first row to its last.
    struct sequence_span {
        std::uint64_t start = 0;
        std::uint64_t end = 0;
        std::uint32_t unit = 0;
    };
    // An entry of .debug_aranges: code of the compile unit at `unit_offset` in .debug_info.
    struct arange {
        std::uint64_t address = 0;
        std::uint64_t length = 0;
        std::uint64_t unit_offset = 0;
    };
    struct form_value {
        std::string_view text;
        std::uint64_t number = 0;
        bool is_text = false;
        bool is_number = false;
    };
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    static constexpr std::uint32_t no_id = UINT32_MAX;
    static constexpr std::uint32_t not_end = 1u << 31;
    static constexpr unsigned rows_per_block = 16;

    [[nodiscard]] std::unexpected<error> unit_failure(errc code, std::string_view what) const {
        return fail(code, line_unit_context(unit_offset_, what));
    }

    [[nodiscard]] line_file file_in(std::uint64_t directory, std::string_view name) const {
        return {directories_[directory], name, version_ >= 5 || directory != 0};
    }

    // DWARF 2-4: include_directories and file_names, NUL-terminated lists.
    [[nodiscard]] result<void> read_v2_tables(dwarf_cursor& c) {
        directories_.emplace_back();  // 0: the compilation directory, not known here
        for (;;) {
            const std::string_view directory = c.cstring();
            if (!c.ok()) return unit_failure(errc::malformed, "its include_directories are truncated");
            if (directory.empty()) break;
            directories_.push_back(directory);
        }
        files_.push_back({{}, "???", false});  // index 0, named as libdw names it
        for (;;) {
            const std::string_view name = c.cstring();
            if (!c.ok()) return unit_failure(errc::malformed, "its file_names are truncated");
            if (name.empty()) break;
            const std::uint64_t directory = c.uleb();
            (void)c.uleb();  // modification time
            (void)c.uleb();  // length
            if (!c.ok()) return unit_failure(errc::malformed, "its file_names are truncated");
            if (directory >= directories_.size()) return bad_directory(name, directory);
            files_.push_back(file_in(directory, name));
        }
        return {};
    }

    [[nodiscard]] std::unexpected<error> bad_directory(std::string_view name, std::uint64_t directory) const {
        return unit_failure(errc::malformed, "file " + std::string{name.substr(0, 256)} + " is in directory " +
                                                 std::to_string(directory) + " of " +
                                                 std::to_string(directories_.size()));
    }

    [[nodiscard]] static bool readable_form(std::uint64_t form) noexcept {
        switch (form) {
        case DW_FORM_string:
        case DW_FORM_line_strp:
        case DW_FORM_strp:
        case DW_FORM_udata:
        case DW_FORM_sdata:
        case DW_FORM_data1:
        case DW_FORM_data2:
        case DW_FORM_data4:
        case DW_FORM_data8:
        case DW_FORM_data16:
        case DW_FORM_block:
        case DW_FORM_block1:
        case DW_FORM_block2:
        case DW_FORM_block4: return true;
        default: return false;
        }
    }

    // One value of a v5 entry; strings are looked up only when `want_text`.
    [[nodiscard]] result<form_value> read_form(dwarf_cursor& c, std::uint64_t form, unsigned offset_size,
                                               bool want_text) {
        form_value v;
        switch (form) {
        case DW_FORM_string:
            v.text = c.cstring();
            v.is_text = true;
            break;
        case DW_FORM_line_strp:
        case DW_FORM_strp: {
            const std::uint64_t offset = c.fixed(offset_size);
            v.is_text = true;
            if (!c.ok() || !want_text) break;
            auto text = strings_.at(form, offset);
            if (!text) return fail(std::move(text.error()).within(line_unit_context(unit_offset_, "a file name")));
            v.text = *text;
            break;
        }
        case DW_FORM_udata: v.number = c.uleb(), v.is_number = true; break;
        case DW_FORM_sdata: v.number = static_cast<std::uint64_t>(c.sleb()), v.is_number = true; break;
        case DW_FORM_data1: v.number = c.fixed(1), v.is_number = true; break;
        case DW_FORM_data2: v.number = c.fixed(2), v.is_number = true; break;
        case DW_FORM_data4: v.number = c.fixed(4), v.is_number = true; break;
        case DW_FORM_data8: v.number = c.fixed(8), v.is_number = true; break;
        case DW_FORM_data16: c.skip(16); break;
        case DW_FORM_block: c.skip(c.uleb()); break;
        case DW_FORM_block1: c.skip(c.fixed(1)); break;
        case DW_FORM_block2: c.skip(c.fixed(2)); break;
        case DW_FORM_block4: c.skip(c.fixed(4)); break;
        default: return unit_failure(errc::unsupported, "form " + hex(form) + " in an entry");
        }
        if (!c.ok()) return unit_failure(errc::malformed, "its directory or file entries are truncated");
        return v;
    }

    // DWARF 5: the directory table (`files` false) or the file name table,
    // each described by its entry format.
    [[nodiscard]] result<void> read_entry_table(dwarf_cursor& c, unsigned offset_size, bool files) {
        const std::string_view what = files ? "file name" : "directory";
        struct entry_format {
            std::uint64_t content = 0;
            std::uint64_t form = 0;
        };
        std::array<entry_format, 255> formats;
        const unsigned format_count = c.u8();
        bool has_path = false;
        bool has_directory = false;
        for (unsigned i = 0; i < format_count; ++i) {
            formats[i].content = c.uleb();
            formats[i].form = c.uleb();
            if (!c.ok()) {
                return unit_failure(errc::malformed, "its " + std::string{what} + " entry format is truncated");
            }
            if (!readable_form(formats[i].form)) {
                return unit_failure(errc::unsupported, "its " + std::string{what} + " entries use form " +
                                                           hex(formats[i].form) + ", which is not read");
            }
            has_path = has_path || formats[i].content == DW_LNCT_path;
            has_directory = has_directory || formats[i].content == DW_LNCT_directory_index;
        }
        const std::uint64_t count = c.uleb();
        if (!c.ok()) return unit_failure(errc::malformed, "its " + std::string{what} + " table is truncated");
        // Every form takes a byte at least: a count beyond the bytes left is a lie.
        if (format_count == 0 ? count != 0 : count > c.left() / format_count) {
            return unit_failure(errc::malformed, std::to_string(count) + " " + std::string{what} +
                                                     " entries cannot fit in the unit");
        }
        if (format_count > 0 && (!has_path || (files && !has_directory))) {
            return unit_failure(errc::malformed, "its " + std::string{what} + " entry format has no " +
                                                     (has_path ? "DW_LNCT_directory_index" : "DW_LNCT_path"));
        }
        for (std::uint64_t n = 0; n < count; ++n) {
            std::string_view path;
            std::uint64_t directory = UINT64_MAX;
            bool path_read = false;
            for (unsigned i = 0; i < format_count; ++i) {
                const bool is_path = formats[i].content == DW_LNCT_path;
                const bool is_directory = files && formats[i].content == DW_LNCT_directory_index;
                const form_value v = TRIAGE_TRY(read_form(c, formats[i].form, offset_size, is_path));
                if (is_path) {
                    if (!v.is_text) return unit_failure(errc::malformed, "a DW_LNCT_path that is not a string");
                    path = v.text;
                    path_read = true;
                } else if (is_directory) {
                    if (!v.is_number) {
                        return unit_failure(errc::malformed, "a DW_LNCT_directory_index that is not a number");
                    }
                    directory = v.number;
                }
            }
            if (!path_read) return unit_failure(errc::malformed, "an entry without a path");
            if (!files) {
                directories_.push_back(path);
                continue;
            }
            if (directory >= directories_.size()) return bad_directory(path, directory);
            files_.push_back(file_in(directory, path));
        }
        if (files && count == 0) files_.push_back({{}, "???", false});  // libdw's name when the table is empty
        return {};
    }

    // Runs the line-number program in [begin, end) into rows_.
    [[nodiscard]] result<void> run_program(const unsigned char* begin, const unsigned char* end,
                                           const program_header& h) {
        dwarf_cursor c{begin, end, format_.big_endian};
        // What each special opcode adds to the line and to op_index.
        std::array<int, 256> line_step{};
        std::array<unsigned, 256> operation_step{};
        if (h.line_range != 0) {
            for (unsigned op = h.opcode_base; op < 256; ++op) {
                line_step[op] = h.line_base + static_cast<int>((op - h.opcode_base) % h.line_range);
                operation_step[op] = (op - h.opcode_base) / h.line_range;
            }
        }
        // DWARF's operand counts of the standard opcodes 1-12.
        static constexpr std::array<std::uint8_t, 13> standard_operands{0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};

        const std::uint64_t minimum_length = h.minimum_instruction_length;
        const std::uint64_t maximum_operations = h.maximum_operations;
        std::uint64_t address = 0;
        std::uint64_t op_index = 0;
        std::uint64_t file = 1;
        std::int64_t line = 1;
        std::uint64_t column = 0;
        auto advance = [&](std::uint64_t operations) {
            if (maximum_operations == 1) {
                address += minimum_length * operations;
                return;
            }
            address += minimum_length * ((op_index + operations) / maximum_operations);
            op_index = (op_index + operations) % maximum_operations;
        };
        auto add_line = [&](std::int64_t delta) {
            line = static_cast<std::int64_t>(static_cast<std::uint64_t>(line) + static_cast<std::uint64_t>(delta));
        };
        // A row takes an opcode byte at least: the buffer holds one per byte.
        auto emit = [&](bool end_sequence) __attribute__((always_inline)) {
            if (line < INT32_MIN || line > INT32_MAX) return false;  // libdw's rows hold an int
            if (row_count_ >= std::min<std::size_t>(row_capacity_, not_end)) return false;
            rows_[row_count_] = {address, static_cast<std::uint32_t>(std::min<std::uint64_t>(file, UINT32_MAX)),
                                 static_cast<std::int32_t>(line),
                                 static_cast<std::uint32_t>(std::min<std::uint64_t>(column, UINT32_MAX)),
                                 (end_sequence ? 0 : not_end) | static_cast<std::uint32_t>(row_count_)};
            ++row_count_;
            return true;
        };
        auto stopped = [&]() -> result<void> {
            if (row_count_ >= not_end) return unit_failure(errc::limit_exceeded, "more than 2^31 rows");
            return unit_failure(errc::malformed, "line " + std::to_string(line) + " does not fit an int");
        };

        while (c.more()) {
            const unsigned op = c.u8();
            if (op >= h.opcode_base) {
                if (h.line_range == 0) return unit_failure(errc::malformed, "a special opcode with line_range 0");
                add_line(line_step[op]);
                advance(operation_step[op]);
                if (!emit(false)) return stopped();
            } else if (op == 0) {
                const std::uint64_t length = c.uleb();
                if (length == 0) continue;  // no sub-opcode at all (or a truncated length: the loop ends)
                if (length > c.left()) {
                    return unit_failure(errc::malformed, "an extended opcode of " + std::to_string(length) +
                                                             " bytes runs past the unit's end");
                }
                const unsigned char* next = c.here() + length;
                switch (c.u8()) {
                case DW_LNE_end_sequence:
                    if (!emit(true)) return stopped();
                    address = op_index = column = 0;
                    file = 1;
                    line = 1;
                    break;
                case DW_LNE_set_address:
                    if (length - 1 > 8) {
                        return unit_failure(errc::malformed, "DW_LNE_set_address with a " +
                                                                 std::to_string(length - 1) + "-byte operand");
                    }
                    address = c.fixed(static_cast<unsigned>(length - 1));
                    op_index = 0;
                    break;
                case DW_LNE_define_file: {
                    const std::string_view name = c.cstring();
                    const std::uint64_t directory = c.uleb();
                    (void)c.uleb();  // modification time
                    (void)c.uleb();  // length
                    if (!c.ok()) break;
                    if (directory >= directories_.size()) return bad_directory(name, directory);
                    files_.push_back(file_in(directory, name));
                    break;
                }
                default: break;  // DW_LNE_set_discriminator, vendors' opcodes: nothing a row shows
                }
                if (c.ok() && c.here() > next) {
                    return unit_failure(errc::malformed, "an extended opcode's operands run past its length");
                }
                c.move_to(next);
            } else if (op < standard_operands.size()) {
                if (h.opcode_lengths[op - 1] != standard_operands[op]) {
                    return unit_failure(errc::malformed, "standard opcode " + std::to_string(op) + " declared with " +
                                                             std::to_string(h.opcode_lengths[op - 1]) + " operands");
                }
                switch (op) {
                case DW_LNS_copy:
                    if (!emit(false)) return stopped();
                    break;
                case DW_LNS_advance_pc: advance(c.uleb()); break;
                case DW_LNS_advance_line: add_line(c.sleb()); break;
                case DW_LNS_set_file: file = c.uleb(); break;
                case DW_LNS_set_column: column = c.uleb(); break;
                case DW_LNS_const_add_pc:
                    if (h.line_range == 0) {
                        return unit_failure(errc::malformed, "DW_LNS_const_add_pc with line_range 0");
                    }
                    advance(operation_step[255]);
                    break;
                case DW_LNS_fixed_advance_pc:
                    address += c.fixed(2);
                    op_index = 0;
                    break;
                case DW_LNS_set_isa: (void)c.uleb(); break;
                default: break;  // negate_stmt, set_basic_block, set_prologue_end, set_epilogue_begin
                }
            } else {
                // A standard opcode newer than we know: skip its ULEB128 operands.
                for (unsigned n = h.opcode_lengths[op - 1]; n > 0; --n) (void)c.uleb();
            }
        }
        if (!c.ok()) return unit_failure(errc::malformed, "its line-number program is truncated");
        return {};
    }

    // The entries of .debug_aranges; nothing when libdw would refuse it.
    [[nodiscard]] static std::optional<std::vector<arange>> read_aranges(std::span<const std::byte> section,
                                                                        bool big_endian) {
        std::vector<arange> out;
        const auto* bytes = reinterpret_cast<const unsigned char*>(section.data());
        for (std::size_t offset = 0; offset < section.size();) {
            dwarf_cursor c{bytes + offset, bytes + section.size(), big_endian};
            std::uint64_t length = c.fixed(4);
            unsigned offset_size = 4;
            if (c.ok() && length == 0xffffffff) {
                length = c.fixed(8);
                offset_size = 8;
            } else if (length >= 0xfffffff0) {
                return std::nullopt;
            }
            if (!c.ok() || length > c.left()) return std::nullopt;
            const unsigned char* end = c.here() + length;
            dwarf_cursor set{c.here(), end, big_endian};
            const std::uint64_t version = set.fixed(2);
            const std::uint64_t unit_offset = set.fixed(offset_size);
            const unsigned address_size = set.u8();
            const unsigned selector_size = set.u8();
            if (!set.ok() || version != 2 || (address_size != 4 && address_size != 8) || selector_size != 0) {
                return std::nullopt;
            }
            // Entries start at a multiple of twice the address size from the set's start.
            const auto used = static_cast<std::size_t>(set.here() - (bytes + offset));
            set.skip((2 * address_size - used % (2 * address_size)) % (2 * address_size));
            for (;;) {
                const std::uint64_t address = set.fixed(address_size);
                const std::uint64_t size = set.fixed(address_size);
                if (!set.ok()) return std::nullopt;
                if (address == 0 && size == 0) break;
                out.push_back({address, size, unit_offset});
            }
            offset = static_cast<std::size_t>(end - bytes);
        }
        return out;
    }

    // Which line unit each compile unit of `entries` points to: that one is
    // in .debug_info (DW_AT_stmt_list), not read; the unit with most
    // sequences starting within the compile unit's entries is taken.
    // Sorted by compile unit offset.
    [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint32_t>> units_of_compile_units(
        const std::vector<arange>& entries) const {
        std::vector<sequence_span> spans = spans_;
        std::sort(spans.begin(), spans.end(),
                  [](const sequence_span& a, const sequence_span& b) { return a.start < b.start; });
        std::vector<std::pair<std::uint64_t, std::uint32_t>> votes;
        for (const arange& a : entries) {
            auto s = std::lower_bound(spans.begin(), spans.end(), a.address,
                                      [](const sequence_span& x, std::uint64_t address) { return x.start < address; });
            // A few sequences are enough to tell (code discarded at address 0 has many).
            for (int n = 0; s != spans.end() && s->start - a.address < a.length && n < 64; ++s, ++n) {
                votes.push_back({a.unit_offset, s->unit});
            }
        }
        std::sort(votes.begin(), votes.end());
        std::vector<std::pair<std::uint64_t, std::uint32_t>> out;
        std::size_t best = 0;
        for (std::size_t i = 0; i < votes.size();) {
            std::size_t j = i;
            while (j < votes.size() && votes[j] == votes[i]) ++j;
            if (out.empty() || out.back().first != votes[i].first) {
                out.push_back(votes[i]);
                best = j - i;
            } else if (j - i > best) {
                out.back().second = votes[i].second;
                best = j - i;
            }
            i = j;
        }
        return out;
    }

    [[nodiscard]] table_mark current_mark() const noexcept {
        return {table_.blocks_.size(), stream_used_, table_.ranges_.size(), spans_.size(), table_.rows_};
    }

    void undo(const table_mark& mark) {
        table_.blocks_.resize(mark.blocks);
        stream_used_ = mark.stream;
        table_.ranges_.resize(mark.ranges);
        spans_.resize(mark.spans);
        table_.rows_ = mark.rows;
    }

    // Room for `most` rows.
    void start_unit(std::size_t most) {
        if (most > row_capacity_) {
            rows_ = std::make_unique_for_overwrite<pending_row[]>(most);
            row_capacity_ = most;
        }
        row_count_ = 0;
        global_ids_.assign(files_.size(), no_id);
        failure_.reset();
        run_open_ = false;
        holding_ = false;
    }

    // libdw's order: by address; an end of sequence before other rows at its
    // address; otherwise program order.
    struct libdw_order {
        [[nodiscard]] bool operator()(const pending_row& a, const pending_row& b) const noexcept {
            return a.address != b.address ? a.address < b.address : a.rank < b.rank;
        }
    };
    static constexpr libdw_order before{};

    // Puts the rows [first, last) of one sequence in libdw's order. Usually
    // they are, but for the end of sequence when rows precede it at its
    // address (it then goes before them).
    void order_sequence(std::size_t first, std::size_t last) {
        pending_row* begin = rows_.get() + first;
        pending_row* end = rows_.get() + last;
        auto body_end = rows_[last - 1].end_sequence() ? end - 1 : end;
        if (std::is_sorted(begin, body_end, before)) {
            if (body_end == end || body_end == begin || before(*(body_end - 1), *body_end)) return;
            if (body_end->address == (body_end - 1)->address) {
                auto at = std::partition_point(begin, body_end,
                                               [&](const pending_row& r) { return r.address < body_end->address; });
                std::rotate(at, body_end, end);
                return;
            }
        }
        std::sort(begin, end, before);
    }

    // The unit's rows, taken in libdw's order. Sequences usually do not
    // overlap: then ordering each sequence and the sequences is enough; else
    // every row is sorted.
    [[nodiscard]] result<void> take_rows() {
        const std::size_t n = row_count_;
        sequences_.clear();
        std::size_t begin = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (rows_[i].end_sequence()) {
                sequences_.push_back({begin, i + 1});
                begin = i + 1;
            }
        }
        if (begin < n) sequences_.push_back({begin, n});
        for (const auto& [first, last] : sequences_) {
            spans_.push_back(
                {rows_[first].address, rows_[last - 1].address, static_cast<std::uint32_t>(table_.units_)});
        }
        for (const auto& [first, last] : sequences_) order_sequence(first, last);
        std::sort(sequences_.begin(), sequences_.end(),
                  [&](const auto& a, const auto& b) { return before(rows_[a.first], rows_[b.first]); });
        bool joined = true;
        for (std::size_t k = 1; k < sequences_.size() && joined; ++k) {
            joined = before(rows_[sequences_[k - 1].second - 1], rows_[sequences_[k].first]);
        }
        if (!joined) {
            std::sort(rows_.get(), rows_.get() + n, before);
            sequences_.assign(1, {0, n});
        }
        for (const auto& [first, last] : sequences_) {
            for (std::size_t i = first; i < last; ++i) {
                if (!take(rows_[i])) return fail(std::move(*failure_));
            }
        }
        return {};
    }

    // The next row in libdw's order. A row is kept when the next one is at
    // another address (else that one answers for the address); rows up to an
    // end of sequence answer [the first one's address, the end's address).
    // The last row is held until the next one comes.
    [[nodiscard]] bool take(const pending_row& r) {
        if (!r.end_sequence()) {
            if (!run_open_) {
                run_open_ = true;
                run_ = {r.address, 0, static_cast<std::uint32_t>(table_.blocks_.size()), 0};
                block_rows_ = 0;
            } else if (holding_ && held_.address != r.address && !keep(held_)) {
                return false;
            }
            held_ = r;
            holding_ = true;
            return true;
        }
        if (holding_) {
            holding_ = false;
            if (!keep(held_)) return false;
        }
        if (run_open_) close_run(r.address);
        return true;
    }

    // libdw takes the unit's last row as an end of sequence, whatever it is.
    [[nodiscard]] result<void> end_unit() {
        if (holding_) {
            holding_ = false;
            close_run(held_.address);
        }
        run_open_ = false;
        if (stream_used_ > UINT32_MAX || table_.blocks_.size() > UINT32_MAX) {
            return unit_failure(errc::limit_exceeded, "rows beyond 4 GiB of table");
        }
        return {};
    }

    void close_run(std::uint64_t end) {
        run_open_ = false;
        if (table_.blocks_.size() == run_.first_block) return;  // every row hidden
        run_.end = end;
        run_.end_block = static_cast<std::uint32_t>(table_.blocks_.size());
        table_.ranges_.push_back(run_);
    }

    // Writes `value` as a ULEB128 / SLEB128 number at `out`; returns the end.
    static unsigned char* put_uleb(unsigned char* out, std::uint64_t value) noexcept {
        for (; value >= 0x80; value >>= 7) *out++ = static_cast<unsigned char>(value | 0x80);
        *out++ = static_cast<unsigned char>(value);
        return out;
    }

    static unsigned char* put_sleb(unsigned char* out, std::int64_t value) noexcept {
        for (;;) {
            const auto byte = static_cast<unsigned char>(static_cast<std::uint64_t>(value) & 0x7f);
            value >>= 7;  // arithmetic
            if ((value == 0 && (byte & 0x40) == 0) || (value == -1 && (byte & 0x40) != 0)) {
                *out++ = byte;
                return out;
            }
            *out++ = byte | 0x80;
        }
    }

    // Stores a row a lookup can return.
    [[nodiscard]] bool keep(const pending_row& p) {
        auto id = intern(p.file);
        if (!id) {
            failure_ = std::move(id.error());
            return false;
        }
        if (block_rows_ == 0 || block_rows_ == rows_per_block) {
            table_.blocks_.push_back(
                {p.address, static_cast<std::uint32_t>(std::min<std::size_t>(stream_used_, UINT32_MAX)), *id, p.line,
                 p.column});
            block_rows_ = 1;
        } else {
            std::vector<unsigned char>& stream = table_.stream_;
            if (stream.size() - stream_used_ < 40) {  // four numbers of 10 bytes at most
                // Written ahead in steps, within the capacity while it lasts.
                const std::size_t step = std::max<std::size_t>(std::size_t{64} << 10, stream.size() / 4);
                const std::size_t room = stream.capacity() - stream.size();
                stream.resize(stream.size() + (room >= 40 ? std::min(room, step) : step));
            }
            unsigned char* start = stream.data() + stream_used_;
            unsigned char* out = put_uleb(start, p.address - kept_.address);
            out = put_sleb(out, std::int64_t{p.line} - kept_.line);
            out = put_uleb(out, p.column);
            out = put_uleb(out, *id == kept_file_ ? 0 : std::uint64_t{*id} + 1);
            stream_used_ += static_cast<std::size_t>(out - start);
            ++block_rows_;
        }
        kept_ = p;
        kept_file_ = *id;
        ++table_.rows_;
        return true;
    }

    // The table's index of the unit's file `local`, its name built as libdw builds it.
    [[nodiscard]] result<std::uint32_t> intern(std::uint32_t local) {
        if (local >= files_.size()) {
            return unit_failure(errc::malformed, "a row names file " + std::to_string(local) + " of " +
                                                     std::to_string(files_.size()));
        }
        if (global_ids_.size() < files_.size()) global_ids_.resize(files_.size(), no_id);  // DW_LNE_define_file
        std::uint32_t& id = global_ids_[local];
        if (id != no_id) return id;
        const line_file& f = files_[local];
        std::string_view name = f.name;
        if (f.has_directory && !name.starts_with('/')) {
            joined_.assign(f.directory);
            joined_ += '/';
            joined_ += f.name;
            name = joined_;
        }
        if (name.size() > max_file_name_length) {
            return unit_failure(errc::limit_exceeded, "a file name of " + std::to_string(name.size()) + " bytes");
        }
        auto known = ids_.find(name);
        if (known == ids_.end()) {
            if (name.size() > name_budget_) return unit_failure(errc::limit_exceeded, "file names beyond the budget");
            name_budget_ -= name.size();
            known = ids_.emplace(std::string{name}, static_cast<std::uint32_t>(table_.files_.size())).first;
            table_.files_.emplace_back(name);
        }
        id = known->second;
        return id;
    }

    line_table& table_;
    line_strings& strings_;
    line_table_format format_;
    std::size_t name_budget_;  // bytes of distinct file names still allowed
    std::unordered_map<std::string, std::uint32_t, name_hash, std::equal_to<>> ids_;
    // The unit being read; the vectors keep their memory from unit to unit.
    std::uint64_t unit_offset_ = 0;
    unsigned version_ = 0;
    std::vector<std::string_view> directories_;
    std::vector<line_file> files_;
    std::unique_ptr<pending_row[]> rows_;     // the unit's rows, in program order
    std::size_t row_count_ = 0;
    std::size_t row_capacity_ = 0;
    std::vector<std::uint32_t> global_ids_;   // the table's index of each of the unit's files
    std::string joined_;
    std::size_t stream_used_ = 0;             // bytes of table_.stream_ written (it grows ahead)
    std::vector<std::pair<std::size_t, std::size_t>> sequences_;  // [first, last) rows of each, in rows_
    std::vector<sequence_span> spans_;        // of every unit kept
    std::optional<error> failure_;            // why a row could not be kept
    // The run being stored, and its last rows.
    bool run_open_ = false;
    line_table::range run_;
    unsigned block_rows_ = 0;
    bool holding_ = false;
    pending_row held_{};
    pending_row kept_{};
    std::uint32_t kept_file_ = 0;
};

} // namespace triage::elf::detail

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL result<line_table> line_table::parse_units(std::span<const std::byte> debug_line,
                                                                     detail::line_strings& strings,
                                                                     line_table_format format,
                                                                     std::span<const std::byte> aranges) {
    line_table table;
    detail::line_table_builder builder{table, strings, format, debug_line.size()};
    auto skip = [&](std::uint64_t offset, error reason) {
        if (table.skipped_.size() < detail::max_recorded_skips) table.skipped_.push_back({offset, std::move(reason)});
        ++table.skipped_count_;
    };
    auto skip_malformed = [&](std::uint64_t offset, std::string_view what) {
        skip(offset, error{errc::malformed, 0, detail::line_unit_context(offset, what), {}});
    };
    const auto* bytes = reinterpret_cast<const unsigned char*>(debug_line.data());
    const std::size_t size = debug_line.size();
    for (std::size_t offset = 0; offset < size;) {
        detail::dwarf_cursor c{bytes + offset, bytes + size, format.big_endian};
        std::uint64_t length = c.fixed(4);
        unsigned offset_size = 4;
        if (c.ok() && length == 0xffffffff) {
            length = c.fixed(8);
            offset_size = 8;
        } else if (c.ok() && length >= 0xfffffff0) {
            skip_malformed(offset, "a reserved unit_length " + hex(length));
            break;  // where the next unit starts is unknown
        }
        if (!c.ok()) {
            skip_malformed(offset, "its unit_length is truncated");
            break;
        }
        if (length > c.left()) {
            skip_malformed(offset,
                           "a unit_length of " + hex(length) + " bytes runs past the section's end at " + hex(size));
            break;
        }
        const unsigned char* body = c.here();
        auto added = builder.add_unit(body, body + length, offset_size, offset);
        if (!added) skip(offset, std::move(added.error()));
        offset = static_cast<std::size_t>(body + length - bytes);
    }
    builder.finish(aranges);
    if (table.units_ == 0 && !table.skipped_.empty()) return fail(table.skipped_.front().reason);
    return table;
}

[[nodiscard]] TRIAGE_DECL result<line_table> line_table::parse(std::span<const std::byte> debug_line,
                                                               std::span<const std::byte> line_str,
                                                               std::span<const std::byte> str,
                                                               line_table_format format,
                                                               std::span<const std::byte> aranges) {
    detail::line_strings strings{line_str, str};
    return parse_units(debug_line, strings, format, aranges);
}

[[nodiscard]] TRIAGE_DECL result<line_table> line_table::read(const file& f) {
    const std::string context = "reading the line table of " + f.name();
    if (f.type() == ET_REL) {
        return fail(errc::unsupported, context + " (a relocatable object: its addresses are not relocated yet)",
                    "read the linked binary, or use libdw, which applies the relocations");
    }
    auto debug_line = detail::debug_section(f, ".debug_line");
    if (!debug_line) return fail(std::move(debug_line.error()));  // it names the file
    detail::line_strings strings{f};
    // Small (python3.11's: 12 KiB); without it (or when it does not read),
    // libdw 0.188 gives no line at all, and we go by sequences.
    auto aranges = detail::debug_section(f, ".debug_aranges");
    auto table = parse_units(*debug_line, strings, {f.elf64() ? 8u : 4u, f.big_endian()},
                             aranges ? *aranges : std::span<const std::byte>{});
    if (!table) return fail(std::move(table.error()).within(context));
    return table;
}

[[nodiscard]] TRIAGE_DECL std::optional<source_line> line_table::find(std::uint64_t file_address) const {
    // The unit libdw would ask: the one whose .debug_aranges entry (else sequence) starts last at or below.
    auto start = std::upper_bound(starts_.begin(), starts_.end(), file_address,
                                  [](std::uint64_t address, const unit_start& s) { return address < s.address; });
    if (start == starts_.begin() || std::prev(start)->unit == no_unit) return std::nullopt;
    const std::uint32_t unit = std::prev(start)->unit;
    // Its range at the address.
    const auto first = ranges_.begin() + unit_ranges_[unit];
    auto after = std::upper_bound(first, ranges_.begin() + unit_ranges_[unit + 1], file_address,
                                  [](std::uint64_t address, const range& r) { return address < r.start; });
    if (after == first) return std::nullopt;
    const range& r = *std::prev(after);
    if (file_address >= r.end) return std::nullopt;
    // The range's first block starts at its start.
    auto in = std::prev(std::upper_bound(blocks_.begin() + r.first_block, blocks_.begin() + r.end_block, file_address,
                                         [](std::uint64_t address, const block& b) { return address < b.address; }));
    const auto index = static_cast<std::size_t>(in - blocks_.begin());
    const std::size_t stop = index + 1 < blocks_.size() ? blocks_[index + 1].offset : stream_.size();
    detail::dwarf_cursor deltas{stream_.data() + in->offset, stream_.data() + stop, false};
    std::uint64_t address = in->address;
    std::int64_t line = in->line;
    std::uint64_t column = in->column;
    std::uint64_t file = in->file;
    while (deltas.more()) {
        const std::uint64_t step = deltas.uleb();
        if (file_address - address < step) break;  // the next row is past the address
        address += step;
        line += deltas.sleb();
        column = deltas.uleb();
        if (const std::uint64_t f = deltas.uleb(); f != 0) file = f - 1;
    }
    if (file >= files_.size()) return std::nullopt;  // only in a deserialized table whose stream lies
    return source_line{files_[file], static_cast<int>(line),
                       static_cast<int>(std::min<std::uint64_t>(column, INT_MAX))};
}

namespace detail {
// serialize()'s layout: this header, then the file names' lengths (u32) and
// bytes, the blocks, the stream, the ranges, unit_ranges_, the starts and the
// skipped units (offset u64, code u32, context length u32, context), every
// field in this machine's byte order.
inline constexpr char serialized_magic[8] = {'T', 'R', 'G', 'L', 'I', 'N', 'E', 'S'};
inline constexpr std::uint32_t serialized_version = 1;
inline constexpr std::uint32_t serialized_byte_order = 0x01020304;
struct serialized_header {
    char magic[8];
    std::uint32_t version;
    std::uint32_t byte_order;
    std::uint64_t files, name_bytes, blocks, stream, ranges, unit_ranges, starts, skipped, rows, units,
        skipped_count;
};

class byte_writer {
public:
    template <class T>
    void put(const T& value) {
        out_.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
    void put_bytes(const void* data, std::size_t size) { out_.append(static_cast<const char*>(data), size); }
    std::string& text() noexcept { return out_; }

private:
    std::string out_;
};

// Reads what byte_writer wrote; a read past the end fails and yields zeros.
class byte_reader {
public:
    explicit byte_reader(std::span<const std::byte> bytes) noexcept : bytes_{bytes} {}
    template <class T>
    T get() noexcept {
        T value{};
        if (sizeof value > left()) {
            ok_ = false;
            at_ = bytes_.size();
            return value;
        }
        std::memcpy(&value, bytes_.data() + at_, sizeof value);
        at_ += sizeof value;
        return value;
    }
    std::string_view get_text(std::size_t size) noexcept {
        if (size > left()) {
            ok_ = false;
            at_ = bytes_.size();
            return {};
        }
        std::string_view text{reinterpret_cast<const char*>(bytes_.data() + at_), size};
        at_ += size;
        return text;
    }
    // Whether `count` items of at least `size` bytes can still follow.
    [[nodiscard]] bool room_for(std::uint64_t count, std::size_t size) const noexcept { return count <= left() / size; }
    [[nodiscard]] std::size_t left() const noexcept { return bytes_.size() - at_; }
    [[nodiscard]] bool ok() const noexcept { return ok_; }

private:
    std::span<const std::byte> bytes_;
    std::size_t at_ = 0;
    bool ok_ = true;
};
} // namespace detail

[[nodiscard]] TRIAGE_DECL std::string line_table::serialize() const {
    detail::serialized_header h{};
    std::memcpy(h.magic, detail::serialized_magic, sizeof h.magic);
    h.version = detail::serialized_version;
    h.byte_order = detail::serialized_byte_order;
    h.files = files_.size();
    for (const std::string& name : files_) h.name_bytes += name.size();
    h.blocks = blocks_.size();
    h.stream = stream_.size();
    h.ranges = ranges_.size();
    h.unit_ranges = unit_ranges_.size();
    h.starts = starts_.size();
    h.skipped = skipped_.size();
    h.rows = rows_;
    h.units = units_;
    h.skipped_count = skipped_count_;
    detail::byte_writer w;
    w.text().reserve(sizeof h + 4 * files_.size() + h.name_bytes + 24 * (blocks_.size() + ranges_.size()) +
                     stream_.size() + 4 * unit_ranges_.size() + 12 * starts_.size());
    w.put(h);
    for (const std::string& name : files_) w.put(static_cast<std::uint32_t>(name.size()));
    for (const std::string& name : files_) w.put_bytes(name.data(), name.size());
    for (const block& b : blocks_) {
        w.put(b.address), w.put(b.offset), w.put(b.file), w.put(b.line), w.put(b.column);
    }
    w.put_bytes(stream_.data(), stream_.size());
    for (const range& r : ranges_) w.put(r.start), w.put(r.end), w.put(r.first_block), w.put(r.end_block);
    for (std::uint32_t first : unit_ranges_) w.put(first);
    for (const unit_start& s : starts_) w.put(s.address), w.put(s.unit);
    for (const skipped_line_unit& s : skipped_) {
        w.put(s.offset), w.put(static_cast<std::uint32_t>(s.reason.code));
        w.put(static_cast<std::uint32_t>(s.reason.context.size()));
        w.put_bytes(s.reason.context.data(), s.reason.context.size());
    }
    return std::move(w.text());
}

[[nodiscard]] TRIAGE_DECL result<line_table> line_table::deserialize(std::span<const std::byte> bytes) {
    auto bad = [](std::string_view what) {
        return fail(errc::malformed, "reading a saved line table (" + std::string{what} + ")",
                    "it is read again from the debug information");
    };
    detail::byte_reader r{bytes};
    const auto h = r.get<detail::serialized_header>();
    if (!r.ok() || std::memcmp(h.magic, detail::serialized_magic, sizeof h.magic) != 0) {
        return bad("not a saved line table");
    }
    if (h.version != detail::serialized_version || h.byte_order != detail::serialized_byte_order) {
        return bad("another version or byte order");
    }
    // Each item takes this many bytes at least: counts beyond the bytes are lies.
    if (!r.room_for(h.files, 4) || !r.room_for(h.name_bytes, 1) || !r.room_for(h.blocks, 24) ||
        !r.room_for(h.stream, 1) || !r.room_for(h.ranges, 24) || !r.room_for(h.unit_ranges, 4) ||
        !r.room_for(h.starts, 12) || h.skipped > detail::max_recorded_skips || h.units >= no_unit ||
        h.unit_ranges != h.units + 1 || h.blocks > UINT32_MAX || h.stream > UINT32_MAX || h.ranges > UINT32_MAX) {
        return bad("counts beyond its size");
    }
    line_table t;
    t.rows_ = h.rows;
    t.units_ = h.units;
    t.skipped_count_ = h.skipped_count;
    std::vector<std::uint32_t> lengths(h.files);
    for (auto& length : lengths) length = r.get<std::uint32_t>();
    t.files_.reserve(h.files);
    for (std::uint32_t length : lengths) t.files_.emplace_back(r.get_text(length));
    t.blocks_.reserve(h.blocks);
    for (std::uint64_t k = 0; k < h.blocks; ++k) {
        block b;
        b.address = r.get<std::uint64_t>(), b.offset = r.get<std::uint32_t>(), b.file = r.get<std::uint32_t>();
        b.line = r.get<std::int32_t>(), b.column = r.get<std::uint32_t>();
        if (b.file >= h.files || b.offset > h.stream) return bad("a row names a file or bytes beyond the table");
        t.blocks_.push_back(b);
    }
    const std::string_view stream = r.get_text(h.stream);
    t.stream_.assign(stream.begin(), stream.end());
    t.ranges_.reserve(h.ranges);
    for (std::uint64_t k = 0; k < h.ranges; ++k) {
        range& x = t.ranges_.emplace_back();
        x.start = r.get<std::uint64_t>(), x.end = r.get<std::uint64_t>();
        x.first_block = r.get<std::uint32_t>(), x.end_block = r.get<std::uint32_t>();
        if (x.first_block >= x.end_block || x.end_block > h.blocks || t.blocks_[x.first_block].address > x.start) {
            return bad("a range beyond its rows");
        }
        for (std::uint32_t k = x.first_block + 1; k < x.end_block; ++k) {
            const block& before = t.blocks_[k - 1];
            if (before.address > t.blocks_[k].address || before.offset > t.blocks_[k].offset) {
                return bad("rows out of order");
            }
        }
    }
    t.unit_ranges_.resize(h.unit_ranges);
    for (std::uint32_t& first : t.unit_ranges_) first = r.get<std::uint32_t>();
    if (t.unit_ranges_.front() != 0 || t.unit_ranges_.back() != h.ranges ||
        !std::is_sorted(t.unit_ranges_.begin(), t.unit_ranges_.end())) {
        return bad("units beyond the ranges");
    }
    for (std::size_t u = 0; u < h.units; ++u) {
        if (!std::is_sorted(t.ranges_.begin() + t.unit_ranges_[u], t.ranges_.begin() + t.unit_ranges_[u + 1],
                            [](const range& a, const range& b) { return a.start < b.start; })) {
            return bad("ranges out of order");
        }
    }
    t.starts_.resize(h.starts);
    for (unit_start& s : t.starts_) {
        s.address = r.get<std::uint64_t>(), s.unit = r.get<std::uint32_t>();
        if (s.unit >= h.units && s.unit != no_unit) return bad("a unit beyond the table");
    }
    if (!std::is_sorted(t.starts_.begin(), t.starts_.end(),
                        [](const unit_start& a, const unit_start& b) { return a.address < b.address; })) {
        return bad("units out of order");
    }
    for (std::uint64_t k = 0; k < h.skipped; ++k) {
        skipped_line_unit s;
        s.offset = r.get<std::uint64_t>();
        const auto code = r.get<std::uint32_t>();
        if (code > static_cast<std::uint32_t>(errc::system)) return bad("an unknown error");
        s.reason.code = static_cast<errc>(code);
        s.reason.context = r.get_text(r.get<std::uint32_t>());
        t.skipped_.push_back(std::move(s));
    }
    if (!r.ok() || r.left() != 0) return bad(r.ok() ? "bytes after its end" : "truncated");
    return t;
}

} // namespace triage::elf
