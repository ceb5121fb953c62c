// triage/cpython/version.hpp — which CPython version a target runs, from its
// memory and its files, never by running its binary.
//
// Offers:
//  - `python_version{major, minor, micro, release, source}` with `text()`
//    ("3.11.2", "3.13.0rc1", or "3.9" when only major.minor are known).
//  - `version_from_hex(PY_VERSION_HEX)`; `debug_offsets_cookie`.
//  - `detect_version(mem, image)`, trying in order:
//      1. `Py_Version` (3.11+ exports PY_VERSION_HEX as a constant): read
//         from the target's memory;
//      2. `_Py_DebugOffsets` (3.13+): the cookie "xdebugpy" and the 64-bit
//         PY_VERSION_HEX at the start of _PyRuntime (symbol or section);
//      3. the PY_VERSION string found in the object's .rodata;
//      4. the object's file name (libpython3.9.so, python3.11): major.minor.
//    Memory beats files: the file on disk may have been replaced.
// Errors: errc::unsupported ("cannot tell which Python version ...") when
// nothing says; a read that fails falls through to the next source.
// Thread-safe: yes. Signal-safe: no. Target process: reads a few bytes.
//
//   auto image = TRIAGE_TRY(triage::cpython::inspect_interpreter(object));
//   auto version = TRIAGE_TRY(triage::cpython::detect_version(mem, image));
//   fmt::print("Python {} (from {})\n", version.text(), version.source);
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

// The first 8 bytes of _Py_DebugOffsets (3.13+, debug_offsets.hpp); the
// next 8 are the interpreter's PY_VERSION_HEX.
inline constexpr std::string_view debug_offsets_cookie = "xdebugpy";

struct python_version {
    int major = 0;
    int minor = 0;
    std::optional<int> micro;
    std::string release;      // "", "a1", "b2", "rc1"
    std::string source;       // what told us: "Py_Version", "_Py_DebugOffsets", ".rodata", "file name"

    [[nodiscard]] std::string text() const {
        std::string out = std::to_string(major) + "." + std::to_string(minor);
        if (micro) out += "." + std::to_string(*micro) + release;
        return out;
    }
};

[[nodiscard]] TRIAGE_DECL std::optional<python_version> version_from_hex(std::uint64_t hex_version);

// Parses a PY_VERSION literal ("3.11.2", "3.13.0rc1").
[[nodiscard]] TRIAGE_DECL std::optional<python_version> version_from_string(std::string_view text);

// Where _PyRuntime starts, by symbol or section.
[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> runtime_address(const interpreter_image& image);

template <memory::memory_source M>
[[nodiscard]] result<python_version> detect_version(M& mem, const interpreter_image& image) {
    if (auto at = image.symbol("Py_Version")) {
        if (auto word = memory::read_object<std::uint32_t>(mem, *at)) {
            if (auto v = version_from_hex(*word)) {
                v->source = "Py_Version";
                return *v;
            }
        }
    }
    if (auto runtime = runtime_address(image)) {
        std::array<std::byte, 16> head{};
        if (memory::read_exact(mem, *runtime, head) &&
            std::memcmp(head.data(), debug_offsets_cookie.data(), debug_offsets_cookie.size()) == 0) {
            std::uint64_t word = 0;
            std::memcpy(&word, head.data() + 8, sizeof word);
            if (auto v = version_from_hex(word)) {
                v->source = "_Py_DebugOffsets";
                return *v;
            }
        }
    }
    auto named = interpreter_file_version(image.path);
    if (image.version_string) {
        if (auto v = version_from_string(*image.version_string);
            v && (!named || (named->major == v->major && named->minor == v->minor))) {
            v->source = ".rodata";
            return *v;
        }
    }
    if (named) {
        python_version v;
        v.major = named->major;
        v.minor = named->minor;
        v.source = "file name";
        return v;
    }
    return fail(errc::unsupported, "telling which Python version " + image.path + " is",
                "no Py_Version, _Py_DebugOffsets, version string or versioned file name");
}

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/version.ipp"
#endif
