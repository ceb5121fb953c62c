// triage/cpython/impl/python_string.ipp — the definitions of
// triage/cpython/python_string.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/python_string.hpp"

namespace triage::cpython::detail::python_string {

TRIAGE_DECL void append_code_point(std::string& out, char32_t c) {
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = replacement;
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

[[nodiscard]] TRIAGE_DECL std::size_t utf8_sequence(std::span<const std::byte> text, std::size_t at) {
    const auto b = [&](std::size_t i) { return std::to_integer<std::uint8_t>(text[i]); };
    const std::uint8_t lead = b(at);
    std::size_t length = 0;
    char32_t min = 0;
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        min = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        min = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (at + length > text.size()) return 0;
    char32_t c = lead & (0x7F >> length);
    for (std::size_t i = 1; i < length; ++i) {
        if ((b(at + i) & 0xC0) != 0x80) return 0;
        c = (c << 6) | (b(at + i) & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return length;
}

} // namespace triage::cpython::detail::python_string

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL std::string decode_text(std::span<const std::byte> text, text_encoding encoding) {
    namespace ps = detail::python_string;
    std::string out;
    const std::size_t units = text.size() / unit_size(encoding);
    out.reserve(units);
    switch (encoding) {
    case text_encoding::ascii:
    case text_encoding::latin1:
        for (std::size_t i = 0; i < units; ++i) {
            const auto c = std::to_integer<std::uint8_t>(text[i]);
            ps::append_code_point(out, encoding == text_encoding::ascii && c >= 0x80 ? ps::replacement : c);
        }
        break;
    case text_encoding::ucs2:
        for (std::size_t i = 0; i < units; ++i) ps::append_code_point(out, ps::unit_at<std::uint16_t>(text, i));
        break;
    case text_encoding::ucs4:
        for (std::size_t i = 0; i < units; ++i) ps::append_code_point(out, ps::unit_at<std::uint32_t>(text, i));
        break;
    case text_encoding::utf16:
        for (std::size_t i = 0; i < units; ++i) {
            const char32_t unit = ps::unit_at<std::uint16_t>(text, i);
            if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < units) {
                const char32_t low = ps::unit_at<std::uint16_t>(text, i + 1);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    ps::append_code_point(out, 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
                    ++i;
                    continue;
                }
            }
            ps::append_code_point(out, unit);  // a lone surrogate becomes U+FFFD
        }
        break;
    case text_encoding::bytes_utf8:
        for (std::size_t i = 0; i < units;) {
            const std::size_t length = ps::utf8_sequence(text, i);
            if (length == 0) {
                ps::append_code_point(out, ps::replacement);
                ++i;
                continue;
            }
            out.append(reinterpret_cast<const char*>(text.data() + i), length);
            i += length;
        }
        break;
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL result<unicode_text> locate_unicode_text(std::span<const std::byte> header,
                                                                   std::uint64_t address, const unicode_offsets& o) {
    const std::string where = "decoding the str object at " + hex(address);
    if (header.size() < std::size_t{o.length} + 8 || header.size() < std::size_t{o.state} + 4) {
        return fail(errc::truncated, where + " (header of " + std::to_string(header.size()) + " bytes)");
    }
    std::int64_t length = 0;
    std::uint32_t state = 0;
    std::memcpy(&length, header.data() + o.length, sizeof length);
    std::memcpy(&state, header.data() + o.state, sizeof state);
    if (length < 0) return fail(errc::malformed, where + ": negative length " + std::to_string(length));
    const unsigned kind = (state >> o.kind_shift) & 7u;
    const bool compact = ((state >> o.compact_bit) & 1u) != 0;
    const bool ascii = ((state >> o.ascii_bit) & 1u) != 0;
    if (o.ready_bit && ((state >> *o.ready_bit) & 1u) == 0) {
        return fail(errc::unsupported, where + ": string not ready (text only in the deprecated wstr form)");
    }
    unicode_text text;
    text.length = static_cast<std::uint64_t>(length);
    text.compact = compact;
    switch (kind) {
    case 1: text.encoding = ascii ? text_encoding::ascii : text_encoding::latin1; break;
    case 2: text.encoding = text_encoding::ucs2; break;
    case 4: text.encoding = text_encoding::ucs4; break;
    default: return fail(errc::malformed, where + ": unknown kind " + std::to_string(kind) + " in state " + hex(state));
    }
    if (ascii && kind != 1) return fail(errc::malformed, where + ": ASCII flag on a kind-" + std::to_string(kind) + " string");
    if (compact) {
        text.address = address + (ascii ? o.ascii_data : o.compact_data);
        return text;
    }
    if (header.size() < std::size_t{o.legacy_data} + 8) {
        return fail(errc::truncated, where + " (legacy string header of " + std::to_string(header.size()) + " bytes)");
    }
    std::memcpy(&text.address, header.data() + o.legacy_data, sizeof text.address);
    if (text.address == 0) return fail(errc::malformed, where + ": legacy string with a null data pointer");
    return text;
}

} // namespace triage::cpython
