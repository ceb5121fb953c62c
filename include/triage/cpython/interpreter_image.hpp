// triage/cpython/interpreter_image.hpp — what the stack walker needs to know
// about the ELF object that holds a target's Python interpreter (libpython,
// or a python executable with the interpreter linked in), as plain values.
//
// Offers:
//  - `address_range{low, high}` (target addresses, [low, high)).
//  - `interpreter_image`: the object's path, whether it is a shared library,
//    the relocated addresses of the few symbols the locator and version
//    detection use (`symbol(name)`), the relocated `.PyRuntime` section, the
//    writable ranges (data and bss) a fallback scan may search, and the
//    version string found in its read-only data, if any.
//  - `interpreter_file_version(path)`: "X.Y" read off a file name such as
//    libpython3.9.so.1.0, libpython3.6m.so or python3.11 (nullopt otherwise).
//  - `find_version_string(rodata, major, minor)`: the PY_VERSION literal
//    ("3.11.2", "2.7.18", "3.13.0rc1") among the NUL-terminated strings of a
//    .rodata image, preferring one of the given major.minor (linkers merge
//    it into the tail of longer strings such as ".../Python-3.9.18"); without
//    a major.minor, only a whole string, and only when no other differs.
// An image is filled from an ELF file by interpreter_elf.hpp, or by hand
// (tests, fuzzing, core files). Nothing here touches a process.
// Errors: none. Thread-safe and signal-safe: values only.
//
//   triage::cpython::interpreter_image image;
//   image.path = "/usr/lib/libpython3.11.so.1.0";
//   image.symbols["_PyRuntime"] = 0x7f00'1234'5000;
//   auto v = triage::cpython::interpreter_file_version(image.path);  // {3, 11}
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "triage/base/text.hpp"

namespace triage::cpython {

struct address_range {
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    [[nodiscard]] std::uint64_t size() const noexcept { return high > low ? high - low : 0; }
    [[nodiscard]] bool contains(std::uint64_t a) const noexcept { return a >= low && a < high; }
};

struct interpreter_image {
    std::string path;                                // the object as the process mapped it
    bool shared_library = false;                     // libpython*.so (else an executable)
    std::map<std::string, std::uint64_t, std::less<>> symbols;  // relocated addresses of symbols found
    std::optional<address_range> py_runtime_section; // .PyRuntime (3.10+), relocated
    std::vector<address_range> writable;             // .data, .bss (relocated), for the fallback scan
    std::optional<std::string> version_string;       // PY_VERSION found in .rodata

    [[nodiscard]] std::optional<std::uint64_t> symbol(std::string_view name) const {
        auto it = symbols.find(name);
        if (it == symbols.end() || it->second == 0) return std::nullopt;
        return it->second;
    }
};

struct major_minor {
    int major = 0;
    int minor = 0;
    friend bool operator==(const major_minor&, const major_minor&) = default;
};

namespace detail::image {

// "3.11" at the start of `text` (digits '.' digits), and how long it is.
[[nodiscard]] inline std::optional<std::pair<major_minor, std::size_t>> leading_major_minor(std::string_view text) {
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

// A whole PY_VERSION: X.Y.Z, then optionally (a|b|rc)N and a '+'.
[[nodiscard]] inline bool is_version_literal(std::string_view s) {
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

} // namespace detail::image

[[nodiscard]] inline std::optional<major_minor> interpreter_file_version(std::string_view path) {
    std::string_view name = path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
    for (std::string_view prefix : {"libpython", "python"}) {
        if (!name.starts_with(prefix)) continue;
        auto v = detail::image::leading_major_minor(name.substr(prefix.size()));
        if (v) return v->first;
    }
    return std::nullopt;
}

[[nodiscard]] inline std::optional<std::string> find_version_string(std::span<const std::byte> rodata,
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
