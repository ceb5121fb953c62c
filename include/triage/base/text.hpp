// triage/base/text.hpp — allocation-free pieces for parsing text formats.
//
// Offers: `parse_unsigned<T>(text, base)` and `parse_signed<T>(text)` (whole
// text must be a number, std::from_chars underneath), `next_token(text, sep)`
// which splits off a token and skips runs of `sep`, `next_line(text)` which
// splits off one line (empty ones too), `split_key_value(line)` for the
// "Key:\tvalue" lines of /proc, `parse_kb(value)` for their "123 kB"
// values, `trim`, and `hex(value)` ("0x7f00", for error messages; allocates).
// Thread-safe: yes. Signal-safe: yes. Target process: none touched.
//
//   std::string_view line = "7f00-7f10 r-xp";
//   auto start = triage::parse_unsigned<std::uint64_t>(triage::next_token(line, '-'), 16);
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"

namespace triage {

template <std::unsigned_integral T>
[[nodiscard]] constexpr std::optional<T> parse_unsigned(std::string_view text, int base = 10) noexcept {
    T value{};
    if (text.empty()) return std::nullopt;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

template <std::signed_integral T>
[[nodiscard]] constexpr std::optional<T> parse_signed(std::string_view text) noexcept {
    T value{};
    if (text.empty()) return std::nullopt;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

// Returns the text up to the first `sep` and advances `text` past it and any
// further `sep`s. Returns the rest when there is no `sep`.
[[nodiscard]] constexpr std::string_view next_token(std::string_view& text, char sep = ' ') noexcept {
    std::size_t end = text.find(sep);
    std::string_view token = text.substr(0, end);
    if (end == std::string_view::npos) {
        text = {};
    } else {
        text.remove_prefix(end);
        while (!text.empty() && text.front() == sep) text.remove_prefix(1);
    }
    return token;
}

[[nodiscard]] constexpr std::string_view trim(std::string_view text) noexcept {
    constexpr std::string_view space = " \t\n\r";
    std::size_t b = text.find_first_not_of(space);
    if (b == std::string_view::npos) return {};
    std::size_t e = text.find_last_not_of(space);
    return text.substr(b, e - b + 1);
}

// Returns the text up to the first '\n' (without it) and advances `text`
// past it; an empty line is returned as such, so callers can count lines.
[[nodiscard]] constexpr std::string_view next_line(std::string_view& text) noexcept {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    return line;
}

// "VmRSS:\t  1234 kB" → key "VmRSS", value "\t  1234 kB" (as it stands after
// the first `sep`); nullopt when the line has no `sep`.
struct key_value {
    std::string_view key;
    std::string_view value;
};
[[nodiscard]] constexpr std::optional<key_value> split_key_value(std::string_view line, char sep = ':') noexcept {
    std::size_t at = line.find(sep);
    if (at == std::string_view::npos) return std::nullopt;
    return key_value{line.substr(0, at), line.substr(at + 1)};
}

// "  1234 kB" (or a bare "1234") → 1234; nullopt when it is not a number.
[[nodiscard]] constexpr std::optional<std::uint64_t> parse_kb(std::string_view value) noexcept {
    value = trim(value);
    if (value.ends_with(" kB")) value.remove_suffix(3);
    return parse_unsigned<std::uint64_t>(trim(value));
}

// "0x7f3a00" — addresses in messages.
[[nodiscard]] TRIAGE_DECL std::string hex(std::uint64_t value);

} // namespace triage

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/base/impl/text.ipp"
#endif
