// triage/cpython/impl/python_repr.ipp — the definitions of
// triage/cpython/python_repr.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "triage/base/escape.hpp"
#include "triage/cpython/python_repr.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL std::string float_repr(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
    // The shortest round-trip digits, as d.ddde±XX.
    std::array<char, 64> buffer{};
    const auto written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
    std::string_view text{buffer.data(), written.ptr};
    std::string out;
    if (text.starts_with('-')) {
        out = "-";
        text.remove_prefix(1);
    }
    const std::size_t e = text.find('e');
    std::string digits;
    for (char c : text.substr(0, e)) {
        if (c != '.') digits += c;
    }
    std::string_view exponent_text = text.substr(e + 1);
    const bool negative_exponent = exponent_text.starts_with('-');
    if (exponent_text.starts_with('-') || exponent_text.starts_with('+')) exponent_text.remove_prefix(1);
    int magnitude = 0;
    (void)std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), magnitude);
    const int exponent = negative_exponent ? -magnitude : magnitude;
    // Python's float_repr_style 'short': exponent notation when the decimal
    // point would sit more than 4 places before the first digit or 16 after.
    const int point = exponent + 1;
    const auto size = static_cast<int>(digits.size());
    if (point <= -4 || point > 16) {
        out += digits.front();
        if (size > 1) out += "." + digits.substr(1);
        const std::string e_digits = std::to_string(magnitude);
        return out + "e" + (negative_exponent ? "-" : "+") + (e_digits.size() < 2 ? "0" : "") + e_digits;
    }
    if (point <= 0) return out + "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    if (point >= size) return out + digits + std::string(static_cast<std::size_t>(point - size), '0') + ".0";
    return out + digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
}

namespace detail::repr {

namespace escape = ::triage::detail::escape;

// Characters str.isprintable() rejects among the common ones past ASCII:
// C1 controls, separators other than the space, format characters,
// surrogates, private use and the non-characters at the end of the BMP.
[[nodiscard]] constexpr bool printable(char32_t c) noexcept {
    constexpr std::array<std::pair<char32_t, char32_t>, 18> hidden{{
        {0x80, 0xA0}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C}, {0x6DD, 0x6DD}, {0x70F, 0x70F},
        {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x206F},
        {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFDD0, 0xFDEF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB},
        {0xFFFE, 0xFFFF}, {0xE0000, 0x10FFFF},
    }};
    return std::ranges::none_of(hidden, [c](const auto& range) { return c >= range.first && c <= range.second; });
}

// The quote repr() chooses: ' unless the text has ' and no ".
[[nodiscard]] TRIAGE_DECL char quote_for(std::string_view text) noexcept {
    return text.find('\'') != std::string_view::npos && text.find('"') == std::string_view::npos ? '"' : '\'';
}

// An ASCII character (or a byte) as repr() writes it inside `quote`s.
TRIAGE_DECL void append_ascii(std::string& out, unsigned c, char quote) {
    if (c == static_cast<unsigned char>(quote) || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
    } else if (c == '\t') {
        out += "\\t";
    } else if (c == '\n') {
        out += "\\n";
    } else if (c == '\r') {
        out += "\\r";
    } else if (c < 0x20 || c >= 0x7F) {
        escape::hex_byte(out, 'x', c, 2);
    } else {
        out += static_cast<char>(c);
    }
}

[[nodiscard]] TRIAGE_DECL std::string quoted_text(std::string_view utf8, quoting how) {
    const char quote = quote_for(utf8);
    std::string out = how == quoting::py2_unicode ? "u" : "";
    out += quote;
    for (std::size_t i = 0; i < utf8.size();) {
        const auto lead = static_cast<unsigned char>(utf8[i]);
        if (lead < 0x80) {
            append_ascii(out, lead, quote);
            ++i;
            continue;
        }
        const auto u = escape::decode(utf8, i);
        if (u.length == 0) {  // not UTF-8 (python_string.hpp's decoders never give such text)
            escape::hex_byte(out, 'x', lead, 2);
            ++i;
            continue;
        }
        const auto code = static_cast<unsigned>(u.code);
        if (how == quoting::str && printable(u.code)) {
            out.append(utf8.substr(i, u.length));
        } else if (code <= 0xFF) {
            escape::hex_byte(out, 'x', code, 2);
        } else if (code <= 0xFFFF) {
            escape::hex_byte(out, 'u', code, 4);
        } else {
            escape::hex_byte(out, 'U', code, 8);
        }
        i += u.length;
    }
    return out + quote;
}

[[nodiscard]] TRIAGE_DECL std::string quoted_bytes(std::span<const std::byte> bytes, std::string_view prefix) {
    const std::string_view text{reinterpret_cast<const char*>(bytes.data()), bytes.size()};
    const char quote = quote_for(text);
    std::string out{prefix};
    out += quote;
    for (char c : text) append_ascii(out, static_cast<unsigned char>(c), quote);
    return out + quote;
}

[[nodiscard]] TRIAGE_DECL std::string decimal_digits(std::span<const std::uint32_t> digits) {
    // Repeated division by 10^9 of the base-2^30 number, most significant digit first.
    std::vector<std::uint32_t> rest(digits.rbegin(), digits.rend());
    std::vector<std::uint32_t> chunks;  // base 10^9, least significant first
    constexpr std::uint64_t billion = 1'000'000'000;
    while (!rest.empty()) {
        std::uint64_t remainder = 0;
        for (std::uint32_t& d : rest) {
            const std::uint64_t current = (remainder << 30) | d;
            d = static_cast<std::uint32_t>(current / billion);
            remainder = current % billion;
        }
        chunks.push_back(static_cast<std::uint32_t>(remainder));
        const auto first = std::ranges::find_if(rest, [](std::uint32_t d) { return d != 0; });
        rest.erase(rest.begin(), first);
    }
    if (chunks.empty()) return "0";
    std::string out = std::to_string(chunks.back());
    for (auto it = chunks.rbegin() + 1; it != chunks.rend(); ++it) {
        const std::string part = std::to_string(*it);
        out += std::string(9 - part.size(), '0') + part;
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL hex_prefix leading_hex(std::array<std::uint32_t, 3> top, std::uint64_t count,
                                                  std::size_t max_hex) {
    unsigned __int128 value = 0;
    for (std::uint32_t d : top) value = (value << 30) | d;
    const std::uint64_t below = 30 * (count - 3);  // bits under the three digits
    std::uint64_t top_bits = 0;
    for (unsigned __int128 v = value; v != 0; v >>= 1) ++top_bits;
    hex_prefix out;
    out.bits = below + top_bits;
    // Drop the low bits that do not fill a whole hex digit of the number.
    value >>= (4 - below % 4) % 4;
    std::string digits;
    for (; value != 0; value >>= 4) digits += "0123456789abcdef"[static_cast<unsigned>(value & 0xF)];
    std::ranges::reverse(digits);
    out.digits = digits.substr(0, std::max<std::size_t>(max_hex, 1));
    return out;
}

[[nodiscard]] TRIAGE_DECL std::string length_note(std::uint64_t length) {
    return " (len " + std::to_string(length) + ")";
}

} // namespace detail::repr

} // namespace triage::cpython
