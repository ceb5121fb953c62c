// Pure parts of tests/elf: notes, debuglink, the address index, the load-bias
// rule and grouping, on hand-made inputs whose answers are worked out by hand
// from the rules in the headers.
#include <doctest/doctest.h>
#include <elf.h>

#include <cstring>
#include <string>
#include <vector>

#include "triage/elf/build_id.hpp"
#include "triage/elf/debuglink.hpp"
#include "triage/elf/load_bias.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/elf/note.hpp"
#include "triage/elf/symbol.hpp"

namespace elf = triage::elf;

namespace {

void put_word(std::vector<std::byte>& out, std::uint32_t w) {
    std::byte b[4];
    std::memcpy(b, &w, 4);
    out.insert(out.end(), b, b + 4);
}

void put_text(std::vector<std::byte>& out, std::string_view text, std::size_t padded) {
    for (std::size_t i = 0; i < padded; ++i) out.push_back(i < text.size() ? std::byte(text[i]) : std::byte{0});
}

// The probe library's PT_LOAD segments (readelf -lW of `cc -shared -O1`): the
// RW segment's RELRO part shares file page 0x2000 with the read-only segment.
const std::vector<elf::segment> probe_segments{
    {0x0, 0x428, 0x0, 0x428, PF_R, 0x1000},
    {0x1000, 0x105, 0x1000, 0x105, PF_R | PF_X, 0x1000},
    {0x2000, 0x98, 0x2000, 0x98, PF_R, 0x1000},
    {0x3e68, 0x1a8, 0x2e68, 0x1a0, PF_R | PF_W, 0x1000},
};

} // namespace

TEST_CASE("notes: a build-id note, 8-byte alignment, and truncation") {
    std::vector<std::byte> bytes;
    put_word(bytes, 4);
    put_word(bytes, 20);
    put_word(bytes, NT_GNU_BUILD_ID);
    put_text(bytes, "GNU", 4);
    for (int i = 0; i < 20; ++i) bytes.push_back(std::byte(i * 17));
    auto notes = elf::parse_notes(bytes, 4);
    REQUIRE(notes.has_value());
    REQUIRE(notes->size() == 1);
    auto id = elf::find_build_id(*notes);
    REQUIRE(id.has_value());
    CHECK(elf::build_id_hex(*id) == "00112233445566778899aabbccddeeff10213243");

    // A GNU property note (8-byte aligned) with a 5-byte owner then the build-id.
    std::vector<std::byte> wide;
    put_word(wide, 5);
    put_word(wide, 8);
    put_word(wide, 5);  // NT_GNU_PROPERTY_TYPE_0
    put_text(wide, "ABCD", 12);  // header 12 + name 5, rounded up to 8: the descriptor starts at 24
    for (int i = 0; i < 8; ++i) wide.push_back(std::byte(0xee));
    auto parsed = elf::parse_notes(wide, 8);
    REQUIRE(parsed.has_value());
    REQUIRE(parsed->size() == 1);
    CHECK((*parsed)[0].name == "ABCD");
    CHECK((*parsed)[0].desc.size() == 8);
    CHECK((*parsed)[0].desc[0] == std::byte(0xee));

    for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
        auto part = elf::parse_notes(std::span{bytes}.first(cut), 4);
        REQUIRE_FALSE(part.has_value());
        CHECK(part.error().code == triage::errc::truncated);
    }
    CHECK(elf::parse_notes(bytes, 3).error().code == triage::errc::invalid_argument);
}

TEST_CASE("debuglink: CRC-32 check value and section layout") {
    std::string check = "123456789";
    CHECK(elf::debuglink_crc32(std::as_bytes(std::span{check})) == 0xCBF43926u);  // the CRC-32 check value
    // Chunked CRC equals one-shot.
    auto all = std::as_bytes(std::span{check});
    CHECK(elf::debuglink_crc32(all.subspan(4), elf::debuglink_crc32(all.first(4))) == 0xCBF43926u);

    std::vector<std::byte> section;
    put_text(section, "a.debug", 8);
    put_word(section, 0x11223344);
    auto link = elf::parse_debuglink(section, false);
    REQUIRE(link.has_value());
    CHECK(link->file == "a.debug");
    CHECK(link->crc32 == 0x11223344u);
    CHECK(elf::parse_debuglink(section, true)->crc32 == 0x44332211u);
    CHECK(elf::parse_debuglink(std::span{section}.first(10), false).error().code == triage::errc::truncated);
    CHECK_FALSE(elf::parse_debuglink({}, false).has_value());
}

TEST_CASE("symbol_index: containment, aliases and nesting") {
    std::vector<elf::symbol> symbols{
        {"__libc_malloc", 0x1000, 0x100, STT_FUNC, STB_GLOBAL, 5},
        {"malloc", 0x1000, 0x100, STT_FUNC, STB_GLOBAL, 5},
        {"malloc_local", 0x1000, 0x100, STT_FUNC, STB_LOCAL, 5},
        {"big_table", 0x2000, 0x1000, STT_OBJECT, STB_GLOBAL, 6},
        {"inner", 0x2800, 0x10, STT_OBJECT, STB_LOCAL, 6},
        {"label", 0x3800, 0, STT_FUNC, STB_LOCAL, 5},
        {"undefined", 0x4000, 0x10, STT_FUNC, STB_GLOBAL, SHN_UNDEF},
        {"section", 0x5000, 0x10, STT_SECTION, STB_LOCAL, 5},
    };
    elf::symbol_index index{symbols};
    CHECK(index.containing(0x1000)->name == "malloc");
    CHECK(index.containing(0x10ff)->name == "malloc");
    CHECK_FALSE(index.containing(0x1100).has_value());
    CHECK(index.containing(0x2805)->name == "inner");
    CHECK(index.containing(0x2810)->name == "big_table");  // past inner, still in the table
    CHECK(index.containing(0x2fff)->name == "big_table");
    CHECK_FALSE(index.containing(0x3000).has_value());
    CHECK_FALSE(index.containing(0x4004).has_value());
    CHECK_FALSE(index.containing(0x5004).has_value());
    CHECK_FALSE(index.containing(0).has_value());
    CHECK(index.size() == 5);
}

TEST_CASE("load_bias: the RELRO page, split mappings, missing first page, ET_EXEC") {
    using m = triage::procfs::mapping;
    auto map = [](std::uint64_t start, std::uint64_t end, std::uint64_t offset) {
        m x;
        x.start = start;
        x.end = end;
        x.offset = offset;
        return x;
    };
    const std::uint64_t b = 0x7f0000010000;
    // As ld.so maps it, RELRO already made read-only: two mappings at file offset 0x2000.
    std::vector<m> loaded{map(b, b + 0x1000, 0), map(b + 0x1000, b + 0x2000, 0x1000), map(b + 0x2000, b + 0x3000, 0x2000),
                          map(b + 0x3000, b + 0x4000, 0x2000)};
    CHECK(elf::load_bias(loaded, probe_segments, 0x1000) == b);
    // Only the RELRO mapping and the text are left (the rest filtered out of a core):
    std::vector<m> partial{map(b + 0x3000, b + 0x4000, 0x2000), map(b + 0x1000, b + 0x2000, 0x1000)};
    CHECK(elf::load_bias(partial, probe_segments, 0x1000) == b);
    // Only the RELRO page: the candidates tie, the first segment wins (read-only
    // segment at 0x2000): a lone page is ambiguous by nature.
    std::vector<m> lone{map(b + 0x3000, b + 0x4000, 0x2000)};
    CHECK(elf::load_bias(lone, probe_segments, 0x1000) == b + 0x1000);
    // A page of the file mapped at an offset no segment starts at places nothing.
    std::vector<m> odd{map(b, b + 0x1000, 0x3000)};
    CHECK_FALSE(elf::load_bias(odd, probe_segments, 0x1000).has_value());

    // libc's layout with its text split in two by mprotect.
    std::vector<elf::segment> libc{{0, 0x25388, 0, 0x25388, PF_R, 0x1000},
                                   {0x26000, 0x1550fc, 0x26000, 0x1550fc, PF_R | PF_X, 0x1000},
                                   {0x17c000, 0x52c31, 0x17c000, 0x52c31, PF_R, 0x1000},
                                   {0x1d08d0, 0x12680, 0x1cf8d0, 0x4f98, PF_R | PF_W, 0x1000}};
    std::vector<m> split{map(b, b + 0x26000, 0), map(b + 0x26000, b + 0x50000, 0x26000),
                         map(b + 0x50000, b + 0x17c000, 0x50000), map(b + 0x17c000, b + 0x1cf000, 0x17c000),
                         map(b + 0x1d0000, b + 0x1d4000, 0x1cf000)};
    CHECK(elf::load_bias(split, libc, 0x1000) == b);

    // A non-PIE executable: file addresses are runtime addresses.
    std::vector<elf::segment> exec{{0x400000, 0x1000, 0, 0x1000, PF_R, 0x1000},
                                   {0x401000, 0x2000, 0x1000, 0x2000, PF_R | PF_X, 0x1000}};
    std::vector<m> exec_maps{map(0x400000, 0x401000, 0), map(0x401000, 0x403000, 0x1000)};
    CHECK(elf::load_bias(exec_maps, exec, 0x1000) == 0u);
    CHECK_FALSE(elf::load_bias(exec_maps, exec, 1000).has_value());  // not a power of two
}

TEST_CASE("group_mapped_objects: two loaded copies, a data mmap beside one, an odd page") {
    // A real layout (elf_loader --mmap --dlmopen), with a .bss and the heap added.
    auto maps = triage::procfs::parse_maps(
        "55d000000000-55d000001000 r--p 00000000 fe:00 100 /usr/bin/prog\n"
        "55d000001000-55d000002000 r-xp 00001000 fe:00 100 /usr/bin/prog\n"
        "55d000002000-55d000003000 rw-p 00000000 00:00 0 \n"
        "55d000003000-55d000004000 rw-p 00000000 00:00 0 [heap]\n"
        "7f5a413fc000-7f5a413fd000 r--p 00000000 fe:00 77 /tmp/libp.so\n"
        "7f5a413fd000-7f5a413fe000 r-xp 00001000 fe:00 77 /tmp/libp.so\n"
        "7f5a413fe000-7f5a413ff000 r--p 00002000 fe:00 77 /tmp/libp.so\n"
        "7f5a413ff000-7f5a41400000 r--p 00002000 fe:00 77 /tmp/libp.so\n"
        "7f5a41400000-7f5a41401000 rw-p 00003000 fe:00 77 /tmp/libp.so\n"
        "7f5a415e7000-7f5a415e8000 r--p 00001000 fe:00 77 /tmp/libp.so\n"
        "7f5a415e8000-7f5a415ec000 r--p 00000000 fe:00 77 /tmp/libp.so\n"
        "7f5a415ec000-7f5a415ed000 r--p 00000000 fe:00 77 /tmp/libp.so (deleted)\n"
        "7f5a415ed000-7f5a415ee000 r-xp 00001000 fe:00 77 /tmp/libp.so (deleted)\n"
        "7f5a415ee000-7f5a415ef000 r--p 00002000 fe:00 77 /tmp/libp.so (deleted)\n"
        "7f5a415ef000-7f5a415f0000 r--p 00002000 fe:00 77 /tmp/libp.so (deleted)\n"
        "7f5a415f0000-7f5a415f1000 rw-p 00003000 fe:00 77 /tmp/libp.so (deleted)\n"
        "7f5a415f1000-7f5a415f2000 r--p 00001000 fe:00 77 /tmp/libp.so\n"
        "7f5a415f2000-7f5a415f3000 r--p 00000000 fe:00 88 /usr/lib/locale/C.utf8/LC_CTYPE\n");
    REQUIRE(maps.has_value());
    std::vector<elf::segment> prog{{0, 0x800, 0, 0x800, PF_R, 0x1000}, {0x1000, 0x1800, 0x1000, 0x800, PF_R | PF_X, 0x1000}};
    auto segments_of = [&](const elf::mapped_object& o) -> std::optional<std::vector<elf::segment>> {
        if (o.inode == 77) return probe_segments;
        if (o.inode == 100) return prog;
        return std::nullopt;  // not ELF
    };
    auto objects = elf::group_mapped_objects(*maps, 4321, segments_of, 0x1000);
    REQUIRE(objects.size() == 6);
    CHECK(objects[0].path == "/usr/bin/prog");
    CHECK(objects[0].load_bias == 0x55d000000000u);
    CHECK(objects[0].high == 0x55d000002000u);
    CHECK(objects[0].readable_path == "/proc/4321/map_files/55d000000000-55d000001000");
    // First loaded copy.
    CHECK(objects[1].load_bias == 0x7f5a413fc000u);
    CHECK(objects[1].mappings.size() == 5);
    CHECK(objects[1].executable());
    // The odd page (offset 0x1000) after another copy's mappings starts its own object.
    CHECK(objects[2].low == 0x7f5a415e7000u);
    CHECK(objects[2].load_bias == 0x7f5a415e6000u);
    CHECK_FALSE(objects[2].executable());
    // The whole-file data mapping right below the second copy.
    CHECK(objects[3].low == 0x7f5a415e8000u);
    CHECK(objects[3].high == 0x7f5a415ec000u);
    CHECK_FALSE(objects[3].executable());
    // The second loaded copy: deleted, five mappings, its own bias.
    CHECK(objects[4].load_bias == 0x7f5a415ec000u);
    CHECK(objects[4].mappings.size() == 5);
    CHECK(objects[4].deleted);
    CHECK(objects[4].executable());
    // A page at a lower file offset right after it is not part of it.
    CHECK(objects[5].low == 0x7f5a415f1000u);
    CHECK_FALSE(objects[5].executable());

    // Without a pid (a core), the readable path is the path.
    auto offline = elf::group_mapped_objects(*maps, 0, segments_of, 0x1000);
    REQUIRE(offline.size() == 6);
    CHECK(offline[0].readable_path == "/usr/bin/prog");
}
