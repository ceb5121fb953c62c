// triage/base/text.hpp — allocation-free pieces for parsing text formats.
//
// Offers: `parse_unsigned<T>(text, base)` and `parse_signed<T>(text)` (whole
// text must be a number, std::from_chars underneath), `next_token(text, sep)`
// which splits off a token and skips runs of `sep`, `trim`, and `hex(value)`
// ("0x7f00", for error messages; allocates).
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

// "0x7f3a00" — addresses in messages.
[[nodiscard]] inline std::string hex(std::uint64_t value) {
    char buf[2 + 16] = {'0', 'x'};
    auto [end, ec] = std::to_chars(buf + 2, buf + sizeof buf, value, 16);
    return std::string{buf, end};
}

} // namespace triage
