// triage/elf/dwarf_types.hpp — struct sizes, member offsets and enumerator
// values from a file's DWARF (libdw), e.g. to check or derive a CPython
// layout from an interpreter built with debug info.
//
// Offers:
//  - `dwarf_types::open(path)`: reads the DWARF of `path` — a binary or
//    library with debug info, or a separate debug file (a -dbg package's
//    /usr/lib/debug/.build-id/xx/yyyy.debug). Compressed sections and dwz
//    alternate files are handled by libdw. Builds an index of every named
//    struct, union, enum and typedef at unit level, once.
//  - `size_of(type)`: the byte size of a type. `type` is "struct NAME",
//    "union NAME", "enum NAME", or a plain NAME, which is looked up as a
//    typedef first and then as a struct/union tag. Typedefs and qualifiers
//    are peeled. The first complete definition wins.
//  - `member(type, path)`: where member `path` ("a", "a.b.c") is inside the
//    type: byte offset, bit offset and width (bit fields have
//    `is_bitfield`), byte size of the member's type. Unnamed (anonymous)
//    struct/union members are searched through, as C does.
//  - `enumerator(name)`: the value of an enumerator (FRAME_OWNED_BY_CSTACK).
// Errors: errno codes opening the file; errc::not_found when the file has no
// DWARF (hint: install the debug package) or the type, member or enumerator
// is not in it; errc::malformed for DWARF libdw rejects.
// Thread-safe: no (one object per thread; libdw caches lazily). Signal-safe:
// no. Target process: none touched (reads files only).
//
//   auto dwarf = TRIAGE_TRY(triage::elf::dwarf_types::open("/usr/lib/libpython3.11.so.1.0"));
//   std::uint64_t size = TRIAGE_TRY(dwarf.size_of("struct _ts"));
//   auto next = TRIAGE_TRY(dwarf.member("struct _is", "threads.head"));
//   // next.byte_offset == 16 on 3.11
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "triage/base/result.hpp"
#include "triage/elf/dwarf_file.hpp"

namespace triage::elf {

// Where a member lies inside its outermost type.
struct member_location {
    std::uint64_t byte_offset = 0;  // bit fields: the byte holding the first bit
    std::uint64_t bit_offset = 0;   // first bit, counted from the start of the type (little-endian)
    std::uint64_t bit_size = 0;     // width in bits (8 * byte_size unless a bit field)
    std::uint64_t byte_size = 0;    // size of the member's type (bit fields: of the storage unit)
    bool is_bitfield = false;
};

class dwarf_types {
public:
    [[nodiscard]] static result<dwarf_types> open(const std::string& path) {
        dwarf_types types{TRIAGE_TRY(open_dwarf(path))};
        TRIAGE_TRY(for_each_unit_die(types.file_, [&](Dwarf_Die& die) {
            types.index_die(die);
            return true;
        }));
        return types;
    }

    [[nodiscard]] const std::string& path() const noexcept { return file_.path; }

    [[nodiscard]] result<std::uint64_t> size_of(std::string_view type) const {
        Dwarf_Die die = TRIAGE_TRY(find_type(type));
        Dwarf_Word size = 0;
        if (::dwarf_aggregate_size(&die, &size) != 0) {
            return fail(errc::malformed, "sizing " + std::string(type) + " in " + file_.path);
        }
        return static_cast<std::uint64_t>(size);
    }

    [[nodiscard]] result<member_location> member(std::string_view type, std::string_view path) const {
        Dwarf_Die outer = TRIAGE_TRY(find_type(type));
        const std::string context =
            "looking up member " + std::string(path) + " of " + std::string(type) + " in " + file_.path;
        member_location where;
        std::string_view rest = path;
        constexpr int max_depth = 32;  // member paths are short; DWARF could loop
        for (int depth = 0; !rest.empty(); ++depth) {
            if (depth == max_depth) return fail(errc::limit_exceeded, context);
            const std::size_t dot = rest.find('.');
            const std::string_view name = rest.substr(0, dot);
            rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
            Dwarf_Die aggregate;
            if (depth == 0) {
                aggregate = outer;
            } else if (!member_type(outer, aggregate)) {
                return fail(errc::malformed, context, "a member without a type");
            }
            if (!is_aggregate(::dwarf_tag(&aggregate))) {
                return fail(errc::not_found, context, "'" + std::string(name) + "' is inside a non-struct member");
            }
            std::uint64_t base_bits = where.bit_offset;
            Dwarf_Die found;
            std::uint64_t found_bits = 0;
            if (!find_member(aggregate, name, found, found_bits, 0)) return fail(errc::not_found, context);
            where = TRIAGE_TRY(locate(found, base_bits + found_bits, context));
            outer = found;
        }
        return where;
    }

    [[nodiscard]] result<std::int64_t> enumerator(std::string_view name) const {
        auto it = enumerators_.find(std::string(name));
        if (it == enumerators_.end()) {
            return fail(errc::not_found, "looking up enumerator " + std::string(name) + " in " + file_.path);
        }
        return it->second;
    }

private:
    explicit dwarf_types(dwarf_file file) : file_{std::move(file)} {}

    [[nodiscard]] static bool is_aggregate(int tag) {
        return tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type;
    }

    void index_die(Dwarf_Die& die) {
        const int tag = ::dwarf_tag(&die);
        if (tag == DW_TAG_enumeration_type) index_enumerators(die);
        const char* name = ::dwarf_diename(&die);
        if (name == nullptr || ::dwarf_hasattr(&die, DW_AT_declaration)) return;
        switch (tag) {
        case DW_TAG_structure_type: tags_.try_emplace("struct " + std::string(name), die); break;
        case DW_TAG_union_type: tags_.try_emplace("union " + std::string(name), die); break;
        case DW_TAG_enumeration_type: tags_.try_emplace("enum " + std::string(name), die); break;
        case DW_TAG_typedef: typedefs_.try_emplace(name, die); break;
        default: break;
        }
    }

    void index_enumerators(Dwarf_Die& enumeration) {
        Dwarf_Die child;
        if (::dwarf_child(&enumeration, &child) != 0) return;
        do {
            if (::dwarf_tag(&child) != DW_TAG_enumerator) continue;
            const char* name = ::dwarf_diename(&child);
            Dwarf_Attribute attr;
            Dwarf_Sword value = 0;
            if (name != nullptr && ::dwarf_attr(&child, DW_AT_const_value, &attr) != nullptr &&
                ::dwarf_formsdata(&attr, &value) == 0) {
                enumerators_.try_emplace(name, static_cast<std::int64_t>(value));
            }
        } while (::dwarf_siblingof(&child, &child) == 0);
    }

    [[nodiscard]] result<Dwarf_Die> find_type(std::string_view type) const {
        const std::string key(type);
        const bool tagged = type.starts_with("struct ") || type.starts_with("union ") || type.starts_with("enum ");
        if (!tagged) {
            if (auto it = typedefs_.find(key); it != typedefs_.end()) return complete(it->second, type);
            for (const char* prefix : {"struct ", "union "}) {
                if (auto it = tags_.find(prefix + key); it != tags_.end()) return it->second;
            }
        } else if (auto it = tags_.find(key); it != tags_.end()) {
            return it->second;
        }
        return fail(errc::not_found, "looking up type " + key + " in " + file_.path);
    }

    // A typedef to an incomplete struct (declared in this unit, defined in
    // another): use the tag's complete definition.
    [[nodiscard]] result<Dwarf_Die> complete(Dwarf_Die die, std::string_view type) const {
        Dwarf_Die peeled;
        if (::dwarf_peel_type(&die, &peeled) != 0) {
            return fail(errc::malformed, "resolving typedef " + std::string(type) + " in " + file_.path);
        }
        if (!::dwarf_hasattr(&peeled, DW_AT_declaration)) return peeled;
        const char* tag_name = ::dwarf_diename(&peeled);
        const char* prefix = ::dwarf_tag(&peeled) == DW_TAG_union_type ? "union " : "struct ";
        if (tag_name != nullptr) {
            if (auto it = tags_.find(prefix + std::string(tag_name)); it != tags_.end()) return it->second;
        }
        return fail(errc::not_found, "looking up the definition of " + std::string(type) + " in " + file_.path);
    }

    // Finds a member named `name` directly in `aggregate` or inside its
    // anonymous members; `bits` receives its bit offset within `aggregate`
    // minus the member's own offset (the offsets of anonymous parents).
    [[nodiscard]] bool find_member(Dwarf_Die& aggregate, std::string_view name, Dwarf_Die& found,
                                   std::uint64_t& bits, int depth) const {
        constexpr int max_anonymous_depth = 8;
        if (depth > max_anonymous_depth) return false;
        Dwarf_Die child;
        if (::dwarf_child(&aggregate, &child) != 0) return false;
        do {
            if (::dwarf_tag(&child) != DW_TAG_member) continue;
            const char* member_name = ::dwarf_diename(&child);
            if (member_name != nullptr) {
                if (name == member_name) {
                    found = child;
                    bits = 0;
                    return true;
                }
                continue;
            }
            Dwarf_Die inner;
            if (!member_type(child, inner) || !is_aggregate(::dwarf_tag(&inner))) continue;
            std::uint64_t inner_bits = 0;
            if (find_member(inner, name, found, inner_bits, depth + 1)) {
                std::uint64_t offset = 0;
                if (!data_member_offset(child, offset)) return false;
                bits = offset * 8 + inner_bits;
                return true;
            }
        } while (::dwarf_siblingof(&child, &child) == 0);
        return false;
    }

    // The type of a member, typedefs and qualifiers peeled.
    [[nodiscard]] static bool member_type(Dwarf_Die& member, Dwarf_Die& type) {
        Dwarf_Attribute attr;
        Dwarf_Die direct;
        return ::dwarf_attr_integrate(&member, DW_AT_type, &attr) != nullptr &&
               ::dwarf_formref_die(&attr, &direct) != nullptr && ::dwarf_peel_type(&direct, &type) == 0;
    }

    [[nodiscard]] static bool data_member_offset(Dwarf_Die& member, std::uint64_t& offset) {
        Dwarf_Attribute attr;
        if (::dwarf_attr_integrate(&member, DW_AT_data_member_location, &attr) == nullptr) {
            offset = 0;  // union members have none
            return true;
        }
        Dwarf_Word value = 0;
        if (::dwarf_formudata(&attr, &value) != 0) return false;  // a location expression: not emitted for C
        offset = value;
        return true;
    }

    // Location of `member` given the bit offset of the aggregate that holds
    // it (plus any anonymous parents) from the start of the outermost type.
    [[nodiscard]] result<member_location> locate(Dwarf_Die& member, std::uint64_t base_bits,
                                                 const std::string& context) const {
        member_location where;
        Dwarf_Die type;
        Dwarf_Word type_size = 0;
        Dwarf_Attribute attr;
        if (::dwarf_attr_integrate(&member, DW_AT_type, &attr) == nullptr ||
            ::dwarf_formref_die(&attr, &type) == nullptr || ::dwarf_aggregate_size(&type, &type_size) != 0) {
            return fail(errc::malformed, context, "the member's type has no size");
        }
        where.byte_size = type_size;
        Dwarf_Word bit_size = 0;
        if (::dwarf_attr(&member, DW_AT_bit_size, &attr) != nullptr && ::dwarf_formudata(&attr, &bit_size) == 0) {
            where.is_bitfield = true;
            where.bit_size = bit_size;
            Dwarf_Word data_bit_offset = 0;
            if (::dwarf_attr(&member, DW_AT_data_bit_offset, &attr) != nullptr &&
                ::dwarf_formudata(&attr, &data_bit_offset) == 0) {
                where.bit_offset = base_bits + data_bit_offset;
            } else {
                // DWARF 2/3: DW_AT_bit_offset counts from the most significant
                // bit of the storage unit at DW_AT_data_member_location.
                std::uint64_t storage = 0;
                Dwarf_Word msb_offset = 0;
                Dwarf_Word storage_size = type_size;
                if (::dwarf_attr(&member, DW_AT_byte_size, &attr) != nullptr)
                    (void)::dwarf_formudata(&attr, &storage_size);
                if (!data_member_offset(member, storage) || ::dwarf_attr(&member, DW_AT_bit_offset, &attr) == nullptr ||
                    ::dwarf_formudata(&attr, &msb_offset) != 0 || msb_offset + bit_size > storage_size * 8) {
                    return fail(errc::malformed, context, "a bit field without a usable bit offset");
                }
                where.bit_offset = base_bits + storage * 8 + (storage_size * 8 - msb_offset - bit_size);
            }
            where.byte_offset = where.bit_offset / 8;
            return where;
        }
        std::uint64_t offset = 0;
        if (!data_member_offset(member, offset)) return fail(errc::malformed, context, "a computed member location");
        where.bit_offset = base_bits + offset * 8;
        where.byte_offset = where.bit_offset / 8;
        where.bit_size = type_size * 8;
        return where;
    }

    dwarf_file file_;
    std::unordered_map<std::string, Dwarf_Die> tags_;
    std::unordered_map<std::string, Dwarf_Die> typedefs_;
    std::unordered_map<std::string, std::int64_t> enumerators_;
};

} // namespace triage::elf
