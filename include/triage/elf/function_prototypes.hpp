// triage/elf/function_prototypes.hpp — what a function takes, from DWARF:
// the parameter types (and names, where the DWARF has them) of named
// functions, so that a tracer prints a call's arguments as their types say
// (a `const char *` as a string, a `size_t` as a number), never from a
// hand-written table of functions.
//
// Offers: `function_prototypes(path, names)` → name → `function_prototype`
// {function, parameters [{name, type, kind, size}], variadic}, for each name
// found in the DWARF of `path` (a binary or library built with -g, or its
// separate debug file: a -dbg package's /usr/lib/debug/.build-id/xx/yyyy.debug).
// Both a function's definition and its declarations count: a caller's
// DWARF declares each function it calls with its prototype (DW_AT_declaration,
// usually without parameter names), so the calling object's debug info
// describes the calls it makes through its PLT. A definition, or a
// declaration with parameter names, is preferred; otherwise the first
// prototyped one. `type` is spelled as C does ("const char *", "size_t",
// "struct _object *"); `kind` is what the value is once typedefs and
// qualifiers are peeled: a signed or unsigned integer, a boolean, a
// character, a floating-point number, a C string (a pointer to a one-byte
// character type), another pointer, or other (an aggregate passed by value).
// Names not found are absent from the result. Compressed sections and dwz
// alternate files are handled by libdw.
// Errors: errno codes opening the file; errc::not_found when it has no
// DWARF (hint: install the debug package); errc::malformed for DWARF libdw
// rejects.
// Thread-safe: yes (each call opens its own libdw handle). Signal-safe: no.
// Target process: none touched (reads files only).
//
//   auto protos = TRIAGE_TRY(triage::elf::function_prototypes(python_debug_file, {"strchr", "memset"}));
//   // protos["strchr"].parameters: {"", "const char *", c_string, 8}, {"", "int", signed_integer, 4}
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/elf/argument_kind.hpp"
#include "triage/elf/dwarf_file.hpp"

namespace triage::elf {

struct parameter {
    std::string name;  // empty when the DWARF has none (a declaration)
    std::string type;  // as C spells it
    argument_kind kind = argument_kind::other;
    std::uint64_t size = 0;  // bytes of the value as passed

    friend bool operator==(const parameter&, const parameter&) = default;
};

struct function_prototype {
    std::string function;
    std::vector<parameter> parameters;
    bool variadic = false;  // ends with `...`
};

namespace detail::prototypes {

// The DIE that DW_AT_type of `die` names; false for none (void).
[[nodiscard]] inline bool type_of(Dwarf_Die& die, Dwarf_Die& type) {
    Dwarf_Attribute attr;
    return ::dwarf_attr_integrate(&die, DW_AT_type, &attr) != nullptr && ::dwarf_formref_die(&attr, &type) != nullptr;
}

// C's spelling of a type, bounded (DWARF could loop).
[[nodiscard]] inline std::string spell(Dwarf_Die* type, int depth = 0) {
    if (type == nullptr) return "void";
    if (depth > 16) return "?";
    const char* name = ::dwarf_diename(type);
    Dwarf_Die inner;
    const bool has_inner = type_of(*type, inner);
    switch (::dwarf_tag(type)) {
    case DW_TAG_base_type:
    case DW_TAG_typedef: return name != nullptr ? name : "?";
    case DW_TAG_structure_type: return std::string{"struct "} + (name != nullptr ? name : "<anonymous>");
    case DW_TAG_union_type: return std::string{"union "} + (name != nullptr ? name : "<anonymous>");
    case DW_TAG_enumeration_type: return std::string{"enum "} + (name != nullptr ? name : "<anonymous>");
    case DW_TAG_const_type:  // `const char`, but a constant pointer is `char *const`
        if (has_inner && ::dwarf_tag(&inner) == DW_TAG_pointer_type) return spell(&inner, depth + 1) + "const";
        return "const " + spell(has_inner ? &inner : nullptr, depth + 1);
    case DW_TAG_volatile_type: return "volatile " + spell(has_inner ? &inner : nullptr, depth + 1);
    case DW_TAG_restrict_type: return spell(has_inner ? &inner : nullptr, depth + 1);
    case DW_TAG_pointer_type: {
        std::string pointee = spell(has_inner ? &inner : nullptr, depth + 1);
        return pointee.ends_with('*') ? pointee + "*" : pointee + " *";
    }
    case DW_TAG_subroutine_type: return "function";
    case DW_TAG_array_type: return spell(has_inner ? &inner : nullptr, depth + 1) + " []";
    default: return name != nullptr ? name : "?";
    }
}

// What a value of `type` is, typedefs and qualifiers peeled; its size.
[[nodiscard]] inline std::pair<argument_kind, std::uint64_t> classify(Dwarf_Die& type) {
    Dwarf_Die peeled;
    if (::dwarf_peel_type(&type, &peeled) != 0) return {argument_kind::other, 0};
    Dwarf_Word size = 0;
    Dwarf_Attribute attr;
    if (::dwarf_attr_integrate(&peeled, DW_AT_byte_size, &attr) != nullptr) (void)::dwarf_formudata(&attr, &size);
    switch (::dwarf_tag(&peeled)) {
    case DW_TAG_pointer_type: {
        Dwarf_Die pointee, base;
        if (type_of(peeled, pointee) && ::dwarf_peel_type(&pointee, &base) == 0 &&
            ::dwarf_tag(&base) == DW_TAG_base_type) {
            Dwarf_Word encoding = 0, pointee_size = 0;
            if (::dwarf_attr_integrate(&base, DW_AT_encoding, &attr) != nullptr) (void)::dwarf_formudata(&attr, &encoding);
            if (::dwarf_attr_integrate(&base, DW_AT_byte_size, &attr) != nullptr)
                (void)::dwarf_formudata(&attr, &pointee_size);
            const bool character = encoding == DW_ATE_signed_char || encoding == DW_ATE_unsigned_char ||
                                   encoding == DW_ATE_UTF;
            if (character && pointee_size == 1) return {argument_kind::c_string, size ? size : 8};
        }
        return {argument_kind::pointer, size ? size : 8};
    }
    case DW_TAG_base_type: {
        Dwarf_Word encoding = 0;
        if (::dwarf_attr_integrate(&peeled, DW_AT_encoding, &attr) != nullptr) (void)::dwarf_formudata(&attr, &encoding);
        switch (encoding) {
        case DW_ATE_signed: return {argument_kind::signed_integer, size};
        case DW_ATE_unsigned: return {argument_kind::unsigned_integer, size};
        case DW_ATE_boolean: return {argument_kind::boolean, size};
        case DW_ATE_signed_char:
        case DW_ATE_unsigned_char:
        case DW_ATE_UTF: return {argument_kind::character, size};
        case DW_ATE_float: return {argument_kind::floating, size};
        default: return {argument_kind::other, size};
        }
    }
    case DW_TAG_enumeration_type: return {argument_kind::signed_integer, size ? size : 4};
    default: return {argument_kind::other, size};
    }
}

// The DIE that describes `die` (LTO and out-of-line copies of an inline
// function keep only DW_AT_abstract_origin, and no parameters, at unit
// level), bounded.
[[nodiscard]] inline Dwarf_Die abstract_origin(Dwarf_Die die) {
    for (int hop = 0; hop < 4; ++hop) {
        Dwarf_Attribute attr;
        Dwarf_Die origin;
        if ((::dwarf_attr(&die, DW_AT_abstract_origin, &attr) == nullptr &&
             ::dwarf_attr(&die, DW_AT_specification, &attr) == nullptr) ||
            ::dwarf_formref_die(&attr, &origin) == nullptr) {
            break;
        }
        die = origin;
    }
    return die;
}

// The prototype a subprogram DIE gives; false when it is not prototyped.
[[nodiscard]] inline bool read_prototype(Dwarf_Die& subprogram, const std::string& name, function_prototype& out) {
    bool prototyped = false;
    Dwarf_Attribute attr;
    if (::dwarf_attr_integrate(&subprogram, DW_AT_prototyped, &attr) == nullptr ||
        ::dwarf_formflag(&attr, &prototyped) != 0 || !prototyped) {
        return false;
    }
    out = function_prototype{name, {}, false};
    Dwarf_Die child;
    if (::dwarf_child(&subprogram, &child) != 0) return true;  // no parameters: f(void)
    do {
        const int tag = ::dwarf_tag(&child);
        if (tag == DW_TAG_unspecified_parameters) out.variadic = true;
        if (tag != DW_TAG_formal_parameter) continue;
        parameter p;
        if (const char* n = ::dwarf_diename(&child)) p.name = n;
        Dwarf_Die type;
        if (type_of(child, type)) {
            p.type = spell(&type);
            std::tie(p.kind, p.size) = classify(type);
        }
        out.parameters.push_back(std::move(p));
    } while (::dwarf_siblingof(&child, &child) == 0);
    return true;
}

[[nodiscard]] inline bool has_parameter_names(const function_prototype& p) {
    for (const auto& parameter : p.parameters)
        if (!parameter.name.empty()) return true;
    return false;
}

} // namespace detail::prototypes

[[nodiscard]] inline result<std::map<std::string, function_prototype, std::less<>>> function_prototypes(
    const std::string& path, const std::set<std::string, std::less<>>& names) {
    using namespace detail::prototypes;
    const dwarf_file file = TRIAGE_TRY(open_dwarf(path));
    std::map<std::string, function_prototype, std::less<>> found;
    std::set<std::string, std::less<>> settled;  // found with parameter names (or a definition)
    TRIAGE_TRY(for_each_unit_die(file, [&](Dwarf_Die& die) {
        if (::dwarf_tag(&die) != DW_TAG_subprogram) return true;
        const char* name = ::dwarf_diename(&die);
        if (name == nullptr || settled.contains(name)) return true;
        auto wanted = names.find(std::string_view{name});
        if (wanted == names.end()) return true;
        Dwarf_Die origin = abstract_origin(die);
        function_prototype prototype;
        if (!read_prototype(origin, *wanted, prototype)) return true;
        const bool definitive = !::dwarf_hasattr(&origin, DW_AT_declaration) || has_parameter_names(prototype);
        if (definitive) settled.insert(*wanted);
        if (definitive || !found.contains(*wanted)) found.insert_or_assign(*wanted, std::move(prototype));
        return settled.size() < names.size();
    }));
    return found;
}

} // namespace triage::elf
