// Reading what oracles print: text split into lines, hexadecimal numbers
// ("0x7f00", "00000000004005d0"), and hex-encoded bytes ("0aff").
//
// Errors: std::runtime_error for text that is not what was asked for.
// Thread safety: pure functions.
//
//   for (std::string_view row : triage::test_support::split_lines(readelf_output)) ...
//   std::uint64_t value = triage::test_support::hex_number("0x1f");           // 31
//   std::vector<std::byte> code = triage::test_support::bytes_from_hex("0aff");  // {0x0a, 0xff}
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/text.hpp"

namespace triage::test_support {

// The lines of `text`, without their '\n' (no empty last line for a final '\n').
inline std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    return out;
}

// A hexadecimal number, surrounding blanks and a "0x" prefix allowed.
inline std::uint64_t hex_number(std::string_view text) {
    text = trim(text);
    if (text.starts_with("0x")) text.remove_prefix(2);
    auto v = parse_unsigned<std::uint64_t>(text, 16);
    if (!v) throw std::runtime_error("not a hex number: " + std::string{text});
    return *v;
}

// "0aff" → {0x0a, 0xff}; "-" → {} (how the dump scripts print no bytes).
inline std::vector<std::byte> bytes_from_hex(std::string_view text) {
    std::vector<std::byte> bytes;
    if (text == "-") return bytes;
    if (text.size() % 2 != 0) throw std::runtime_error("odd number of hex digits: " + std::string{text});
    bytes.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        auto byte = parse_unsigned<unsigned>(text.substr(i, 2), 16);
        if (!byte) throw std::runtime_error("not hex digits: " + std::string{text.substr(i, 2)});
        bytes.push_back(std::byte(*byte));
    }
    return bytes;
}

} // namespace triage::test_support
