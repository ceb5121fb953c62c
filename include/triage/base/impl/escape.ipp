// triage/base/impl/escape.ipp — the definitions of
// triage/base/escape.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/escape.hpp"

namespace triage::detail::escape {

TRIAGE_DECL void hex_byte(std::string& out, char prefix, unsigned value, int digits) {
    constexpr char digit[] = "0123456789abcdef";
    out += '\\';
    out += prefix;
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += digit[(value >> shift) & 0xf];
}

} // namespace triage::detail::escape

namespace triage {

[[nodiscard]] TRIAGE_DECL std::string escape_controls(std::string_view text) {
    namespace e = detail::escape;
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) {
            if (c == '\\') out += '\\';
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c < 0x80) {
            if (c == '\n') out += "\\n";
            else if (c == '\r') out += "\\r";
            else if (c == '\t') out += "\\t";
            else e::hex_byte(out, 'x', c, 2);
            ++i;
            continue;
        }
        auto u = e::decode(text, i);
        if (u.length == 0) {
            e::hex_byte(out, 'x', c, 2);
            ++i;
        } else if (e::invisible_control(u.code)) {
            e::hex_byte(out, 'u', static_cast<unsigned>(u.code), 4);
            i += u.length;
        } else {
            out.append(text.substr(i, u.length));
            i += u.length;
        }
    }
    return out;
}

} // namespace triage
