// triage/base/escape.hpp — target-supplied text made safe to print on a
// terminal: the one escaping function of every text writer.
//
// Offers: `escape_controls(text)` → a copy of `text` in which nothing can
// move the cursor, change the terminal's title or colours, clear the
// screen, or fake a line of our output:
//   - C0 controls and DEL: \n \r \t, others as \xHH (ESC is \x1b);
//   - a backslash as \\ (so an escape in the output is always ours);
//   - bytes that are not valid UTF-8 as \xHH;
//   - C1 controls (U+0080–U+009F: 8-bit CSI, OSC ...), the line and
//     paragraph separators U+2028/U+2029 and the bidirectional controls
//     (U+200E/F, U+202A–E, U+2066–9) as \uHHHH.
// All other text, UTF-8 included, is kept as it is. Thread names, function
// and file names, command lines and paths read from a target or a core go
// through it before any text writer prints them (JSON writers escape by
// the JSON rules instead).
// Thread-safe: yes. Signal-safe: no (allocates). Target process: none.
//
//   std::string name = "\x1b]0;owned\x07";
//   fmt::print("{}\n", triage::escape_controls(name));   // \x1b]0;owned\x07
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"

namespace triage {

namespace detail::escape {

TRIAGE_DECL void hex_byte(std::string& out, char prefix, unsigned value, int digits);

// The length of the valid UTF-8 sequence at text[at] (2–4), and its code
// point; 0 when the bytes there are not one.
struct utf8_char {
    std::size_t length = 0;
    char32_t code = 0;
};

[[nodiscard]] constexpr utf8_char decode(std::string_view text, std::size_t at) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[at + k]); };
    const unsigned char lead = byte(0);
    std::size_t length = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 0;
    if (length == 0 || at + length > text.size()) return {};
    char32_t code = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(k) & 0xC0) != 0x80) return {};
        code = (code << 6) | (byte(k) & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10FFFF)) ||
        (code >= 0xD800 && code <= 0xDFFF)) {
        return {};
    }
    return {length, code};
}

[[nodiscard]] constexpr bool invisible_control(char32_t c) noexcept {
    return (c >= 0x80 && c <= 0x9F) || c == 0x200E || c == 0x200F || c == 0x2028 || c == 0x2029 ||
           (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

} // namespace detail::escape

[[nodiscard]] TRIAGE_DECL std::string escape_controls(std::string_view text);

} // namespace triage

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/base/impl/escape.ipp"
#endif
