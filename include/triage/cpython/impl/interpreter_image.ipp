// triage/cpython/impl/interpreter_image.ipp — the definitions of
// triage/cpython/interpreter_image.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/interpreter_image.hpp"

namespace triage::cpython::detail::image {

[[nodiscard]] TRIAGE_DECL std::optional<std::pair<major_minor, std::size_t>> leading_major_minor(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0 || i > 1 || i >= text.size() || text[i] != '.') return std::nullopt;
    std::size_t j = i + 1;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i + 1 || j - i - 1 > 2) return std::nullopt;
    auto major = parse_signed<int>(text.substr(0, i));
    auto minor = parse_signed<int>(text.substr(i + 1, j - i - 1));
    if (!major || !minor) return std::nullopt;
    return std::pair{major_minor{*major, *minor}, j};
}

[[nodiscard]] TRIAGE_DECL bool is_version_literal(std::string_view s) {
    auto head = leading_major_minor(s);
    if (!head) return false;
    std::size_t i = head->second;
    if (i >= s.size() || s[i] != '.') return false;
    std::size_t digits = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == digits || i - digits > 3) return false;
    for (std::string_view tag : {"rc", "a", "b"}) {
        if (s.substr(i).starts_with(tag)) {
            std::size_t serial = i + tag.size();
            i = serial;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
            if (i == serial) return false;
            break;
        }
    }
    if (i < s.size() && s[i] == '+') ++i;
    return i == s.size();
}

} // namespace triage::cpython::detail::image

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL std::optional<major_minor> interpreter_file_version(std::string_view path) {
    std::string_view name = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
    for (std::string_view prefix : {"libpython", "python"}) {
        if (!name.starts_with(prefix)) continue;
        auto v = detail::image::leading_major_minor(name.substr(prefix.size()));
        if (v) return v->first;
    }
    return std::nullopt;
}

[[nodiscard]] TRIAGE_DECL std::optional<std::string> find_version_string(std::span<const std::byte> rodata,
                                                                          std::optional<major_minor> wanted) {
    std::optional<std::string> any;
    bool ambiguous = false;
    std::string_view all(reinterpret_cast<const char*>(rodata.data()), rodata.size());
    // Every NUL ends a string; its version-like suffixes are candidates.
    std::size_t start = 0;
    for (std::size_t end = all.find('\0'); end != std::string_view::npos; start = end + 1, end = all.find('\0', start)) {
        std::string_view s = all.substr(start, end - start);
        if (s.size() < 5 || s.size() > 4096) continue;
        // The literal is the whole string or the tail after a non-version character.
        for (std::size_t from = s.size() >= 16 ? s.size() - 16 : 0; from < s.size(); ++from) {
            if (from > 0 && (std::isdigit(static_cast<unsigned char>(s[from - 1])) || s[from - 1] == '.')) continue;
            std::string_view tail = s.substr(from);
            if (!detail::image::is_version_literal(tail)) continue;
            auto v = detail::image::leading_major_minor(tail);
            if (wanted && v && v->first == *wanted) return std::string(tail);
            if (from == 0 && v && (v->first.major == 2 || v->first.major == 3)) {
                if (!any) any = std::string(tail);
                else if (*any != tail) ambiguous = true;
            }
            break;
        }
    }
    if (wanted || ambiguous) return std::nullopt;
    return any;
}

} // namespace triage::cpython
