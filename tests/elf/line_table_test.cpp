// elf::line_table against libdw, the oracle: dwfl_module_getsrc +
// dwfl_lineinfo, what unwind/symbolize.hpp asks, on the same addresses.
//  - Real files: Debian's python3.11 debug file (compressed sections), a
//    pyenv libpython with its DWARF inside, libc's debug file; every
//    function symbol's first and last byte and thousands of addresses
//    within functions.
//  - Programs built here with gcc -gdwarf-3/4/5 (optimised or not,
//    -ffunction-sections with --gc-sections, -gz, -gz=zlib-gnu): every
//    address of .text, and the lines of known functions.
//  - Hand-written units (DWARF 2-5, 64-bit DWARF, every opcode, v5 entry
//    forms, rows tied at one address, overlapping and unterminated
//    sequences) linked into a library with a compile unit each, so that
//    libdw reads them too; and malformed ones, alone, truncated at every
//    offset, with every bit flipped, and random bytes (no crash, no
//    out-of-bounds read under the sanitizer build; bad units skipped).
#include <doctest/doctest.h>
#include <dwarf.h>
#include <sys/wait.h>
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/line_table.hpp"

namespace elf = triage::elf;
using namespace triage::test_support;

namespace {

// ---------------------------------------------------------------- the oracle

struct libdw_line {
    std::string file;
    int line = 0;
    int column = 0;
};

// libdw's answer for a file address of `path`, through libdwfl as
// unwind::module_set asks it (a module reported with dwfl_report_elf; its
// DWARF found in the file itself).
class libdw_oracle {
public:
    explicit libdw_oracle(const std::string& path) {
        static const Dwfl_Callbacks callbacks{
            .find_elf = ::dwfl_build_id_find_elf,
            .find_debuginfo = ::dwfl_standard_find_debuginfo,
            .section_address = ::dwfl_offline_section_address,
            .debuginfo_path = nullptr,
        };
        dwfl_ = ::dwfl_begin(&callbacks);
        if (dwfl_ == nullptr) return;
        ::dwfl_report_begin(dwfl_);
        module_ = ::dwfl_report_elf(dwfl_, "oracle", path.c_str(), -1, 0, false);
        ::dwfl_report_end(dwfl_, nullptr, nullptr);
        if (module_ != nullptr && ::dwfl_module_getdwarf(module_, &bias_) == nullptr) module_ = nullptr;
    }
    libdw_oracle(const libdw_oracle&) = delete;
    libdw_oracle& operator=(const libdw_oracle&) = delete;
    ~libdw_oracle() { ::dwfl_end(dwfl_); }

    [[nodiscard]] bool ready() const { return module_ != nullptr; }

    [[nodiscard]] std::optional<libdw_line> at(std::uint64_t file_address) const {
        Dwfl_Line* line = ::dwfl_module_getsrc(module_, file_address + bias_);
        if (line == nullptr) return std::nullopt;
        libdw_line out;
        const char* file = ::dwfl_lineinfo(line, nullptr, &out.line, &out.column, nullptr, nullptr);
        if (file == nullptr) return std::nullopt;
        out.file = file;
        return out;
    }

private:
    Dwfl* dwfl_ = nullptr;
    Dwfl_Module* module_ = nullptr;
    Dwarf_Addr bias_ = 0;
};

// Compares our answers with libdw's. A DWARF 2-4 file in directory 0 is
// named by libdw with the compilation directory in front, which we do not
// read (line_table.hpp): "lines.c" matches "/tmp/x/lines.c", and is counted.
struct comparison {
    std::size_t addresses = 0;
    std::size_t answered = 0;       // both gave a line
    std::size_t without_comp_dir = 0;
    std::size_t mismatches = 0;
    std::vector<std::string> first_mismatches;
};

comparison compare_with_libdw(const elf::line_table& table, const libdw_oracle& oracle,
                              const std::vector<std::uint64_t>& addresses) {
    comparison out;
    for (std::uint64_t address : addresses) {
        ++out.addresses;
        const auto ours = table.find(address);
        const auto theirs = oracle.at(address);
        bool same = ours.has_value() == theirs.has_value();
        bool relative = false;
        if (same && ours) {
            relative = !ours->file.starts_with('/') && theirs->file != ours->file &&
                       theirs->file.ends_with("/" + std::string{ours->file});
            same = (ours->file == theirs->file || relative) && ours->line == theirs->line &&
                   ours->column == theirs->column;
        }
        if (same && ours) {
            ++out.answered;
            if (relative) ++out.without_comp_dir;
        }
        if (same) continue;
        ++out.mismatches;
        if (out.first_mismatches.size() < 12) {
            std::ostringstream what;
            what << "0x" << std::hex << address << std::dec << ": ours "
                 << (ours ? std::string{ours->file} + ":" + std::to_string(ours->line) + ":" +
                                std::to_string(ours->column)
                          : std::string{"none"})
                 << ", libdw "
                 << (theirs ? theirs->file + ":" + std::to_string(theirs->line) + ":" + std::to_string(theirs->column)
                            : std::string{"none"});
            out.first_mismatches.push_back(what.str());
        }
    }
    return out;
}

void require_same_as_libdw(const comparison& c, std::string_view label) {
    std::string first_mismatches;
    for (const auto& m : c.first_mismatches) first_mismatches += "\n  " + m;
    CAPTURE(label);
    CAPTURE(first_mismatches);
    CAPTURE(c.mismatches);
    CHECK(c.mismatches == 0);
    CHECK(c.answered > 0);
}

// ------------------------------------------------------------- real files

struct function_range {
    std::uint64_t start = 0;
    std::uint64_t size = 0;
};

// The defined functions of the file's .symtab (else .dynsym) with a size.
std::vector<function_range> functions_of(const elf::file& f) {
    std::vector<function_range> out;
    for (Elf64_Word wanted : {SHT_SYMTAB, SHT_DYNSYM}) {
        for (Elf_Scn* scn = nullptr; (scn = ::elf_nextscn(f.handle(), scn)) != nullptr;) {
            GElf_Shdr shdr;
            if (::gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != wanted || shdr.sh_entsize == 0) continue;
            Elf_Data* data = ::elf_getdata(scn, nullptr);
            for (std::size_t i = 0; data != nullptr && i < shdr.sh_size / shdr.sh_entsize; ++i) {
                GElf_Sym sym;
                if (::gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
                if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || sym.st_size == 0) continue;
                out.push_back({sym.st_value, sym.st_size});
            }
        }
        if (!out.empty()) break;
    }
    return out;
}

// Every function's first and last byte, and `random` addresses within
// functions (a fixed seed: a failure reproduces).
std::vector<std::uint64_t> addresses_in(const std::vector<function_range>& functions, std::size_t random) {
    std::set<std::uint64_t> out;
    for (const auto& f : functions) {
        out.insert(f.start);
        out.insert(f.start + f.size - 1);
    }
    std::mt19937_64 gen{20240611};
    for (std::size_t i = 0; i < random && !functions.empty(); ++i) {
        const auto& f = functions[gen() % functions.size()];
        out.insert(f.start + gen() % f.size);
    }
    return {out.begin(), out.end()};
}

// The debug file of `binary` under /usr/lib/debug/.build-id; "" when absent.
std::string debug_file_of(const std::string& binary) {
    auto f = elf::file::open(binary);
    if (!f) return {};
    auto id = f->build_id();
    if (!id || id->size() < 2) return {};
    const std::string hex = elf::build_id_hex(*id);
    const std::string path = "/usr/lib/debug/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
    return std::filesystem::exists(path) ? path : std::string{};
}

comparison compare_file(const std::string& path, std::size_t random) {
    auto f = elf::file::open(path);
    REQUIRE_MESSAGE(f.has_value(), failure_text(f));
    auto table = elf::line_table::read(*f);
    REQUIRE_MESSAGE(table.has_value(), failure_text(table));
    for (const auto& s : table->skipped_units()) INFO(s.reason.message());
    CHECK(table->skipped_unit_count() == 0);
    libdw_oracle oracle{path};
    REQUIRE(oracle.ready());
    const auto functions = functions_of(*f);
    REQUIRE(!functions.empty());
    const auto addresses = addresses_in(functions, random);
    comparison c = compare_with_libdw(*table, oracle, addresses);
    MESSAGE(path << ": " << table->unit_count() << " units, " << table->row_count() << " rows; " << c.addresses
                 << " addresses (" << functions.size() << " functions) compared with libdw, " << c.answered
                 << " with a line, " << c.mismatches << " mismatches");
    // The table saved and loaded back (elf/line_cache.hpp) answers as it does.
    const std::string saved = table->serialize();
    auto loaded = elf::line_table::deserialize(std::as_bytes(std::span{saved}));
    REQUIRE_MESSAGE(loaded.has_value(), failure_text(loaded));
    CHECK(loaded->unit_count() == table->unit_count());
    CHECK(loaded->row_count() == table->row_count());
    const comparison again = compare_with_libdw(*loaded, oracle, addresses);
    CHECK(again.answered == c.answered);
    CHECK(again.mismatches == c.mismatches);
    return c;
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// ------------------------------------------------------- programs built here

// Lines of the functions below, as written.
constexpr std::string_view lines_source = R"(#include <stdio.h>

__attribute__((noinline)) int triage_twice(int x)
{
    return 2 * x;
}

__attribute__((noinline)) int triage_sum(int n)
{
    int s = 0;
    for (int i = 0; i < n; ++i)
        s += triage_twice(i);
    return s;
}

int triage_unused(int x) { return x + 1; }

int main(int argc, char** argv)
{
    (void)argv;
    printf("%d\n", triage_sum(argc));
    return 0;
}
)";

// Compiled in `dir` from the relative name "lines.c", as a build system
// does: DWARF 2-4 then name it in directory 0, the compilation directory.
std::string build_lines_program(const scratch_dir& dir, const std::string& name,
                                const std::vector<std::string>& flags) {
    if (!std::filesystem::exists(dir / "lines.c")) std::ofstream{dir / "lines.c"} << lines_source;
    std::vector<std::string> argv{"cc", "-g"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"-o", name, "lines.c"});
    child_process cc{argv, spawn_options{.capture_stderr = true, .working_directory = dir.path()}};
    auto status = cc.wait_for_exit(std::chrono::seconds{120});
    REQUIRE(status.has_value());
    INFO(cc.captured_stderr());
    REQUIRE(WIFEXITED(*status));
    REQUIRE(WEXITSTATUS(*status) == 0);
    return dir / name;
}

std::vector<std::byte> section_copy(const elf::file& f, std::string_view name) {
    auto bytes = f.section_data(name);
    if (!bytes) return {};
    return {bytes->begin(), bytes->end()};
}

// ---------------------------------------------------------- units by hand

// Little-endian bytes, written by hand.
struct byte_writer {
    std::vector<std::byte> out;

    byte_writer& u8(unsigned v) {
        out.push_back(static_cast<std::byte>(v & 0xff));
        return *this;
    }
    byte_writer& fixed(std::uint64_t v, unsigned size) {
        for (unsigned i = 0; i < size; ++i) u8(static_cast<unsigned>(v >> (8 * i)));
        return *this;
    }
    byte_writer& uleb(std::uint64_t v) {
        do {
            const unsigned byte = v & 0x7f;
            v >>= 7;
            u8(v != 0 ? byte | 0x80 : byte);
        } while (v != 0);
        return *this;
    }
    byte_writer& sleb(std::int64_t v) {
        for (;;) {
            const unsigned byte = static_cast<unsigned>(v) & 0x7f;
            v >>= 7;
            if ((v == 0 && (byte & 0x40) == 0) || (v == -1 && (byte & 0x40) != 0)) return u8(byte);
            u8(byte | 0x80);
        }
    }
    byte_writer& str(std::string_view s) {
        for (char c : s) u8(static_cast<unsigned char>(c));
        return u8(0);
    }
    byte_writer& append(const std::vector<std::byte>& bytes) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        return *this;
    }
    [[nodiscard]] std::size_t size() const { return out.size(); }
};

// Strings of .debug_line_str or .debug_str, by offset.
struct string_pool {
    byte_writer bytes;
    std::uint64_t add(std::string_view s) {
        const std::uint64_t at = bytes.size();
        bytes.str(s);
        return at;
    }
};

// A line-number program, opcode by opcode.
struct program_writer : byte_writer {
    int line_base = -5;
    unsigned line_range = 14;
    unsigned opcode_base = 13;

    program_writer& set_address(std::uint64_t a) {
        u8(0).uleb(9).u8(DW_LNE_set_address).fixed(a, 8);
        return *this;
    }
    program_writer& end_sequence() {
        u8(0).uleb(1).u8(DW_LNE_end_sequence);
        return *this;
    }
    program_writer& extended(unsigned opcode, const std::vector<std::byte>& operands) {
        u8(0).uleb(operands.size() + 1).u8(opcode).append(operands);
        return *this;
    }
    program_writer& define_file(std::string_view name, unsigned directory) {
        return extended(DW_LNE_define_file, byte_writer{}.str(name).uleb(directory).uleb(0).uleb(0).out);
    }
    program_writer& copy() {
        u8(DW_LNS_copy);
        return *this;
    }
    program_writer& advance_pc(std::uint64_t n) {
        u8(DW_LNS_advance_pc).uleb(n);
        return *this;
    }
    program_writer& advance_line(std::int64_t n) {
        u8(DW_LNS_advance_line).sleb(n);
        return *this;
    }
    program_writer& set_file(std::uint64_t n) {
        u8(DW_LNS_set_file).uleb(n);
        return *this;
    }
    program_writer& set_column(std::uint64_t n) {
        u8(DW_LNS_set_column).uleb(n);
        return *this;
    }
    program_writer& const_add_pc() {
        u8(DW_LNS_const_add_pc);
        return *this;
    }
    program_writer& fixed_advance_pc(unsigned n) {
        u8(DW_LNS_fixed_advance_pc).fixed(n, 2);
        return *this;
    }
    // A special opcode: advance by `operations`, then the line by `lines`, then a row.
    program_writer& special(unsigned operations, int lines) {
        const int opcode = (lines - line_base) + static_cast<int>(line_range * operations + opcode_base);
        REQUIRE(lines >= line_base);
        REQUIRE(lines < line_base + static_cast<int>(line_range));
        REQUIRE(opcode <= 255);
        u8(static_cast<unsigned>(opcode));
        return *this;
    }
};

struct unit_shape {
    unsigned version = 5;
    bool dwarf64 = false;
    unsigned minimum_instruction_length = 1;
    unsigned maximum_operations = 1;
    int line_base = -5;
    unsigned line_range = 14;
    unsigned opcode_base = 13;
    std::vector<unsigned> newer_opcode_lengths;  // of opcodes 13 .. opcode_base-1
    unsigned address_size = 8;                   // DWARF 5's header
};

program_writer program_for(const unit_shape& shape) {
    program_writer p;
    p.line_base = shape.line_base;
    p.line_range = shape.line_range;
    p.opcode_base = shape.opcode_base;
    return p;
}

std::vector<std::byte> line_unit(const unit_shape& s, const std::vector<std::byte>& tables,
                                 const std::vector<std::byte>& program) {
    const unsigned offset_size = s.dwarf64 ? 8 : 4;
    byte_writer header;  // from minimum_instruction_length to the end of the tables
    header.u8(s.minimum_instruction_length);
    if (s.version >= 4) header.u8(s.maximum_operations);
    header.u8(1).u8(static_cast<unsigned>(s.line_base)).u8(s.line_range).u8(s.opcode_base);
    constexpr unsigned standard[] = {0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};
    for (unsigned op = 1; op < s.opcode_base; ++op) {
        header.u8(op <= 12 ? standard[op - 1] : s.newer_opcode_lengths.at(op - 13));
    }
    header.append(tables);
    byte_writer body;
    body.fixed(s.version, 2);
    if (s.version >= 5) body.u8(s.address_size).u8(0);
    body.fixed(header.size(), offset_size).append(header.out).append(program);
    byte_writer unit;
    if (s.dwarf64) {
        unit.fixed(0xffffffff, 4).fixed(body.size(), 8);
    } else {
        unit.fixed(body.size(), 4);
    }
    return unit.append(body.out).out;
}

// DWARF 2-4: include_directories, then file_names (name, directory index).
std::vector<std::byte> v2_tables(const std::vector<std::string>& directories,
                                 const std::vector<std::pair<std::string, unsigned>>& files) {
    byte_writer w;
    for (const auto& d : directories) w.str(d);
    w.u8(0);
    for (const auto& [name, directory] : files) w.str(name).uleb(directory).uleb(0).uleb(0);
    w.u8(0);
    return w.out;
}

// DWARF 5 tables with the forms GCC uses: paths in .debug_line_str,
// directory indexes as udata.
std::vector<std::byte> v5_tables(string_pool& line_str, const std::vector<std::string>& directories,
                                 const std::vector<std::pair<std::string, unsigned>>& files, unsigned offset_size = 4) {
    byte_writer w;
    w.u8(1).uleb(DW_LNCT_path).uleb(DW_FORM_line_strp).uleb(directories.size());
    for (const auto& d : directories) w.fixed(line_str.add(d), offset_size);
    w.u8(2).uleb(DW_LNCT_path).uleb(DW_FORM_line_strp).uleb(DW_LNCT_directory_index).uleb(DW_FORM_udata);
    w.uleb(files.size());
    for (const auto& [name, directory] : files) w.fixed(line_str.add(name), offset_size).uleb(directory);
    return w.out;
}

std::vector<std::byte> joined(std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// A unit of .debug_line and the addresses its compile unit covers.
struct synthetic_unit {
    std::vector<std::byte> line;
    std::uint64_t low = 0;
    std::uint64_t high = 0;
};

void write_bytes(std::ostream& s, const std::vector<std::byte>& bytes) {
    for (std::size_t i = 0; i < bytes.size(); i += 16) {
        s << "\t.byte ";
        for (std::size_t j = i; j < std::min(bytes.size(), i + 16); ++j) {
            s << (j > i ? "," : "") << std::to_integer<unsigned>(bytes[j]);
        }
        s << '\n';
    }
}

// A shared library whose DWARF is these units, each with a DWARF 4 compile
// unit (DW_AT_stmt_list, comp_dir "/comp") and a .debug_aranges entry
// [low, high), so that libdw finds them as it finds a compiler's.
std::string build_synthetic_library(const scratch_dir& dir, const std::string& name,
                                    const std::vector<synthetic_unit>& units, const std::vector<std::byte>& line_str,
                                    const std::vector<std::byte>& str) {
    std::ostringstream s;
    s << "\t.text\n\t.globl triage_synthetic\ntriage_synthetic:\n\tret\n";
    s << "\t.section .debug_abbrev,\"\",@progbits\n\t.byte 1,0x11,0,0x10,0x17,0x03,0x08,0x1b,0x08,0,0,0\n";
    s << "\t.section .debug_info,\"\",@progbits\n.Linfo:\n";
    std::uint64_t offset = 0;
    for (std::size_t k = 0; k < units.size(); ++k) {
        s << ".Lcu" << k << ":\n\t.long .Lcu" << k << "_end - .Lcu" << k << " - 4\n\t.value 4\n\t.long 0\n\t.byte 8\n"
          << "\t.uleb128 1\n\t.long " << offset << "\n\t.string \"unit" << k << ".c\"\n\t.string \"/comp\"\n.Lcu" << k
          << "_end:\n";
        offset += units[k].line.size();
    }
    s << "\t.section .debug_aranges,\"\",@progbits\n";
    for (std::size_t k = 0; k < units.size(); ++k) {
        s << "\t.long .La" << k << "_end - .La" << k << "_start\n.La" << k << "_start:\n\t.value 2\n\t.long .Lcu" << k
          << " - .Linfo\n\t.byte 8,0\n\t.long 0\n\t.quad " << units[k].low << ", " << units[k].high - units[k].low
          << "\n\t.quad 0, 0\n.La" << k << "_end:\n";
    }
    s << "\t.section .debug_line,\"\",@progbits\n";
    for (const auto& u : units) write_bytes(s, u.line);
    s << "\t.section .debug_line_str,\"\",@progbits\n";
    write_bytes(s, line_str);
    s << "\t.section .debug_str,\"\",@progbits\n";
    write_bytes(s, str);
    const std::string source = dir / (name + ".s");
    std::ofstream{source} << s.str();
    const std::string output = dir / (name + ".so");
    command_output({"cc", "-nostdlib", "-shared", "-o", output, source});
    return output;
}

// The hand-written units of the libdw comparison, one per shape of DWARF.
struct synthetic_units {
    std::vector<synthetic_unit> units;
    string_pool line_str;
    string_pool str;
};

synthetic_units make_synthetic_units() {
    synthetic_units out;
    {
        // DWARF 5 as GCC writes it, plus MD5, sizes, a vendor's content in
        // .debug_line_str, a file name in .debug_str, an inline string, and
        // data1/2/8/16 and block forms to skip. Rows tied at one address; a
        // sequence starting where one ends; a row at the address where its
        // sequence ends; sequences out of address order.
        unit_shape shape;
        byte_writer t;
        t.u8(1).uleb(DW_LNCT_path).uleb(DW_FORM_line_strp).uleb(2);
        t.fixed(out.line_str.add("/src"), 4).fixed(out.line_str.add("include"), 4);
        t.u8(7)
            .uleb(DW_LNCT_path).uleb(DW_FORM_string)
            .uleb(DW_LNCT_directory_index).uleb(DW_FORM_data1)
            .uleb(DW_LNCT_MD5).uleb(DW_FORM_data16)
            .uleb(DW_LNCT_size).uleb(DW_FORM_data8)
            .uleb(DW_LNCT_timestamp).uleb(DW_FORM_block)
            .uleb(0x2001).uleb(DW_FORM_line_strp)  // DW_LNCT_LLVM_source
            .uleb(0x2fff).uleb(DW_FORM_data2);     // a vendor's
        t.uleb(3);
        const std::uint64_t source = out.line_str.add("int main(void) {}");
        for (auto [name, directory] : {std::pair{"a.c", 0u}, {"b.h", 1u}, {"/abs/c.h", 1u}}) {
            t.str(name).u8(directory);
            for (int i = 0; i < 16; ++i) t.u8(0xa0 + i);
            t.fixed(1234, 8).uleb(3).u8(1).u8(2).u8(3).fixed(source, 4).fixed(7, 2);
        }
        program_writer p = program_for(shape);
        p.set_address(0x1000).set_file(0).copy();          // a.c:1 (DWARF 5 counts files from 0)
        p.special(4, 1).advance_pc(4).advance_line(3);     // 0x1004 :2
        p.set_column(7).copy();                            // 0x1008 :5 col 7
        p.advance_line(10).copy();                         // 0x1008 :15, the later row at 0x1008
        p.set_file(1).special(8, -2).set_column(0);        // 0x1010 b.h:13
        p.set_file(2).special(8, 1);                       // 0x1018 /abs/c.h:14
        p.advance_pc(8).end_sequence();                    // ends at 0x1020
        p.set_address(0x1020).set_file(0).advance_line(99).copy();   // starts where the last ended: a.c:100
        p.special(8, 1).end_sequence();                              // a row at 0x1028, and the end there too
        p.set_address(0x1100).set_file(0).advance_line(199).copy();  // a.c:200
        p.advance_pc(0x20).special(0, 2).advance_pc(0x20).end_sequence();
        p.set_address(0x0f00).set_file(0).advance_line(299).copy();  // out of order: a.c:300 at 0x0f00
        p.special(0x10, 1).advance_pc(0x10).end_sequence();
        out.units.push_back({line_unit(shape, t.out, p.out), 0x0f00, 0x1140});
    }
    {
        // DWARF 4 in 64-bit DWARF: instructions of 4 bytes, an opcode newer
        // than DWARF 5 with two operands, a vendor's extended opcode, a
        // discriminator, DW_LNE_define_file, const_add_pc and
        // fixed_advance_pc, a file in directory 0 (the compilation
        // directory, in .debug_info).
        unit_shape shape;
        shape.version = 4;
        shape.dwarf64 = true;
        shape.minimum_instruction_length = 4;
        shape.opcode_base = 14;
        shape.newer_opcode_lengths = {2};
        program_writer p = program_for(shape);
        p.set_address(0x2000).copy();                                      // x.c:1 (directory 0)
        p.u8(13).uleb(300).uleb(5);                                        // opcode 13: skipped
        p.extended(0x80, byte_writer{}.u8(1).u8(2).u8(3).out);             // a vendor's: skipped
        p.extended(DW_LNE_set_discriminator, byte_writer{}.uleb(3).out);
        p.special(2, 3);                                                   // 0x2008 :4
        p.const_add_pc().copy();                                           // + 17 * 4 = 0x204c :4
        p.fixed_advance_pc(0x10).advance_line(-2).copy();                  // 0x205c :2 (not scaled)
        p.define_file("defined.c", 1).set_file(3).special(1, 0);           // 0x2060 dir/defined.c:2
        p.set_file(2).special(1, 5).advance_pc(2).end_sequence();          // 0x2064 dir/y.c:7; end 0x206c
        out.units.push_back(
            {line_unit(shape, v2_tables({"dir"}, {{"x.c", 0}, {"y.c", 1}}), p.out), 0x2000, 0x2070});
    }
    {
        // DWARF 3 with opcode_base 10 (opcodes 10-12 are special) and a last
        // sequence without its end (libdw ends it at its last row).
        unit_shape shape;
        shape.version = 3;
        shape.opcode_base = 10;
        program_writer p = program_for(shape);
        p.set_address(0x3000).set_file(1).copy();          // /abs/z.c:1
        p.u8(10);                                          // special: +0 address, line -5: -4
        p.special(6, 8).special(6, 1);                     // 0x3006 :4, 0x300c :5
        p.end_sequence();                                  // at 0x300c too
        p.set_address(0x3100).advance_line(40).copy();     // :41
        p.special(8, 1).special(8, 1);                     // 0x3108 :42, 0x3110 :43 (taken as the end)
        out.units.push_back({line_unit(shape, v2_tables({}, {{"/abs/z.c", 0}}), p.out), 0x3000, 0x3120});
    }
    {
        // DWARF 2 (opcode_base 10), sequences overlapping within the unit:
        // libdw sorts all rows of a unit together.
        unit_shape shape;
        shape.version = 2;
        shape.opcode_base = 10;
        program_writer p = program_for(shape);
        p.set_address(0x4000).copy();                                           // /inc/w.c:1
        p.advance_pc(0x40).advance_line(1).copy().advance_pc(0x40).advance_line(1).copy();  // 0x4040 :2, 0x4080 :3
        p.advance_pc(0x40).end_sequence();                                      // 0x40c0
        p.set_address(0x4060).advance_line(50).copy().special(0x10, 1);         // 0x4060 :51, 0x4070 :52
        p.advance_pc(0x10).end_sequence();                                      // 0x4080, where :3 is
        p.set_address(0x4200).advance_line(100).copy();                         // :101
        p.advance_pc(0x20).advance_line(1).copy().advance_pc(0x20).end_sequence();  // 0x4220 :102, 0x4240
        p.set_address(0x4200).advance_line(7).copy().advance_pc(0x10).end_sequence();  // the same start: :8
        out.units.push_back({line_unit(shape, v2_tables({"/inc"}, {{"w.c", 1}}), p.out), 0x4000, 0x4240});
    }
    {
        // DWARF 5 in 64-bit DWARF; a file name in .debug_str, the file's
        // directory as a udata; file 0 used.
        unit_shape shape;
        shape.dwarf64 = true;
        byte_writer t;
        t.u8(1).uleb(DW_LNCT_path).uleb(DW_FORM_string).uleb(1).str("/five");
        t.u8(2).uleb(DW_LNCT_directory_index).uleb(DW_FORM_udata).uleb(DW_LNCT_path).uleb(DW_FORM_strp);
        t.uleb(2).uleb(0).fixed(out.str.add("zero.c"), 8).uleb(0).fixed(out.str.add("one.c"), 8);
        program_writer p = program_for(shape);
        p.set_address(0x5000).set_file(0).copy().set_file(1).special(4, 2).advance_pc(4).end_sequence();
        out.units.push_back({line_unit(shape, t.out, p.out), 0x5000, 0x5010});
    }
    return out;
}

std::vector<std::byte> all_lines(const synthetic_units& s) {
    std::vector<std::byte> out;
    for (const auto& u : s.units) out.insert(out.end(), u.line.begin(), u.line.end());
    return out;
}

std::string answer(const elf::line_table& table, std::uint64_t address) {
    auto at = table.find(address);
    return at ? std::string{at->file} + ":" + std::to_string(at->line) + ":" + std::to_string(at->column) : "none";
}

// Looks up addresses in a table that may be nonsense: must not crash.
std::size_t probe(const elf::line_table& table) {
    std::size_t found = 0;
    for (std::uint64_t a : {std::uint64_t{0}, std::uint64_t{0x1000}, std::uint64_t{0x1008}, std::uint64_t{0x2064},
                            std::uint64_t{0x3108}, std::uint64_t{0x4070}, std::uint64_t{0x5004}, ~std::uint64_t{0}}) {
        if (auto at = table.find(a)) found += at->file.size() + 1;
    }
    return found;
}

} // namespace

// ---------------------------------------------------------------- the tests

TEST_CASE("line_table: Debian's python3.11 debug file (compressed) gives libdw's lines; the time of each") {
    const std::string path = debug_file_of("/usr/bin/python3.11");
    if (path.empty()) {
        MESSAGE("skipped: no debug file for /usr/bin/python3.11 (install python3.11-dbg)");
        return;
    }
    const comparison c = compare_file(path, 4000);
    require_same_as_libdw(c, path);

    // The time to the first answers: ours (read, then 200 lookups) against
    // libdw's first dwfl_module_getsrc (which reads every .debug_* section).
    auto f = elf::file::open(path);
    REQUIRE(f.has_value());
    const auto functions = functions_of(*f);
    std::vector<std::uint64_t> sample;
    for (std::size_t i = 0; i < 200; ++i) sample.push_back(functions[i * functions.size() / 200].start);
    const auto ours_start = std::chrono::steady_clock::now();
    auto table = elf::line_table::read(*f);
    REQUIRE(table.has_value());
    const double read_ms = milliseconds_since(ours_start);
    std::size_t found = 0;
    for (std::uint64_t a : sample) found += table->find(a).has_value();
    const double ours_ms = milliseconds_since(ours_start);
    const auto libdw_start = std::chrono::steady_clock::now();
    libdw_oracle oracle{path};
    REQUIRE(oracle.ready());
    (void)oracle.at(sample.front());
    const double libdw_ms = milliseconds_since(libdw_start);
    CHECK(found > 150);
    MESSAGE("python3.11 debug file: line_table::read " << read_ms << " ms, + 200 lookups " << ours_ms
                                                       << " ms; libdw to its first dwfl_module_getsrc " << libdw_ms
                                                       << " ms");

    // Without .debug_aranges, units are chosen by where their sequences
    // start (libdw 0.188 gives no line at all then): how far that is from it.
    auto section = [&](const char* name) {
        auto bytes = f->section_data(name);  // decompressed by read() above
        return bytes ? *bytes : std::span<const std::byte>{};
    };
    auto by_sequences =
        elf::line_table::parse(section(".debug_line"), section(".debug_line_str"), section(".debug_str"));
    REQUIRE(by_sequences.has_value());
    const comparison without = compare_with_libdw(*by_sequences, oracle, addresses_in(functions, 4000));
    MESSAGE("without .debug_aranges: " << without.mismatches << " of " << without.addresses
                                       << " addresses differ from libdw's answers (with it)");
    CHECK(without.mismatches * 100 < without.addresses);
}

TEST_CASE("line_table: a pyenv libpython with its DWARF inside gives libdw's lines") {
    const auto pythons = pyenv_interpreters();
    if (pythons.empty()) {
        MESSAGE("skipped: no pyenv interpreter under " << pyenv_root().string());
        return;
    }
    // The oldest and the newest build: two compilers' worth of DWARF, maybe.
    std::set<std::string> paths;
    for (const auto* python : {&pythons.front(), &pythons.back()}) {
        paths.insert(python->libpython.empty() ? python->path : python->libpython);
    }
    for (const auto& path : paths) {
        auto f = elf::file::open(path);
        REQUIRE(f.has_value());
        if (!f->section(".debug_line")) {
            MESSAGE("skipped " << path << ": no .debug_line");
            continue;
        }
        require_same_as_libdw(compare_file(path, 3000), path);
    }
}

TEST_CASE("line_table: libc's debug file gives libdw's lines") {
    std::error_code ec;
    const std::string libc = std::filesystem::canonical("/lib/x86_64-linux-gnu/libc.so.6", ec).string();
    const std::string path = ec ? std::string{} : debug_file_of(libc);
    if (path.empty()) {
        MESSAGE("skipped: no debug file for libc (install libc6-dbg)");
        return;
    }
    require_same_as_libdw(compare_file(path, 3000), path);
}

TEST_CASE("line_table: programs built with gcc -gdwarf-3/4/5 give libdw's lines, and known functions' lines") {
    scratch_dir dir{"line-table"};
    struct variant {
        std::string name;
        std::vector<std::string> flags;
        bool optimised;
    };
    const std::vector<variant> variants{
        {"dwarf5", {"-gdwarf-5", "-O0"}, false},
        {"dwarf4", {"-gdwarf-4", "-O0"}, false},
        {"dwarf3", {"-gdwarf-3", "-O2"}, true},
        {"gc_sections", {"-gdwarf-5", "-O2", "-ffunction-sections", "-Wl,--gc-sections"}, true},
        {"compressed", {"-gdwarf-5", "-O1", "-gz=zlib"}, true},
        {"compressed_gnu", {"-gdwarf-4", "-O1", "-gz=zlib-gnu"}, true},
    };
    for (const auto& v : variants) {
        CAPTURE(v.name);
        const std::string program = build_lines_program(dir, v.name, v.flags);
        auto f = elf::file::open(program);
        REQUIRE(f.has_value());
        auto table = elf::line_table::read(*f);
        REQUIRE_MESSAGE(table.has_value(), failure_text(table));
        CHECK(table->skipped_unit_count() == 0);

        // The line of each function's first instruction.
        auto line_of = [&](const char* function) {
            auto s = f->find_symbol(function);
            REQUIRE(s.has_value());
            auto at = table->find(s->value);
            REQUIRE(at.has_value());
            CHECK(at->file.ends_with("lines.c"));
            return at->line;
        };
        if (v.optimised) {
            CHECK((line_of("triage_twice") == 4 || line_of("triage_twice") == 5));
        } else {
            CHECK(line_of("triage_twice") == 4);
        }
        CHECK(line_of("triage_sum") == 9);
        CHECK(line_of("main") == 19);

        // Every address of .text, and a little around it.
        auto text = f->section(".text");
        REQUIRE(text.has_value());
        std::vector<std::uint64_t> addresses;
        for (std::uint64_t a = text->address - 16; a < text->address + text->size + 16; ++a) addresses.push_back(a);
        libdw_oracle oracle{program};
        REQUIRE(oracle.ready());
        const comparison c = compare_with_libdw(*table, oracle, addresses);
        require_same_as_libdw(c, v.name);
        if (v.flags.front() != "-gdwarf-5") CHECK(c.without_comp_dir > 0);  // lines.c, in directory 0
    }
}

TEST_CASE("line_table: hand-written units of DWARF 2-5 give libdw's lines at every address") {
    scratch_dir dir{"line-table"};
    const synthetic_units s = make_synthetic_units();
    const std::string library =
        build_synthetic_library(dir, "synthetic", s.units, s.line_str.bytes.out, s.str.bytes.out);
    auto f = elf::file::open(library);
    REQUIRE(f.has_value());
    auto table = elf::line_table::read(*f);
    REQUIRE_MESSAGE(table.has_value(), failure_text(table));
    for (const auto& skipped : table->skipped_units()) INFO(skipped.reason.message());
    CHECK(table->unit_count() == s.units.size());
    CHECK(table->skipped_unit_count() == 0);

    // The rules, spelled out.
    CHECK(answer(*table, 0x0fff) == "none");
    CHECK(answer(*table, 0x0f00) == "/src/a.c:300:0");
    CHECK(answer(*table, 0x1000) == "/src/a.c:1:0");
    CHECK(answer(*table, 0x1007) == "/src/a.c:2:0");
    CHECK(answer(*table, 0x1008) == "/src/a.c:15:7");  // of two rows at 0x1008, the later
    CHECK(answer(*table, 0x1010) == "include/b.h:13:7");
    CHECK(answer(*table, 0x1018) == "/abs/c.h:14:0");
    CHECK(answer(*table, 0x1020) == "/src/a.c:100:0");  // a sequence ends, another starts: the one starting
    CHECK(answer(*table, 0x1027) == "/src/a.c:100:0");
    CHECK(answer(*table, 0x1028) == "/src/a.c:101:0");  // a row where its sequence ends answers on,
    CHECK(answer(*table, 0x10ff) == "/src/a.c:101:0");  // up to the unit's next row
    CHECK(answer(*table, 0x1140) == "none");
    CHECK(answer(*table, 0x2000) == "x.c:1:0");  // directory 0 of DWARF 4: libdw says /comp/x.c
    CHECK(answer(*table, 0x2008) == "x.c:4:0");
    CHECK(answer(*table, 0x204c) == "x.c:4:0");
    CHECK(answer(*table, 0x205c) == "x.c:2:0");
    CHECK(answer(*table, 0x2060) == "dir/defined.c:2:0");
    CHECK(answer(*table, 0x206b) == "dir/y.c:7:0");
    CHECK(answer(*table, 0x206c) == "none");
    CHECK(answer(*table, 0x3000) == "/abs/z.c:-4:0");
    CHECK(answer(*table, 0x310f) == "/abs/z.c:42:0");
    CHECK(answer(*table, 0x3110) == "none");  // the unit's last row is taken as an end
    CHECK(answer(*table, 0x5000) == "/five/zero.c:1:0");
    CHECK(answer(*table, 0x5004) == "/five/one.c:3:0");

    libdw_oracle oracle{library};
    REQUIRE(oracle.ready());
    std::vector<std::uint64_t> addresses;
    for (std::uint64_t a = 0x0e00; a < 0x5100; ++a) addresses.push_back(a);
    const comparison c = compare_with_libdw(*table, oracle, addresses);
    require_same_as_libdw(c, "synthetic");
    CHECK(c.without_comp_dir > 0);
    auto theirs = oracle.at(0x2000);
    REQUIRE(theirs.has_value());
    CHECK(theirs->file == "/comp/x.c");
}

TEST_CASE("line_table: parse keeps the good units and says why it skipped the others") {
    string_pool line_str;
    auto good = [&](std::uint64_t address) {
        program_writer p;
        p.set_address(address).set_file(0).copy().advance_pc(8).end_sequence();
        return line_unit({}, v5_tables(line_str, {"/d"}, {{"f.c", 0}}), p.out);
    };
    auto with_program = [&](const program_writer& p) {
        return line_unit({}, v5_tables(line_str, {"/d"}, {{"f.c", 0}}), p.out);
    };
    auto parse = [&](const std::vector<std::byte>& bytes) {
        return elf::line_table::parse(bytes, line_str.bytes.out, {});
    };
    auto skipped_with = [&](const std::vector<std::byte>& bad, triage::errc code) {
        auto table = parse(joined({good(0x100), bad, good(0x200)}));
        REQUIRE_MESSAGE(table.has_value(), failure_text(table));
        CHECK(table->unit_count() == 2);
        REQUIRE(table->skipped_unit_count() == 1);
        const auto& skipped = table->skipped_units().front();
        INFO(skipped.reason.message());
        CHECK(skipped.reason.code == code);
        CHECK(skipped.offset == good(0x100).size());
        CHECK(answer(*table, 0x100) == "/d/f.c:1:0");
        CHECK(answer(*table, 0x200) == "/d/f.c:1:0");
        // Alone, the bad unit's error is parse's.
        auto alone = parse(bad);
        REQUIRE(!alone.has_value());
        CHECK(alone.error().code == code);
    };

    SUBCASE("an empty section is an empty table") {
        auto table = parse({});
        REQUIRE(table.has_value());
        CHECK(table->unit_count() == 0);
        CHECK(!table->find(0).has_value());
    }
    SUBCASE("DWARF version 6") {
        unit_shape shape;
        shape.version = 6;
        skipped_with(line_unit(shape, {}, {}), triage::errc::unsupported);
    }
    SUBCASE("an entry form we do not read (DW_FORM_strx1)") {
        byte_writer t;
        t.u8(1).uleb(DW_LNCT_path).uleb(0x25).uleb(1).u8(0);
        t.u8(0).uleb(0);
        skipped_with(line_unit({}, t.out, {}), triage::errc::unsupported);
    }
    SUBCASE("a LEB128 number over 64 bits") {
        program_writer p;
        p.set_address(0x300).set_file(0).u8(DW_LNS_advance_pc);
        for (int i = 0; i < 10; ++i) p.u8(0x80);
        p.u8(1);
        p.copy();
        skipped_with(with_program(p), triage::errc::malformed);
    }
    SUBCASE("a row in a file the table does not have") {
        program_writer p;
        p.set_address(0x300).set_file(9).copy().advance_pc(4).end_sequence();
        skipped_with(with_program(p), triage::errc::malformed);
    }
    SUBCASE("a file in a directory the table does not have") {
        skipped_with(line_unit({}, v5_tables(line_str, {"/d"}, {{"f.c", 3}}), {}), triage::errc::malformed);
    }
    SUBCASE("a header_length past the unit's end") {
        auto bad = good(0x300);
        bad[10] = std::byte{0xff};  // header_length's third byte (after unit_length, version, sizes)
        skipped_with(bad, triage::errc::malformed);
    }
    SUBCASE("a header_length that disagrees with the tables") {
        auto bad = good(0x300);
        bad[8] = static_cast<std::byte>(std::to_integer<unsigned>(bad[8]) - 1);  // header_length, one short
        skipped_with(bad, triage::errc::malformed);
    }
    SUBCASE("a string offset past .debug_line_str") {
        byte_writer t;
        t.u8(1).uleb(DW_LNCT_path).uleb(DW_FORM_line_strp).uleb(1).fixed(1 << 20, 4);
        t.u8(0).uleb(0);
        skipped_with(line_unit({}, t.out, {}), triage::errc::malformed);
    }
    SUBCASE("more entries than bytes") {
        byte_writer t;
        t.u8(1).uleb(DW_LNCT_path).uleb(DW_FORM_string).uleb(std::uint64_t{1} << 40);
        skipped_with(line_unit({}, t.out, {}), triage::errc::malformed);
    }
    SUBCASE("an address size that is not the file's") {
        unit_shape shape;
        shape.address_size = 4;
        skipped_with(line_unit(shape, v5_tables(line_str, {"/d"}, {{"f.c", 0}}), {}), triage::errc::malformed);
    }
    SUBCASE("a truncated line-number program") {
        program_writer p;
        p.set_address(0x300).set_file(0).copy().u8(DW_LNS_advance_pc);
        skipped_with(with_program(p), triage::errc::malformed);
    }
    SUBCASE("a unit_length past the section's end ends the walk") {
        auto bad = good(0x300);
        bad[2] = std::byte{0x10};  // unit_length + 1 MiB
        auto table = parse(joined({good(0x100), bad, good(0x200)}));
        REQUIRE(table.has_value());
        CHECK(table->unit_count() == 1);
        REQUIRE(table->skipped_unit_count() == 1);
        CHECK(table->skipped_units().front().reason.code == triage::errc::malformed);
        CHECK(answer(*table, 0x100) == "/d/f.c:1:0");
        CHECK(answer(*table, 0x200) == "none");
    }
    SUBCASE("when no unit parses, the first unit's error") {
        unit_shape v6;
        v6.version = 6;
        auto table = parse(joined({line_unit(v6, {}, {}), std::vector<std::byte>(3, std::byte{1})}));
        REQUIRE(!table.has_value());
        CHECK(table.error().code == triage::errc::unsupported);
        CHECK(table.error().context.find("offset 0x0 ") != std::string::npos);
    }
}

TEST_CASE("line_table::read: no .debug_line is not_found; a relocatable object is unsupported") {
    scratch_dir dir{"line-table"};
    const std::string stripped = build_lines_program(dir, "stripped", {"-O1", "-s", "-g0"});
    auto f = elf::file::open(stripped);
    REQUIRE(f.has_value());
    auto table = elf::line_table::read(*f);
    REQUIRE(!table.has_value());
    CHECK(table.error().code == triage::errc::not_found);
    CHECK(table.error().message().find(stripped) != std::string::npos);

    const std::string object = build_lines_program(dir, "lines.o", {"-c", "-O1"});
    auto o = elf::file::open(object);
    REQUIRE(o.has_value());
    auto from_object = elf::line_table::read(*o);
    REQUIRE(!from_object.has_value());
    CHECK(from_object.error().code == triage::errc::unsupported);
}

TEST_CASE("line_table::parse survives truncation at every offset, every bit flipped, and random bytes") {
    scratch_dir dir{"line-table"};
    const synthetic_units s = make_synthetic_units();
    const std::vector<std::byte> synthetic = all_lines(s);
    const std::string program = build_lines_program(dir, "fuzzed", {"-gdwarf-5", "-O2"});
    auto f = elf::file::open(program);
    REQUIRE(f.has_value());
    struct input {
        std::vector<std::byte> line, line_str, str;
    };
    const std::vector<input> inputs{
        {section_copy(*f, ".debug_line"), section_copy(*f, ".debug_line_str"), section_copy(*f, ".debug_str")},
        {synthetic, s.line_str.bytes.out, s.str.bytes.out},
    };
    std::size_t parsed = 0, failed = 0, found = 0;
    auto run = [&](const std::vector<std::byte>& line, const input& in) {
        auto table = elf::line_table::parse(line, in.line_str, in.str);
        if (!table) {
            ++failed;
            CHECK(!table.error().context.empty());
            return;
        }
        ++parsed;
        found += probe(*table);
    };
    for (const auto& in : inputs) {
        REQUIRE(!in.line.empty());
        for (std::size_t n = 0; n <= in.line.size(); ++n) {
            run(std::vector<std::byte>(in.line.begin(), in.line.begin() + static_cast<std::ptrdiff_t>(n)), in);
        }
        for (std::size_t bit = 0; bit < in.line.size() * 8; ++bit) {
            auto flipped = in.line;
            flipped[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
            run(flipped, in);
        }
        // Strings sections cut short under a good .debug_line.
        for (std::size_t n = 0; n < in.line_str.size(); n += 3) {
            input cut = in;
            cut.line_str.resize(n);
            run(in.line, cut);
        }
    }
    std::mt19937_64 gen{7};
    for (int i = 0; i < 3000; ++i) {
        std::vector<std::byte> bytes(gen() % 600);
        for (auto& b : bytes) b = static_cast<std::byte>(gen());
        if (i % 2 == 0 && bytes.size() >= 6) {  // a plausible unit_length and version, so that headers get read
            const std::uint32_t length = static_cast<std::uint32_t>(bytes.size() - 4);
            for (int k = 0; k < 4; ++k) bytes[k] = static_cast<std::byte>(length >> (8 * k));
            bytes[4] = static_cast<std::byte>(2 + gen() % 4);
            bytes[5] = std::byte{0};
        }
        run(bytes, inputs[1]);
    }
    MESSAGE(parsed << " inputs parsed (some units skipped), " << failed << " refused");
    CHECK(parsed > 0);
    CHECK(failed > 0);
    CHECK(found > 0);
}

TEST_CASE("line_table::deserialize takes back what serialize wrote, refuses every truncation, survives every bit flipped") {
    const synthetic_units s = make_synthetic_units();
    // The synthetic units, and one that is skipped: its reason is saved too.
    std::vector<std::byte> line = all_lines(s);
    const std::vector<std::byte> bad{std::byte{8}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{9},
                                     std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                     std::byte{0}};  // DWARF version 9
    line.insert(line.end(), bad.begin(), bad.end());
    auto table = elf::line_table::parse(line, s.line_str.bytes.out, s.str.bytes.out);
    REQUIRE(table.has_value());
    REQUIRE(table->skipped_unit_count() == 1);
    const std::string saved = table->serialize();
    auto loaded = elf::line_table::deserialize(std::as_bytes(std::span{saved}));
    REQUIRE_MESSAGE(loaded.has_value(), failure_text(loaded));
    CHECK(loaded->serialize() == saved);
    for (std::uint64_t a = 0x0e00; a < 0x5100; ++a) REQUIRE(answer(*loaded, a) == answer(*table, a));
    REQUIRE(loaded->skipped_unit_count() == 1);
    CHECK(loaded->skipped_units().front().reason.message() == table->skipped_units().front().reason.message());

    const auto bytes = std::as_bytes(std::span{saved});
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto cut = elf::line_table::deserialize(bytes.first(n));
        REQUIRE_MESSAGE(!cut.has_value(), "a table cut at " << n << " of " << bytes.size() << " bytes was taken");
        REQUIRE(cut.error().code == triage::errc::malformed);
    }
    std::size_t taken = 0, found = 0;
    for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
        std::string flipped = saved;
        flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
        auto t = elf::line_table::deserialize(std::as_bytes(std::span{flipped}));
        if (!t) continue;
        ++taken;  // a flip in a line, a column or an address: a table still, and safe to ask
        found += probe(*t);
    }
    MESSAGE(bytes.size() << " bytes saved; " << taken << " of " << bytes.size() * 8
                         << " one-bit flips still read as a table (" << found << ")");
    CHECK(taken < bytes.size() * 8);
}
