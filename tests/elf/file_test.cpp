// elf::file against the binutils oracles (nm, readelf) on real files: libc,
// a pyenv libpython, Debian's stripped python3.11, and libraries built here.
#include <doctest/doctest.h>
#include <elf.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "elf/probe_library.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/oracle_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/elf/file.hpp"

namespace elf = triage::elf;
using namespace triage::elf_testing;
using namespace triage::test_support;

namespace {

const std::string libc_path = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const std::string libpython_path = "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0";
const std::string python_path = "/usr/bin/python3.11";

// "Build ID: <hex>" from readelf -n.
std::string readelf_build_id(const std::string& path) {
    const std::string output = command_output({"readelf", "-nW", path});
    for (std::string_view line : split_lines(output)) {
        auto at = line.find("Build ID: ");
        if (at != std::string_view::npos) return std::string{triage::trim(line.substr(at + 10))};
    }
    return {};
}

std::vector<std::byte> file_bytes(const std::string& path) {
    std::ifstream in{path, std::ios::binary};
    std::vector<char> chars{std::istreambuf_iterator<char>{in}, {}};
    std::vector<std::byte> out(chars.size());
    std::transform(chars.begin(), chars.end(), out.begin(), [](char c) { return std::byte(c); });
    return out;
}

struct nm_symbol {
    std::uint64_t value = 0;
    std::uint64_t size = 0;
};

// Defined dynamic function symbols (nm types T, W, i) in their default
// version: "VALUE SIZE TYPE NAME[@@VERSION]". Symbols that are only a hidden
// version (NAME@VERSION) are not what find_symbol (or dlsym) returns.
std::map<std::string, nm_symbol> nm_dynamic_functions(const std::string& path,
                                                       std::map<std::uint64_t, std::set<std::string>>& names_at) {
    std::map<std::string, nm_symbol> out;
    const std::string output = command_output({"nm", "-D", "-S", "--defined-only", path});
    for (std::string_view line : split_lines(output)) {
        std::string_view value = triage::next_token(line, ' ');
        std::string_view size = triage::next_token(line, ' ');
        std::string_view type = triage::next_token(line, ' ');
        std::string_view name = line;
        if (type.size() != 1 || name.empty()) continue;  // a line without a size
        std::size_t at = name.find('@');
        bool default_version = at == std::string_view::npos || name.substr(at).starts_with("@@");
        std::string bare{name.substr(0, at)};
        names_at[hex_number(value)].insert(bare);
        if (!default_version || (type != "T" && type != "W" && type != "i")) continue;
        out[bare] = nm_symbol{hex_number(value), hex_number(size)};
    }
    return out;
}

void check_against_nm(const std::string& path, std::size_t at_least) {
    auto f = elf::file::open(path);
    REQUIRE_MESSAGE(f.has_value(), failure_text(f));
    std::map<std::uint64_t, std::set<std::string>> names_at;
    auto expected = nm_dynamic_functions(path, names_at);
    CHECK(expected.size() >= at_least);
    std::size_t checked = 0, wrong_value = 0, wrong_at = 0;
    for (const auto& [name, want] : expected) {
        auto s = f->find_symbol(name);
        if (!s || s->value != want.value) {
            if (++wrong_value <= 5) FAIL_CHECK(name << ": nm says " << triage::hex(want.value) << ", find_symbol "
                                                    << (s ? triage::hex(s->value) : "nothing"));
            continue;
        }
        ++checked;
        if (want.size == 0) continue;
        // An address inside the function belongs to it (or to an alias at the same start).
        auto inside = f->symbol_at(want.value + want.size / 2);
        if (!inside || inside->value != want.value || !names_at[want.value].contains(inside->name)) {
            if (++wrong_at <= 5) FAIL_CHECK("symbol_at inside " << name << " gave " << (inside ? inside->name : "nothing"));
        }
    }
    MESSAGE(path << ": " << checked << " dynamic functions agree with nm -D");
    CHECK(wrong_value == 0);
    CHECK(wrong_at == 0);
    CHECK(checked == expected.size());
}

} // namespace

TEST_CASE("find_symbol and symbol_at agree with nm -D on libc") { check_against_nm(libc_path, 1000); }

TEST_CASE("find_symbol and symbol_at agree with nm -D on a pyenv libpython") { check_against_nm(libpython_path, 1000); }

TEST_CASE("find_symbol finds .symtab-only symbols with readelf -s's values") {
    auto f = elf::file::open(libpython_path);
    REQUIRE(f.has_value());
    // Name -> (value, count) over .symtab's defined functions and objects.
    std::map<std::string, std::pair<std::uint64_t, int>> symtab;
    bool in_symtab = false;
    const std::string output = command_output({"readelf", "-sW", libpython_path});
    for (std::string_view line : split_lines(output)) {
        if (line.starts_with("Symbol table")) in_symtab = line.find("'.symtab'") != std::string_view::npos;
        if (!in_symtab) continue;
        std::string_view rest = triage::trim(line);
        std::string_view num = triage::next_token(rest, ' ');
        if (!num.ends_with(":")) continue;
        std::string_view value = triage::next_token(rest, ' ');
        (void)triage::next_token(rest, ' ');  // size
        std::string_view type = triage::next_token(rest, ' ');
        (void)triage::next_token(rest, ' ');  // binding
        (void)triage::next_token(rest, ' ');  // visibility
        std::string_view ndx = triage::next_token(rest, ' ');
        std::string_view name = rest;
        if ((type != "FUNC" && type != "OBJECT") || ndx == "UND" || ndx == "ABS" || name.empty()) continue;
        auto& entry = symtab[std::string{name}];
        entry.first = hex_number(value);
        ++entry.second;
    }
    std::size_t local_only = 0, checked = 0;
    for (const auto& [name, entry] : symtab) {
        if (entry.second != 1) continue;  // a static name defined in several files
        auto s = f->find_symbol(name);
        REQUIRE_MESSAGE(s.has_value(), name);
        CHECK_MESSAGE(s->value == entry.first, name);
        if (s->binding == STB_LOCAL) ++local_only;
        ++checked;
    }
    MESSAGE(checked << " .symtab names checked, " << local_only << " of them local (not in .dynsym)");
    CHECK(checked > 5000);
    CHECK(local_only > 1000);
    CHECK_FALSE(f->find_symbol("triage_no_such_symbol").has_value());
}

TEST_CASE("find_symbol reads SysV-hash-only and GNU-hash-only stripped libraries") {
    scratch_dir dir;
    for (std::string style : {"sysv", "gnu"}) {
        CAPTURE(style);
        std::string lib = dir / ("lib" + style + ".so");
        build_probe_library(dir, lib, 7, {"-s", "-Wl,--hash-style=" + style});
        auto f = elf::file::open(lib);
        REQUIRE(f.has_value());
        CHECK_FALSE(f->section(".symtab").has_value());  // only the hash table can find it
        CHECK(f->section(style == "sysv" ? ".hash" : ".gnu.hash").has_value());
        CHECK_FALSE(f->section(style == "sysv" ? ".gnu.hash" : ".hash").has_value());
        std::map<std::uint64_t, std::set<std::string>> names_at;
        auto expected = nm_dynamic_functions(lib, names_at);
        REQUIRE(expected.contains("triage_probe"));
        auto s = f->find_symbol("triage_probe");
        REQUIRE(s.has_value());
        CHECK(s->value == expected["triage_probe"].value);
        CHECK(s->type == STT_FUNC);
        CHECK(s->binding == STB_GLOBAL);
        CHECK_FALSE(f->find_symbol("triage_probe_missing").has_value());
        CHECK_FALSE(f->find_symbol("").has_value());
    }
}

TEST_CASE("build-ids equal readelf -n, from a path and from bytes") {
    std::vector<std::string> paths{libc_path, libpython_path, python_path, victim_path("elf_loader")};
    for (const auto& path : paths) {
        CAPTURE(path);
        std::string want = readelf_build_id(path);
        REQUIRE(want.size() >= 32);
        auto f = elf::file::open(path);
        REQUIRE(f.has_value());
        auto id = f->build_id();
        REQUIRE(id.has_value());
        CHECK(elf::build_id_hex(*id) == want);
        auto in_memory = elf::file::from_bytes(file_bytes(path), "copy of " + path);
        REQUIRE(in_memory.has_value());
        auto again = in_memory->build_id();
        REQUIRE(again.has_value());
        CHECK(*again == *id);
        CHECK(in_memory->type() == f->type());
        // The type as readelf -h names it: "Type: EXEC (Executable file)" or "DYN ...".
        std::string header = command_output({"readelf", "-h", path});
        CHECK(header.find(f->type() == ET_EXEC ? "EXEC (" : "DYN (") != std::string::npos);
    }
}

TEST_CASE(".gnu_debuglink of python3.11 matches readelf and the debug file's CRC") {
    auto f = elf::file::open(python_path);
    REQUIRE(f.has_value());
    auto link = f->gnu_debuglink();
    REQUIRE(link.has_value());
    std::string dump = command_output({"readelf", "--string-dump=.gnu_debuglink", python_path});
    std::string readelf_name;
    for (std::string_view line : split_lines(dump)) {
        auto at = line.find("[     0]");
        if (at != std::string_view::npos) readelf_name = std::string{triage::trim(line.substr(at + 8))};
    }
    CHECK(link->file == readelf_name);
    // The debug file python3.11-dbg installs under its build-id.
    std::string id = elf::build_id_hex(*f->build_id());
    std::string debug_file = "/usr/lib/debug/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
    auto crc = elf::file_crc32(debug_file);
    REQUIRE_MESSAGE(crc.has_value(), failure_text(crc));
    CHECK(*crc == link->crc32);
    // zlib (through Python) agrees that this is the CRC of the debug file.
    std::string zlib = command_output({"python3", "-c", "import sys, zlib; print(zlib.crc32(open(sys.argv[1], 'rb').read()))", debug_file});
    CHECK(std::to_string(link->crc32) == std::string{triage::trim(zlib)});
    bool libc_has_link = command_output({"readelf", "-SW", libc_path}).find(".gnu_debuglink") != std::string::npos;
    CHECK(elf::file::open(libc_path)->gnu_debuglink().has_value() == libc_has_link);
}

TEST_CASE("sections and load segments agree with readelf -S and -l") {
    auto f = elf::file::open(libc_path);
    REQUIRE(f.has_value());
    std::size_t sections_checked = 0;
    const std::string output = command_output({"readelf", "-SW", libc_path});
    for (std::string_view line : split_lines(output)) {
        // "  [16] .text             PROGBITS        0000000000026700 026700 153d2d 00  AX  0   0 64"
        auto close = line.find("] ");
        if (line.find('[') == std::string_view::npos || close == std::string_view::npos) continue;
        std::string_view rest = triage::trim(line.substr(close + 2));
        std::string_view name = triage::next_token(rest, ' ');
        (void)triage::next_token(rest, ' ');  // type
        std::string_view address = triage::next_token(rest, ' ');
        std::string_view offset = triage::next_token(rest, ' ');
        std::string_view size = triage::next_token(rest, ' ');
        if (!name.starts_with(".")) continue;
        auto s = f->section(name);
        REQUIRE_MESSAGE(s.has_value(), name);
        CHECK(s->address == hex_number(address));
        CHECK(s->offset == hex_number(offset));
        CHECK(s->size == hex_number(size));
        ++sections_checked;
    }
    CHECK(sections_checked > 20);
    CHECK(f->sections().size() >= sections_checked);
    auto text = f->section_data(".text");
    REQUIRE(text.has_value());
    CHECK(text->size() == f->section(".text")->size);
    auto bss = f->section_data(".bss");
    REQUIRE_FALSE(bss.has_value());
    CHECK(bss.error().code == triage::errc::malformed);
    CHECK(f->section_data(".no_such_section").error().code == triage::errc::not_found);

    std::vector<elf::segment> loads;
    const std::string program_headers = command_output({"readelf", "-lW", libc_path});
    for (std::string_view line : split_lines(program_headers)) {
        std::string_view rest = triage::trim(line);
        if (triage::next_token(rest, ' ') != "LOAD") continue;
        elf::segment s;
        s.offset = hex_number(triage::next_token(rest, ' '));
        s.vaddr = hex_number(triage::next_token(rest, ' '));
        (void)triage::next_token(rest, ' ');  // paddr
        s.filesz = hex_number(triage::next_token(rest, ' '));
        s.memsz = hex_number(triage::next_token(rest, ' '));
        std::string flags;
        while (rest.find(' ') != std::string_view::npos) flags += triage::next_token(rest, ' ');
        s.flags = (flags.find('R') != std::string::npos ? PF_R : 0) | (flags.find('W') != std::string::npos ? PF_W : 0) |
                  (flags.find('E') != std::string::npos ? PF_X : 0);
        s.align = hex_number(rest);
        loads.push_back(s);
    }
    REQUIRE(loads.size() >= 2);
    CHECK(f->load_segments() == loads);
}

TEST_CASE("opening errors name the file; truncated images do not crash") {
    auto missing = elf::file::open("/nonexistent/libtriage.so");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code == triage::errc::not_found);
    CHECK(missing.error().message().find("/nonexistent/libtriage.so") != std::string::npos);
    auto text = elf::file::open("/etc/passwd");
    REQUIRE_FALSE(text.has_value());
    CHECK(text.error().code == triage::errc::malformed);
    CHECK(text.error().message().find("/etc/passwd") != std::string::npos);
    CHECK(elf::file::from_bytes({}, "nothing").error().code == triage::errc::malformed);

    // Every prefix length class of a real library: header only, header and
    // program headers, half the file. Whatever opens must answer safely.
    auto whole = file_bytes(victim_path("elf_loader"));
    for (std::size_t length : {std::size_t{16}, std::size_t{64}, std::size_t{100}, std::size_t{1024}, whole.size() / 2,
                               whole.size() - 1}) {
        CAPTURE(length);
        std::vector<std::byte> part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(length));
        auto f = elf::file::from_bytes(std::move(part), "truncated");
        if (!f) continue;
        (void)f->build_id();
        (void)f->find_symbol("main");
        (void)f->symbol_at(0x1000);
        (void)f->gnu_debuglink();
        for (const auto& s : f->sections()) (void)f->section_data(s.name);
    }
}

TEST_CASE("file is move-only and keeps working after a move") {
    auto opened = elf::file::open(libc_path);
    REQUIRE(opened.has_value());
    elf::file moved = std::move(*opened);
    CHECK(moved.name() == libc_path);
    CHECK(moved.handle() != nullptr);
    CHECK(moved.find_symbol("getpid").has_value());
    static_assert(!std::is_copy_constructible_v<elf::file>);
    static_assert(std::is_nothrow_move_constructible_v<elf::file>);
}
