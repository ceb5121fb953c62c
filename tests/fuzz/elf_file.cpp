// libFuzzer target: elf::file and the ELF parsers on arbitrary bytes. Must not
// crash, hang or read out of bounds: sections, notes, build-id, debuglink,
// symbols by name (hash tables) and by address, segments and the load bias.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "triage/elf/build_id.hpp"
#include "triage/elf/debuglink.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/hash_table.hpp"
#include "triage/elf/load_bias.hpp"
#include "triage/elf/note.hpp"
#include "triage/procfs/maps.hpp"

namespace elf = triage::elf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span{data, size});

    // The byte-level parsers on the raw input.
    for (std::size_t alignment : {4u, 8u}) {
        if (auto notes = elf::parse_notes(bytes, alignment)) {
            if (auto id = elf::find_build_id(*notes)) (void)elf::build_id_hex(*id);
        }
    }
    (void)elf::parse_debuglink(bytes, size % 2 == 0);
    (void)elf::debuglink_crc32(bytes);
    std::size_t visited = 0;
    auto count = [&](std::uint32_t) { return ++visited < 64; };
    elf::gnu_hash_candidates(bytes, true, "main", size / 4, count);
    elf::gnu_hash_candidates(bytes, false, "malloc", size / 4, count);
    elf::sysv_hash_candidates(bytes, "main", size / 4, count);

    auto f = elf::file::from_bytes(std::vector<std::byte>(bytes.begin(), bytes.end()), "fuzz input");
    if (!f) return 0;
    (void)f->type();
    (void)f->machine();
    if (auto id = f->build_id()) (void)elf::build_id_hex(*id);
    if (auto notes = f->notes()) {
        for (const auto& n : *notes) visited += n.desc.size() + n.name.size();
    }
    for (const auto& s : f->sections()) {
        if (auto d = f->section_data(s.name); d && !d->empty()) visited += std::to_integer<std::size_t>(d->back());
    }
    (void)f->section(".text");
    (void)f->gnu_debuglink();
    for (const char* name : {"main", "malloc", "_start", "_PyRuntime", "triage_probe", ""}) {
        if (auto s = f->find_symbol(name)) {
            (void)f->symbol_at(s->value);
            (void)f->symbol_at(s->value + s->size / 2);
        }
    }
    for (std::uint64_t address : {std::uint64_t{0}, std::uint64_t{0x1000}, std::uint64_t{0x401000}, ~std::uint64_t{0}}) {
        (void)f->symbol_at(address);
    }
    // Mappings placed where the segments say, at an arbitrary base.
    auto segments = f->load_segments();
    std::vector<triage::procfs::mapping> maps;
    for (const auto& s : segments) {
        if (maps.size() >= 16) break;
        triage::procfs::mapping m;
        m.start = 0x7f0000000000 + (s.vaddr & ~std::uint64_t{0xfff});
        m.end = m.start + 0x1000;
        m.offset = s.offset & ~std::uint64_t{0xfff};
        maps.push_back(m);
    }
    (void)elf::load_bias(maps, segments, 0x1000);
    return visited == SIZE_MAX;
}
