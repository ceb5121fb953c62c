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

#include "triage/base/config.hpp"
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
[[nodiscard]] TRIAGE_DECL std::optional<std::pair<major_minor, std::size_t>> leading_major_minor(std::string_view text);

// A whole PY_VERSION: X.Y.Z, then optionally (a|b|rc)N and a '+'.
[[nodiscard]] TRIAGE_DECL bool is_version_literal(std::string_view s);

} // namespace detail::image

[[nodiscard]] TRIAGE_DECL std::optional<major_minor> interpreter_file_version(std::string_view path);

[[nodiscard]] TRIAGE_DECL std::optional<std::string> find_version_string(std::span<const std::byte> rodata,
                                                                          std::optional<major_minor> wanted);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/interpreter_image.ipp"
#endif
