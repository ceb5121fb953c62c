// triage/elf/argument_kind.hpp — what a function's argument is, as a
// tracer must print it: the kinds elf/function_prototypes.hpp derives from
// DWARF types, and a user's `-e 'strchr(s,c)'` names by letter.
//
// Offers: `argument_kind` and `to_string(kind)`.
// Thread-safe: yes (values). Signal-safe: yes.
// Target process: none.
#pragma once

#include <cstdint>
#include <string_view>

namespace triage::elf {

enum class argument_kind : std::uint8_t {
    signed_integer,
    unsigned_integer,
    boolean,
    character,
    floating,
    c_string,  // a pointer to a one-byte character type
    pointer,
    other,
};

[[nodiscard]] constexpr std::string_view to_string(argument_kind k) noexcept {
    switch (k) {
    case argument_kind::signed_integer: return "signed";
    case argument_kind::unsigned_integer: return "unsigned";
    case argument_kind::boolean: return "bool";
    case argument_kind::character: return "char";
    case argument_kind::floating: return "float";
    case argument_kind::c_string: return "string";
    case argument_kind::pointer: return "pointer";
    case argument_kind::other: return "other";
    }
    return "other";
}

} // namespace triage::elf
