// plt::call_sites on one C program built every way an object calls an
// imported function (tests/victims/plt/plt_calls.c: classic lazy PLT, IBT
// .plt.sec, BIND_NOW, -fno-plt, non-PIE, static), on pyenv's shared
// libpython2.7 (the incident's interpreter) and on Debian's python3.11.
// Oracles: binutils. `objdump -d` names each stub (`strchr@plt`, and a
// static executable's `*ABS*+0x…@plt`); `readelf -rW` lists the
// relocations, whose slots must be exactly the sites' GOT slots.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "triage/elf/file.hpp"
#include "triage/plt/call_sites.hpp"

using triage::test_support::failure_text;

namespace {

using triage::plt::call_site;
using triage::plt::stub_kind;

std::string victim(const std::string& variant) { return std::string(TRIAGE_VICTIM_DIR) + "/plt_calls_" + variant; }

std::vector<call_site> sites_of(const std::string& path) {
    auto file = triage::elf::file::open(path);
    REQUIRE_MESSAGE(file, failure_text(file));
    auto sites = triage::plt::call_sites(*file);
    REQUIRE_MESSAGE(sites, failure_text(sites));
    return std::move(*sites);
}

// objdump's stub labels: address → name without "@plt".
std::map<std::uint64_t, std::string> objdump_stubs(const std::string& path) {
    auto r = triage::test_support::run_command({"objdump", "-d", "-j", ".plt", "-j", ".plt.sec", "-j", ".plt.got", path});
    REQUIRE(r.exit_code == 0);
    std::map<std::uint64_t, std::string> out;
    std::istringstream in(r.out);
    const std::regex label(R"(^([0-9a-f]+) <(.+)@plt>:$)");
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, label)) out[std::stoull(m[1], nullptr, 16)] = m[2];
    }
    return out;
}

// A static executable's .plt has no labels: objdump's comment on each
// `jmp *…(%rip)` names the slot it goes through. Address → slot.
std::map<std::uint64_t, std::uint64_t> objdump_jumps(const std::string& path) {
    auto r = triage::test_support::run_command({"objdump", "-d", "-j", ".plt", path});
    REQUIRE(r.exit_code == 0);
    std::map<std::uint64_t, std::uint64_t> out;
    std::istringstream in(r.out);
    const std::regex jump(R"(^\s*([0-9a-f]+):\s+ff 25 .*jmp\s+\*0x[0-9a-f]+\(%rip\)\s+# ([0-9a-f]+) .*$)");
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, jump)) out[std::stoull(m[1], nullptr, 16)] = std::stoull(m[2], nullptr, 16);
    }
    return out;
}

// readelf's relocations of the kinds call sites come from: slot → symbol
// ("" for IRELATIVE, which has none). GLOB_DAT is kept only for functions,
// which readelf does not say: `functions` lists them (from the sites).
std::map<std::uint64_t, std::string> readelf_slots(const std::string& path) {
    auto r = triage::test_support::run_command({"readelf", "-rW", path});
    REQUIRE(r.exit_code == 0);
    std::map<std::uint64_t, std::string> out;
    std::istringstream in(r.out);
    const std::regex row(R"(^([0-9a-f]+)\s+[0-9a-f]+\s+(R_X86_64_JUMP_SLOT|R_X86_64_GLOB_DAT|R_X86_64_IRELATIVE)\s+(\S*)\s*(\S*).*$)");
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_match(line, m, row)) continue;
        std::string name = m[2] == "R_X86_64_IRELATIVE" ? "" : std::string(m[4]);
        if (auto at = name.find('@'); at != std::string::npos) name.resize(at);  // memset@GLIBC_2.2.5
        out[std::stoull(m[1], nullptr, 16)] = name;
    }
    return out;
}

const call_site* site_named(const std::vector<call_site>& sites, const std::string& name) {
    for (const auto& s : sites)
        if (s.function == name) return &s;
    return nullptr;
}

// Every stub objdump names is a site with that name (static: objdump has no
// name, the site has the ifunc's), and every site with a stub is one objdump
// names; every JUMP_SLOT and IRELATIVE slot is a site's slot.
void check_against_binutils(const std::string& path, const std::vector<call_site>& sites) {
    CAPTURE(path);
    auto stubs = objdump_stubs(path);
    if (stubs.empty()) {  // static: every jump of .plt is a stub, named by its slot's relocation
        const auto slots = readelf_slots(path);
        for (const auto& [address, slot] : objdump_jumps(path)) {
            if (slots.contains(slot)) stubs[address] = "*ABS*";
            for (const auto& s : sites)
                if (s.stub == address) CHECK(s.got == slot);
        }
        REQUIRE(!stubs.empty());
    }
    std::set<std::uint64_t> ours;
    for (const auto& s : sites) {
        CAPTURE(s.function);
        CHECK(!s.function.empty());
        if (s.stub == 0) continue;
        ours.insert(s.stub);
        auto it = stubs.find(s.stub);
        REQUIRE_MESSAGE(it != stubs.end(), "objdump has no stub at " << std::hex << s.stub);
        if (!it->second.starts_with("*ABS*")) CHECK(it->second == s.function);
    }
    for (const auto& [address, name] : stubs) {
        CAPTURE(name);
        CHECK(ours.contains(address));
    }
    std::map<std::uint64_t, std::string> got;
    for (const auto& s : sites) got[s.got] = s.function;
    for (const auto& [slot, name] : readelf_slots(path)) {
        CAPTURE(slot);
        auto it = got.find(slot);
        if (it != got.end()) {
            if (!name.empty()) CHECK(it->second == name);
        } else {
            // Only a GLOB_DAT of data or of a weak reference is not a call.
            CHECK(name != "strchr");
            CHECK(name != "memset");
        }
    }
}

} // namespace

TEST_CASE("call sites of one program built every way match binutils") {
    const std::map<std::string, stub_kind> expected_kind = {
        {"classic", stub_kind::plt}, {"ibt", stub_kind::plt_sec}, {"bindnow", stub_kind::plt},
        {"noplt", stub_kind::got_only}, {"nopie", stub_kind::plt}, {"static", stub_kind::plt}};
    for (const auto& [variant, kind] : expected_kind) {
        CAPTURE(variant);
        const auto sites = sites_of(victim(variant));
        check_against_binutils(victim(variant), sites);
        for (const char* function : {"memset", "strchr", "strlen", "malloc"}) {
            CAPTURE(function);
            const call_site* s = site_named(sites, function);
            if (variant == "static" && std::string(function) == "malloc") {
                CHECK(s == nullptr);  // a plain call in a static executable: no stub, no slot
                continue;
            }
            REQUIRE(s != nullptr);
            CHECK(s->kind == kind);
            CHECK((s->stub == 0) == (kind == stub_kind::got_only));
            CHECK(s->got != 0);
        }
    }
}

TEST_CASE("call sites of the incident's libpython2.7 and of Debian's python3.11") {
    const std::string libpython = "/root/.pyenv/versions/2.7.18/lib/libpython2.7.so.1.0";
    for (const std::string& path : {libpython, std::string("/usr/bin/python3.11")}) {
        CAPTURE(path);
        const auto sites = sites_of(path);
        check_against_binutils(path, sites);
        const call_site* strchr_site = site_named(sites, "strchr");
        REQUIRE(strchr_site != nullptr);
        CHECK(strchr_site->stub != 0);
    }
}

TEST_CASE("call sites refuse an object of another machine") {
    // A valid 64-bit ELF header of an AArch64 executable, with no sections.
    std::vector<std::byte> header(64);
    auto put = [&](std::size_t at, std::uint64_t value, std::size_t width) {
        for (std::size_t k = 0; k < width; ++k) header[at + k] = std::byte(static_cast<unsigned char>(value >> (8 * k)));
    };
    const unsigned char ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    for (std::size_t i = 0; i < sizeof ident; ++i) header[i] = std::byte{ident[i]};
    put(16, 2, 2);     // e_type ET_EXEC
    put(18, 183, 2);   // e_machine EM_AARCH64
    put(20, 1, 4);     // e_version
    put(52, 64, 2);    // e_ehsize
    put(54, 56, 2);    // e_phentsize
    put(58, 64, 2);    // e_shentsize
    auto arm = triage::elf::file::from_bytes(header, "arm64");
    REQUIRE_MESSAGE(arm, failure_text(arm));
    auto sites = triage::plt::call_sites(*arm);
    REQUIRE(!sites);
    CHECK(sites.error().code == triage::errc::unsupported);
}
