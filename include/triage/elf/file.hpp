// triage/elf/file.hpp — an ELF file opened with libelf: from a path, an open
// file descriptor, or bytes in memory.
//
// Offers `elf::file` (move-only; owns the Elf* and the descriptor or bytes):
//  - the header: type() (ET_EXEC, ET_DYN, ET_CORE, ...), machine(), elf64();
//  - sections by name (`section_info`, `section_data`) and PT_LOAD segments;
//  - notes (PT_NOTE segments, else SHT_NOTE sections) and the GNU build-id;
//  - `.gnu_debuglink` (file name and CRC);
//  - symbols: find_symbol(name) asks .dynsym through its GNU hash table (or
//    SysV hash table; a linear scan when it has neither), then .symtab (an
//    index by name, built on first use); only defined symbols are returned,
//    and of several versions of a name the default one (not VERSYM_HIDDEN,
//    as dlsym picks it). symbol_at(file address) returns the function or
//    object containing it (elf/symbol.hpp has the rule), from an index of
//    both tables built on first use.
// Errors: opening names the path or the name given to from_bytes (errc::
// not_found, permission_denied, malformed for "not an ELF file",
// invalid_argument for a path that is not a regular file: "it is a
// directory, not a regular file"); a missing
// section is errc::not_found, a section without file bytes (SHT_NOBITS) or
// whose bytes lie outside the file is errc::malformed. Hostile files are
// safe: every table is read through libelf's bounds-checked accessors or
// parsers that check each offset, and every loop is bounded by a count that
// libelf checked against the file size.
// Thread-safe: no for one `file` (lazy indexes, and libelf's own lazy reads);
// distinct files yes. Signal-safe: no. Target process: none touched (it reads
// files; elf/mapped_object.hpp opens the files a process has mapped).
//
//   auto libc = TRIAGE_TRY(triage::elf::file::open("/usr/lib/x86_64-linux-gnu/libc.so.6"));
//   if (auto s = libc.find_symbol("malloc")) std::cout << triage::hex(s->value) << '\n';
//   if (auto id = libc.build_id()) std::cout << triage::elf::build_id_hex(*id) << '\n';
#pragma once

#include <elf.h>
#include <gelf.h>
#include <libelf.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/debuglink.hpp"
#include "triage/elf/hash_table.hpp"
#include "triage/elf/note.hpp"
#include "triage/elf/segment.hpp"
#include "triage/elf/symbol.hpp"

namespace triage::elf {

struct section_info {
    std::string name;
    std::uint32_t type = SHT_NULL;  // sh_type
    std::uint64_t flags = 0;        // sh_flags (SHF_ALLOC, ...)
    std::uint64_t address = 0;      // sh_addr: a file address; add the load bias at run time
    std::uint64_t offset = 0;       // sh_offset
    std::uint64_t size = 0;         // sh_size
    std::size_t index = 0;          // the section header index
};

class file {
public:
    [[nodiscard]] static result<file> open(const std::string& path) {
        unique_fd fd = TRIAGE_TRY(open_regular_file(path));
        return from_fd(std::move(fd), path);
    }

    // Takes ownership of `fd`; `name` is what errors and name() call it.
    [[nodiscard]] static result<file> from_fd(unique_fd fd, std::string name) {
        if (!library_ready()) return fail(errc::unsupported, "initialising libelf for " + name);
        auto s = std::make_unique<state>();
        s->fd = std::move(fd);
        s->name = std::move(name);
        s->elf = ::elf_begin(s->fd.get(), ELF_C_READ, nullptr);
        return finish(std::move(s));
    }

    // An ELF image held in memory (a fuzzer's input, a file read from a core).
    [[nodiscard]] static result<file> from_bytes(std::vector<std::byte> bytes, std::string name) {
        if (!library_ready()) return fail(errc::unsupported, "initialising libelf for " + name);
        auto s = std::make_unique<state>();
        s->bytes = std::move(bytes);
        s->name = std::move(name);
        if (s->bytes.size() < EI_NIDENT) return fail(errc::malformed, "reading " + s->name + " as ELF (too short)");
        s->elf = ::elf_memory(reinterpret_cast<char*>(s->bytes.data()), s->bytes.size());
        return finish(std::move(s));
    }

    file(file&&) noexcept = default;
    file& operator=(file&&) noexcept = default;
    file(const file&) = delete;
    file& operator=(const file&) = delete;
    ~file() = default;

    [[nodiscard]] const std::string& name() const noexcept { return s_->name; }
    [[nodiscard]] Elf* handle() const noexcept { return s_->elf; }
    [[nodiscard]] std::uint16_t type() const noexcept { return s_->header.e_type; }
    [[nodiscard]] std::uint16_t machine() const noexcept { return s_->header.e_machine; }
    [[nodiscard]] bool elf64() const noexcept { return s_->header.e_ident[EI_CLASS] == ELFCLASS64; }
    [[nodiscard]] bool big_endian() const noexcept { return s_->header.e_ident[EI_DATA] == ELFDATA2MSB; }

    [[nodiscard]] std::vector<section_info> sections() const {
        std::vector<section_info> out;
        for (std::size_t i = 1; i < s_->section_count; ++i) {
            if (auto info = section_at(i)) out.push_back(std::move(*info));
        }
        return out;
    }

    [[nodiscard]] std::optional<section_info> section(std::string_view name) const {
        for (std::size_t i = 1; i < s_->section_count; ++i) {
            if (section_name(i) == name) return section_at(i);
        }
        return std::nullopt;
    }

    [[nodiscard]] result<std::span<const std::byte>> section_data(std::string_view name) const {
        auto info = section(name);
        if (!info) return fail(errc::not_found, "finding section " + std::string{name} + " in " + s_->name);
        return data_of(info->index, name);
    }

    [[nodiscard]] std::vector<segment> load_segments() const {
        std::vector<segment> out;
        for (std::size_t i = 0; i < s_->segment_count; ++i) {
            GElf_Phdr p;
            if (::gelf_getphdr(s_->elf, static_cast<int>(i), &p) == nullptr || p.p_type != PT_LOAD) continue;
            out.push_back(segment{p.p_vaddr, p.p_memsz, p.p_offset, p.p_filesz, p.p_flags, p.p_align});
        }
        return out;
    }

    // Every note of the PT_NOTE segments, or of the SHT_NOTE sections when
    // there are no PT_NOTE segments. The views live as long as this file.
    [[nodiscard]] result<std::vector<note>> notes() const {
        std::vector<note> out;
        bool any_segment = false;
        for (std::size_t i = 0; i < s_->segment_count; ++i) {
            auto area = note_segment(i);
            if (!area) continue;
            any_segment = true;
            auto parsed = parse_notes(area->bytes, area->alignment);
            if (!parsed) return fail(std::move(parsed.error()).within("reading the notes of " + s_->name));
            out.insert(out.end(), parsed->begin(), parsed->end());
        }
        if (any_segment) return out;
        for (std::size_t i = 1; i < s_->section_count; ++i) {
            auto area = note_section(i);
            if (!area) continue;
            auto parsed = parse_notes(area->bytes, area->alignment);
            if (!parsed) return fail(std::move(parsed.error()).within("reading the notes of " + s_->name));
            out.insert(out.end(), parsed->begin(), parsed->end());
        }
        return out;
    }

    // The NT_GNU_BUILD_ID descriptor, from the first note area that has one
    // (PT_NOTE segments first, then SHT_NOTE sections; a malformed area is
    // passed over).
    [[nodiscard]] std::optional<std::vector<std::byte>> build_id() const {
        auto from = [](const std::optional<note_area>& area) -> std::optional<std::vector<std::byte>> {
            if (!area) return std::nullopt;
            auto parsed = parse_notes(area->bytes, area->alignment);
            if (!parsed) return std::nullopt;
            auto id = find_build_id(*parsed);
            if (!id) return std::nullopt;
            return std::vector<std::byte>(id->begin(), id->end());
        };
        for (std::size_t i = 0; i < s_->segment_count; ++i) {
            if (auto id = from(note_segment(i))) return id;
        }
        for (std::size_t i = 1; i < s_->section_count; ++i) {
            if (auto id = from(note_section(i))) return id;
        }
        return std::nullopt;
    }

    [[nodiscard]] std::optional<debuglink> gnu_debuglink() const {
        auto bytes = section_data(".gnu_debuglink");
        if (!bytes) return std::nullopt;
        auto link = parse_debuglink(*bytes, big_endian());
        if (!link) return std::nullopt;
        return std::move(*link);
    }

    [[nodiscard]] std::optional<symbol> find_symbol(std::string_view name) const {
        if (auto s = find_dynamic(name)) return s;
        const auto& by_name = symtab_names();
        auto at = by_name.find(name);
        if (at == by_name.end()) return std::nullopt;
        return read_symbol(s_->symtab, at->second);
    }

    [[nodiscard]] std::optional<symbol> symbol_at(std::uint64_t file_address) const {
        if (!s_->by_address) {
            std::vector<symbol> all;
            for (const table& t : {s_->symtab, s_->dynsym}) {
                for (std::size_t i = 1; i < t.count; ++i) {
                    if (auto s = read_symbol(t, i)) all.push_back(std::move(*s));
                }
            }
            s_->by_address.emplace(std::move(all));
        }
        return s_->by_address->containing(file_address);
    }

private:
    struct elf_closer {
        void operator()(Elf* e) const noexcept { ::elf_end(e); }
    };
    // A symbol table: its data, its string table's section index, and its size.
    struct table {
        Elf_Data* data = nullptr;
        std::size_t strings = 0;
        std::size_t count = 0;
        std::size_t section = 0;
    };
    struct note_area {
        std::span<const std::byte> bytes;
        std::size_t alignment = 4;
    };
    struct state {
        // Declared first so that it is destroyed last: libelf reads through them.
        unique_fd fd;
        std::vector<std::byte> bytes;
        std::string name;
        Elf* elf = nullptr;
        std::unique_ptr<Elf, elf_closer> owner;
        GElf_Ehdr header{};
        std::size_t section_count = 0;
        std::size_t segment_count = 0;
        std::size_t section_names = 0;  // e_shstrndx, resolved
        table dynsym, symtab;
        Elf_Data* versym = nullptr;     // .gnu.version, parallel to .dynsym
        Elf_Data* gnu_hash = nullptr;
        Elf_Data* sysv_hash = nullptr;
        std::optional<std::unordered_map<std::string_view, std::size_t>> symtab_by_name;
        std::optional<symbol_index> by_address;
    };

    explicit file(std::unique_ptr<state> s) noexcept : s_{std::move(s)} {}

    static bool library_ready() {
        static const bool ready = ::elf_version(EV_CURRENT) != EV_NONE;
        return ready;
    }

    static result<file> finish(std::unique_ptr<state> s) {
        if (s->elf == nullptr) {
            return fail(errc::malformed, "reading " + s->name + " as ELF (" + ::elf_errmsg(-1) + ")");
        }
        s->owner.reset(s->elf);
        if (::elf_kind(s->elf) != ELF_K_ELF || ::gelf_getehdr(s->elf, &s->header) == nullptr) {
            return fail(errc::malformed, "reading " + s->name + " as ELF (not an ELF file)");
        }
        if (::elf_getshdrnum(s->elf, &s->section_count) != 0) s->section_count = 0;
        if (::elf_getphdrnum(s->elf, &s->segment_count) != 0) s->segment_count = 0;
        if (::elf_getshdrstrndx(s->elf, &s->section_names) != 0) s->section_names = 0;
        file f{std::move(s)};
        f.find_tables();
        return f;
    }

    // Records the symbol tables, version table and hash tables; a hash
    // table counts only when it indexes the .dynsym found.
    void find_tables() {
        std::size_t versym_link = 0, gnu_hash_link = 0, sysv_hash_link = 0;
        Elf_Data* versym = nullptr;
        Elf_Data* gnu = nullptr;
        Elf_Data* sysv = nullptr;
        for (std::size_t i = 1; i < s_->section_count; ++i) {
            Elf_Scn* scn = ::elf_getscn(s_->elf, i);
            GElf_Shdr shdr;
            if (scn == nullptr || ::gelf_getshdr(scn, &shdr) == nullptr) continue;
            switch (shdr.sh_type) {
            case SHT_DYNSYM:
            case SHT_SYMTAB: {
                table& t = shdr.sh_type == SHT_DYNSYM ? s_->dynsym : s_->symtab;
                if (t.data != nullptr) break;
                Elf_Data* data = ::elf_getdata(scn, nullptr);
                std::size_t entry = ::gelf_fsize(s_->elf, ELF_T_SYM, 1, EV_CURRENT);
                if (data == nullptr || entry == 0 || shdr.sh_link >= s_->section_count) break;
                t = table{data, shdr.sh_link, data->d_size / entry, i};
                break;
            }
            case SHT_GNU_versym:
                versym = ::elf_getdata(scn, nullptr);
                versym_link = shdr.sh_link;
                break;
            case SHT_GNU_HASH:
                gnu = ::elf_getdata(scn, nullptr);
                gnu_hash_link = shdr.sh_link;
                break;
            case SHT_HASH:
                sysv = ::elf_getdata(scn, nullptr);
                sysv_hash_link = shdr.sh_link;
                break;
            default: break;
            }
        }
        if (s_->dynsym.data == nullptr) return;
        if (versym_link == s_->dynsym.section) s_->versym = versym;
        if (gnu_hash_link == s_->dynsym.section) s_->gnu_hash = gnu;
        if (sysv_hash_link == s_->dynsym.section) s_->sysv_hash = sysv;
    }

    [[nodiscard]] std::string_view section_name(std::size_t index) const {
        Elf_Scn* scn = ::elf_getscn(s_->elf, index);
        GElf_Shdr shdr;
        if (scn == nullptr || ::gelf_getshdr(scn, &shdr) == nullptr) return {};
        const char* name = ::elf_strptr(s_->elf, s_->section_names, shdr.sh_name);
        return name == nullptr ? std::string_view{} : std::string_view{name};
    }

    [[nodiscard]] std::optional<section_info> section_at(std::size_t index) const {
        Elf_Scn* scn = ::elf_getscn(s_->elf, index);
        GElf_Shdr shdr;
        if (scn == nullptr || ::gelf_getshdr(scn, &shdr) == nullptr) return std::nullopt;
        return section_info{std::string{section_name(index)}, shdr.sh_type, shdr.sh_flags, shdr.sh_addr,
                            shdr.sh_offset, shdr.sh_size, index};
    }

    [[nodiscard]] result<std::span<const std::byte>> data_of(std::size_t index, std::string_view name) const {
        Elf_Scn* scn = ::elf_getscn(s_->elf, index);
        GElf_Shdr shdr;
        if (scn == nullptr || ::gelf_getshdr(scn, &shdr) == nullptr) {
            return fail(errc::malformed, "reading section " + std::string{name} + " of " + s_->name);
        }
        if (shdr.sh_type == SHT_NOBITS) {
            return fail(errc::malformed, "reading section " + std::string{name} + " of " + s_->name,
                        "it has no bytes in the file (SHT_NOBITS): look in the separate debug file");
        }
        Elf_Data* data = ::elf_getdata(scn, nullptr);
        if (data == nullptr) {
            return fail(errc::malformed,
                        "reading section " + std::string{name} + " of " + s_->name + " (" + ::elf_errmsg(-1) + ")");
        }
        if (data->d_buf == nullptr || data->d_size == 0) return std::span<const std::byte>{};
        return std::span{static_cast<const std::byte*>(data->d_buf), data->d_size};
    }

    [[nodiscard]] std::optional<note_area> note_segment(std::size_t index) const {
        GElf_Phdr p;
        if (::gelf_getphdr(s_->elf, static_cast<int>(index), &p) == nullptr || p.p_type != PT_NOTE || p.p_filesz == 0) {
            return std::nullopt;
        }
        const bool wide = p.p_align == 8;
        Elf_Data* data = ::elf_getdata_rawchunk(s_->elf, static_cast<std::int64_t>(p.p_offset), p.p_filesz,
                                                wide ? ELF_T_NHDR8 : ELF_T_NHDR);
        if (data == nullptr || data->d_buf == nullptr) return std::nullopt;
        return note_area{std::span{static_cast<const std::byte*>(data->d_buf), data->d_size}, wide ? 8u : 4u};
    }

    [[nodiscard]] std::optional<note_area> note_section(std::size_t index) const {
        Elf_Scn* scn = ::elf_getscn(s_->elf, index);
        GElf_Shdr shdr;
        if (scn == nullptr || ::gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_NOTE) return std::nullopt;
        Elf_Data* data = ::elf_getdata(scn, nullptr);
        if (data == nullptr || data->d_buf == nullptr) return std::nullopt;
        return note_area{std::span{static_cast<const std::byte*>(data->d_buf), data->d_size},
                         data->d_type == ELF_T_NHDR8 ? 8u : 4u};
    }

    [[nodiscard]] std::optional<symbol> read_symbol(const table& t, std::size_t index) const {
        GElf_Sym sym;
        if (t.data == nullptr || index >= t.count || ::gelf_getsym(t.data, static_cast<int>(index), &sym) == nullptr) {
            return std::nullopt;
        }
        if (sym.st_shndx == SHN_UNDEF) return std::nullopt;
        const char* name = ::elf_strptr(s_->elf, t.strings, sym.st_name);
        return symbol{name == nullptr ? std::string{} : std::string{name},
                      sym.st_value,
                      sym.st_size,
                      static_cast<std::uint8_t>(GELF_ST_TYPE(sym.st_info)),
                      static_cast<std::uint8_t>(GELF_ST_BIND(sym.st_info)),
                      sym.st_shndx};
    }

    [[nodiscard]] bool name_is(const table& t, std::size_t index, std::string_view name, GElf_Sym& sym) const {
        if (::gelf_getsym(t.data, static_cast<int>(index), &sym) == nullptr || sym.st_shndx == SHN_UNDEF) return false;
        const char* s = ::elf_strptr(s_->elf, t.strings, sym.st_name);
        return s != nullptr && std::string_view{s} == name;
    }

    [[nodiscard]] bool hidden_version(std::size_t index) const {
        GElf_Versym v;
        return s_->versym != nullptr && ::gelf_getversym(s_->versym, static_cast<int>(index), &v) != nullptr &&
               (v & 0x8000) != 0;
    }

    // .dynsym: the default version of `name` if there is one, else its first
    // defined entry.
    [[nodiscard]] std::optional<symbol> find_dynamic(std::string_view name) const {
        const table& t = s_->dynsym;
        if (t.data == nullptr) return std::nullopt;
        std::optional<std::size_t> first, preferred;
        auto consider = [&](std::uint32_t index) {
            GElf_Sym sym;
            if (!name_is(t, index, name, sym)) return true;
            if (!first) first = index;
            if (!hidden_version(index)) {
                preferred = index;
                return false;
            }
            return true;
        };
        if (s_->gnu_hash != nullptr && s_->gnu_hash->d_buf != nullptr) {
            gnu_hash_candidates(std::span{static_cast<const std::byte*>(s_->gnu_hash->d_buf), s_->gnu_hash->d_size},
                                elf64(), name, t.count, consider);
        } else if (s_->sysv_hash != nullptr && s_->sysv_hash->d_buf != nullptr) {
            sysv_hash_candidates(std::span{static_cast<const std::byte*>(s_->sysv_hash->d_buf), s_->sysv_hash->d_size},
                                 name, t.count, consider);
        } else {
            for (std::size_t i = 1; i < t.count && consider(static_cast<std::uint32_t>(i));) ++i;
        }
        if (preferred) return read_symbol(t, *preferred);
        if (first) return read_symbol(t, *first);
        return std::nullopt;
    }

    // .symtab by name: a defined global or weak symbol before a local one.
    [[nodiscard]] const std::unordered_map<std::string_view, std::size_t>& symtab_names() const {
        if (s_->symtab_by_name) return *s_->symtab_by_name;
        auto& by_name = s_->symtab_by_name.emplace();
        const table& t = s_->symtab;
        by_name.reserve(t.count);
        for (std::size_t i = 1; i < t.count; ++i) {
            GElf_Sym sym;
            if (::gelf_getsym(t.data, static_cast<int>(i), &sym) == nullptr || sym.st_shndx == SHN_UNDEF) continue;
            unsigned type = GELF_ST_TYPE(sym.st_info);
            if (type == STT_SECTION || type == STT_FILE) continue;
            const char* name = ::elf_strptr(s_->elf, t.strings, sym.st_name);
            if (name == nullptr || *name == '\0') continue;
            auto [at, inserted] = by_name.emplace(name, i);
            if (!inserted && GELF_ST_BIND(sym.st_info) != STB_LOCAL) {
                GElf_Sym held;
                if (::gelf_getsym(t.data, static_cast<int>(at->second), &held) != nullptr &&
                    GELF_ST_BIND(held.st_info) == STB_LOCAL) {
                    at->second = i;
                }
            }
        }
        return by_name;
    }

    std::unique_ptr<state> s_;
};

} // namespace triage::elf
