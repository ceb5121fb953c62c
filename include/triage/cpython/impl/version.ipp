// triage/cpython/impl/version.ipp — the definitions of
// triage/cpython/version.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/version.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL std::optional<python_version> version_from_hex(std::uint64_t hex_version) {
    python_version v;
    v.major = static_cast<int>((hex_version >> 24) & 0xFF);
    v.minor = static_cast<int>((hex_version >> 16) & 0xFF);
    v.micro = static_cast<int>((hex_version >> 8) & 0xFF);
    unsigned level = (hex_version >> 4) & 0xF;
    unsigned serial = hex_version & 0xF;
    if ((v.major != 2 && v.major != 3) || (hex_version >> 32) != 0) return std::nullopt;
    switch (level) {
    case 0xA: v.release = "a" + std::to_string(serial); break;
    case 0xB: v.release = "b" + std::to_string(serial); break;
    case 0xC: v.release = "rc" + std::to_string(serial); break;
    case 0xF: break;
    default: return std::nullopt;
    }
    return v;
}

[[nodiscard]] TRIAGE_DECL std::optional<python_version> version_from_string(std::string_view text) {
    auto head = detail::image::leading_major_minor(text);
    if (!head || !detail::image::is_version_literal(text)) return std::nullopt;
    python_version v;
    v.major = head->first.major;
    v.minor = head->first.minor;
    std::string_view rest = text.substr(head->second + 1);
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    auto micro = parse_signed<int>(rest.substr(0, digits));
    if (!micro) return std::nullopt;
    v.micro = *micro;
    v.release = std::string(rest.substr(digits));
    if (!v.release.empty() && v.release.back() == '+') v.release.pop_back();
    return v;
}

[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> runtime_address(const interpreter_image& image) {
    if (auto s = image.symbol("_PyRuntime")) return s;
    if (image.py_runtime_section) return image.py_runtime_section->low;
    return std::nullopt;
}

} // namespace triage::cpython
