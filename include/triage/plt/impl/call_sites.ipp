// triage/plt/impl/call_sites.ipp — the definitions of
// triage/plt/call_sites.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <elf.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <tuple>

#include "triage/base/text.hpp"
#include "triage/plt/call_sites.hpp"

namespace triage::plt::detail {

// The function each GOT slot named by the object's relocations resolves
// to, by the slot's file address.
[[nodiscard]] TRIAGE_DECL result<std::map<std::uint64_t, std::string>> relocated_slots(const elf::file& object) {
    std::map<std::uint64_t, std::string> slots;
    Elf* elf = object.handle();
    for (Elf_Scn* scn = ::elf_nextscn(elf, nullptr); scn != nullptr; scn = ::elf_nextscn(elf, scn)) {
        GElf_Shdr header;
        if (::gelf_getshdr(scn, &header) == nullptr || header.sh_type != SHT_RELA || header.sh_entsize == 0) continue;
        Elf_Data* data = ::elf_getdata(scn, nullptr);
        if (data == nullptr) continue;
        // The symbol table the relocations index (0 for a static executable's IRELATIVE ones).
        Elf_Scn* symbols = header.sh_link != 0 ? ::elf_getscn(elf, header.sh_link) : nullptr;
        GElf_Shdr symbols_header{};
        Elf_Data* symbols_data = nullptr;
        if (symbols != nullptr && ::gelf_getshdr(symbols, &symbols_header) != nullptr &&
            (symbols_header.sh_type == SHT_DYNSYM || symbols_header.sh_type == SHT_SYMTAB)) {
            symbols_data = ::elf_getdata(symbols, nullptr);
        }
        const std::size_t count = header.sh_size / header.sh_entsize;
        for (std::size_t i = 0; i < count; ++i) {
            GElf_Rela rela;
            if (::gelf_getrela(data, static_cast<int>(i), &rela) == nullptr) {
                return fail(errc::malformed, "reading relocation " + std::to_string(i) + " of " + object.name());
            }
            const auto type = GELF_R_TYPE(rela.r_info);
            if (type == R_X86_64_IRELATIVE) {
                // The addend is the resolver: the ifunc symbol defined there names it.
                const auto resolver = static_cast<std::uint64_t>(rela.r_addend);
                auto s = object.symbol_at(resolver);
                slots[rela.r_offset] = s && s->value == resolver ? s->name : "*ABS*+" + hex(resolver);
                continue;
            }
            if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
            GElf_Sym sym;
            if (symbols_data == nullptr ||
                ::gelf_getsym(symbols_data, static_cast<int>(GELF_R_SYM(rela.r_info)), &sym) == nullptr) {
                continue;
            }
            const auto sym_type = GELF_ST_TYPE(sym.st_info);
            // GLOB_DAT also relocates data and weak references (NOTYPE); only functions are calls.
            if (type == R_X86_64_GLOB_DAT && sym_type != STT_FUNC && sym_type != STT_GNU_IFUNC) continue;
            const char* name = ::elf_strptr(elf, symbols_header.sh_link, sym.st_name);
            if (name == nullptr || *name == '\0') continue;
            slots[rela.r_offset] = name;
        }
    }
    return slots;
}

// The GOT slot an entry's RIP-relative indirect jump goes through:
// [endbr64] [bnd] ff 25 disp32, at the start of the entry.
[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> jump_slot(std::span<const std::byte> entry, std::uint64_t address) {
    std::size_t at = 0;
    static constexpr unsigned char endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};
    if (entry.size() >= 4 && std::memcmp(entry.data(), endbr64, 4) == 0) at = 4;
    if (at < entry.size() && entry[at] == std::byte{0xf2}) ++at;  // bnd
    if (at + 6 > entry.size() || entry[at] != std::byte{0xff} || entry[at + 1] != std::byte{0x25}) return std::nullopt;
    std::int32_t displacement = 0;
    std::memcpy(&displacement, entry.data() + at + 2, sizeof displacement);
    return address + at + 6 + static_cast<std::uint64_t>(static_cast<std::int64_t>(displacement));
}

} // namespace triage::plt::detail

namespace triage::plt {

[[nodiscard]] TRIAGE_DECL result<std::vector<call_site>> call_sites(const elf::file& object) {
    if (object.machine() != EM_X86_64 || !object.elf64()) {
        return fail(errc::unsupported, "finding the PLT of " + object.name(), "only x86-64 objects are understood");
    }
    auto slots = TRIAGE_TRY(detail::relocated_slots(object));
    std::vector<call_site> out;
    std::set<std::uint64_t> stubbed;  // slots some stub jumps through
    struct stub_section {
        std::string_view name;
        stub_kind kind;
    };
    for (const stub_section& s : {stub_section{".plt", stub_kind::plt}, stub_section{".plt.sec", stub_kind::plt_sec},
                                  stub_section{".plt.got", stub_kind::plt_got}, stub_section{".iplt", stub_kind::plt}}) {
        auto info = object.section(s.name);
        if (!info || info->type != SHT_PROGBITS) continue;
        auto bytes = object.section_data(s.name);
        if (!bytes) continue;
        // Entries are 16 bytes, or 8 (a .plt.got without IBT, a static executable's .plt): sh_entsize
        // says which when set; when not, 8 if the first two 8-byte halves both jump.
        GElf_Shdr header;
        Elf_Scn* scn = ::elf_getscn(object.handle(), info->index);
        std::uint64_t entry_size = 16;
        if (scn != nullptr && ::gelf_getshdr(scn, &header) != nullptr && (header.sh_entsize == 8 || header.sh_entsize == 16)) {
            entry_size = header.sh_entsize;
        } else if (bytes->size() >= 16 && detail::jump_slot(bytes->first(8), info->address) &&
                   detail::jump_slot(bytes->subspan(8, 8), info->address + 8)) {
            entry_size = 8;
        }
        for (std::uint64_t offset = 0; offset + entry_size <= bytes->size(); offset += entry_size) {
            const std::uint64_t address = info->address + offset;
            auto target = detail::jump_slot(bytes->subspan(offset, entry_size), address);
            if (!target) continue;
            auto found = slots.find(*target);
            if (found == slots.end()) continue;
            out.push_back({found->second, address, *target, s.kind});
            stubbed.insert(*target);
        }
    }
    for (const auto& [got, function] : slots) {
        if (!stubbed.contains(got)) out.push_back({function, 0, got, stub_kind::got_only});
    }
    std::ranges::sort(out, [](const call_site& a, const call_site& b) {
        return std::tie(a.stub, a.function, a.got) < std::tie(b.stub, b.function, b.got);
    });
    return out;
}

} // namespace triage::plt
