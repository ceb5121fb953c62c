// triage/plt/impl/call_arguments.ipp — the definitions of
// triage/plt/call_arguments.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <fmt/core.h>

#include "triage/base/escape.hpp"
#include "triage/plt/call_arguments.hpp"

namespace triage::plt::detail {

[[nodiscard]] inline std::optional<argument_format> format_of_letter(char letter) noexcept {
    using k = elf::argument_kind;
    switch (letter) {
    case 's': return argument_format{k::c_string, 8};
    case 'c': return argument_format{k::character, 4};
    case 'i': return argument_format{k::signed_integer, 4};
    case 'l': return argument_format{k::signed_integer, 8};
    case 'u': return argument_format{k::unsigned_integer, 4};
    case 'z': return argument_format{k::unsigned_integer, 8};
    case 'x':
    case 'p': return argument_format{k::pointer, 8};
    case 'b': return argument_format{k::boolean, 1};
    default: return std::nullopt;
    }
}

// The low `size` bytes of a register, as the type says.
[[nodiscard]] inline std::int64_t as_signed(std::uint64_t v, std::uint64_t size) noexcept {
    switch (size) {
    case 1: return static_cast<std::int8_t>(v);
    case 2: return static_cast<std::int16_t>(v);
    case 4: return static_cast<std::int32_t>(v);
    default: return static_cast<std::int64_t>(v);
    }
}
[[nodiscard]] inline std::uint64_t as_unsigned(std::uint64_t v, std::uint64_t size) noexcept {
    return size >= 8 ? v : v & ((std::uint64_t{1} << (size * 8)) - 1);
}

[[nodiscard]] inline std::string c_literal(std::string_view text, char quote) {
    std::string out(1, quote);
    for (char c : escape_controls(text)) {
        if (c == quote) out += '\\';
        out += c;
    }
    out += quote;
    return out;
}

[[nodiscard]] inline std::string format_argument(const argument_format& f, std::uint64_t value,
                                                 const std::optional<std::string>& text, std::size_t max_string) {
    using k = elf::argument_kind;
    switch (f.kind) {
    case k::c_string:
        if (text) {
            const bool longer = text->size() > max_string;
            return c_literal(longer ? std::string_view{*text}.substr(0, max_string) : std::string_view{*text}, '"') +
                   (longer ? "…" : "");
        }
        return value == 0 ? std::string{"NULL"} : fmt::format("{:#x} <unreadable>", value);
    case k::character: {
        const auto c = static_cast<unsigned char>(value & 0xff);
        if (as_unsigned(value, f.size) == c && c >= 0x20 && c < 0x7f) return c_literal(std::string(1, static_cast<char>(c)), '\'');
        return std::to_string(as_signed(value, f.size));
    }
    case k::signed_integer: return std::to_string(as_signed(value, f.size));
    case k::unsigned_integer: return std::to_string(as_unsigned(value, f.size));
    case k::boolean: return (value & 0xff) != 0 ? "true" : "false";
    case k::pointer: return value == 0 ? std::string{"NULL"} : fmt::format("{:#x}", value);
    case k::floating:
    case k::other: break;
    }
    return "?";
}

} // namespace triage::plt::detail

namespace triage::plt {

[[nodiscard]] TRIAGE_DECL result<function_spec> parse_function_spec(std::string_view text) {
    const auto open = text.find('(');
    if (open == std::string_view::npos) return function_spec{std::string{text}, std::nullopt};
    const std::string context = "reading the function pattern '" + std::string{text} + "'";
    const auto close = text.find(')', open);
    if (close == std::string_view::npos) return fail(errc::invalid_argument, context, "a '(' without its ')': strchr(s,c)");
    std::vector<argument_format> arguments;
    const std::string_view letters = text.substr(open + 1, close - open - 1);
    for (char c : letters) {
        if (c == ',' || c == ' ') continue;
        auto f = detail::format_of_letter(c);
        if (!f)
            return fail(errc::invalid_argument, context,
                        std::string{"no argument format '"} + c +
                            "': s string, c char, i int, l long, u unsigned, z size_t, x or p pointer, b bool");
        arguments.push_back(*f);
    }
    return function_spec{std::string{text.substr(0, open)} + std::string{text.substr(close + 1)}, std::move(arguments)};
}

[[nodiscard]] TRIAGE_DECL std::uint8_t string_arguments(const call_signature& signature) noexcept {
    std::uint8_t mask = 0;
    for (std::size_t i = 0; i < signature.arguments.size() && i < 6; ++i) {
        if (signature.arguments[i].kind == elf::argument_kind::c_string) mask = static_cast<std::uint8_t>(mask | (1U << i));
    }
    return mask;
}

[[nodiscard]] TRIAGE_DECL std::string format_call(std::string_view function, const call_signature& signature,
                                                  const traced_call& call, std::size_t max_string) {
    std::string out{escape_controls(function)};
    out += '(';
    if (signature.source.empty()) {  // unknown: the six registers
        for (std::size_t i = 0; i < call.args.size(); ++i) out += fmt::format("{}{:#x}", i ? ", " : "", call.args[i]);
        return out + ')';
    }
    std::size_t shown = 0;
    for (const argument_format& f : signature.arguments) {
        if (shown == call.args.size() || f.kind == elf::argument_kind::floating || f.kind == elf::argument_kind::other) {
            out += shown ? ", …" : "…";  // not in an integer register, or after one that is not
            return out + ')';
        }
        out += shown ? ", " : "";
        out += detail::format_argument(f, call.args[shown], call.strings[shown], max_string);
        ++shown;
    }
    if (signature.variadic) out += shown ? ", …" : "…";
    return out + ')';
}

} // namespace triage::plt
