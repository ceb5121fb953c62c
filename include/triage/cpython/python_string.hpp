// triage/cpython/python_string.hpp — the text of a Python string object in
// the target, as UTF-8.
//
// Offers:
//  - `decode_text(text, encoding)`: UTF-8 of raw code units. Invalid code
//    points (lone surrogates, values past U+10FFFF, bytes >= 0x80 in text
//    flagged ASCII, invalid UTF-8 in a 2.7 str) become U+FFFD.
//  - 3.3+ str (PEP 393): `unicode_offsets` (filled by the walker from the
//    layout: field offsets and the positions of the `state` bit-fields),
//    `locate_unicode_text(header, address, offsets)` (pure: where the code
//    units of a str are and how wide; compact ASCII, compact UCS1/2/4 and
//    legacy non-compact strings — the last hold a pointer to their text), and
//    `read_unicode(mem, address, offsets, max_chars)`, which reads the object
//    and its text. A compact string of up to ~430 bytes of text is one read
//    of a 512-byte chunk; longer or legacy strings take a second read.
//  - 2.7: `read_py27_str` (PyStringObject, bytes shown as UTF-8) and
//    `read_py27_unicode` (Py_UNICODE units of 2 bytes, UTF-16 with surrogate
//    pairs, or 4 bytes).
// Every reader returns `decoded_string{utf8, length, truncated}`: at most
// `max_chars` code points (bytes for a 2.7 str) are decoded; `length` is the
// object's own length; `truncated` says the text was cut at `max_chars`.
// Code units are read in the host's byte order (x86-64 target and host).
// Errors: errc::bad_address/truncated when the object or its text cannot be
//    read (from the memory source, address in the context); errc::malformed
//    for a negative length, an unknown kind, or bits that contradict each
//    other; errc::unsupported for a 3.3–3.11 string that is not "ready" (its
//    text lives only in the deprecated wstr form).
// Thread-safe: yes (values only). Signal-safe: no (allocates the result).
// Target process: reads only, one or two reads per string.
//
//   triage::cpython::unicode_offsets offsets{.length = 16, .state = 32, .ascii_data = 40,  // 3.12
//                                            .compact_data = 56, .legacy_data = 56, .ready_bit = {}};
//   auto name = TRIAGE_TRY(triage::cpython::read_unicode(mem, co_name_address, offsets));
//   std::puts(name.utf8.c_str());
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

// Code points decoded by default: names and file names are far shorter.
inline constexpr std::size_t default_max_chars = 4096;

// How the code units of a string's text are stored.
enum class text_encoding : std::uint8_t {
    ascii,       // 1 byte, < 0x80 (PEP 393 compact ASCII)
    latin1,      // 1 byte, U+0000..U+00FF (PEP 393 UCS1)
    ucs2,        // 2 bytes, BMP only, no surrogate pairs (PEP 393 UCS2)
    ucs4,        // 4 bytes (PEP 393 UCS4; 2.7 wide Py_UNICODE)
    utf16,       // 2 bytes with surrogate pairs (2.7 narrow Py_UNICODE)
    bytes_utf8,  // 2.7 str: bytes, shown as UTF-8 where they are valid UTF-8
};

[[nodiscard]] constexpr std::size_t unit_size(text_encoding encoding) noexcept {
    switch (encoding) {
    case text_encoding::ucs2:
    case text_encoding::utf16: return 2;
    case text_encoding::ucs4: return 4;
    default: return 1;
    }
}

struct decoded_string {
    std::string utf8;
    std::uint64_t length = 0;  // code points (2.7 str: bytes) in the object
    bool truncated = false;    // only the first max_chars were decoded
};

namespace detail::python_string {

inline constexpr char32_t replacement = 0xFFFD;

TRIAGE_DECL void append_code_point(std::string& out, char32_t c);

template <class Unit>
[[nodiscard]] inline Unit unit_at(std::span<const std::byte> text, std::size_t index) {
    Unit unit;
    std::memcpy(&unit, text.data() + index * sizeof(Unit), sizeof(Unit));
    return unit;
}

// The length of the valid UTF-8 sequence at `at`, or 0 when it is invalid.
[[nodiscard]] TRIAGE_DECL std::size_t utf8_sequence(std::span<const std::byte> text, std::size_t at);

} // namespace detail::python_string

// UTF-8 of every code unit in `text` (a trailing partial unit is ignored).
[[nodiscard]] TRIAGE_DECL std::string decode_text(std::span<const std::byte> text, text_encoding encoding);

// Where the walker finds the fields of a 3.3+ str object (PyASCIIObject,
// PyCompactUnicodeObject, PyUnicodeObject), filled from the version's layout.
struct unicode_offsets {
    std::uint32_t length = 0;        // offsetof(PyASCIIObject, length): Py_ssize_t
    std::uint32_t state = 0;         // offsetof(PyASCIIObject, state): 32-bit bit-fields
    std::uint32_t ascii_data = 0;    // sizeof(PyASCIIObject): text of a compact ASCII string
    std::uint32_t compact_data = 0;  // sizeof(PyCompactUnicodeObject): text of other compact strings
    std::uint32_t legacy_data = 0;   // offsetof(PyUnicodeObject, data): pointer to a legacy string's text
    // Bit positions inside `state` (interned:2, kind:3, compact:1, ascii:1, then ready:1 up to 3.11).
    std::uint8_t kind_shift = 2;
    std::uint8_t compact_bit = 5;
    std::uint8_t ascii_bit = 6;
    std::optional<std::uint8_t> ready_bit;  // 3.3–3.11: 7; 3.12+: none (every str is ready)
};

// Where a str's code units are.
struct unicode_text {
    std::uint64_t address = 0;  // first code unit
    std::uint64_t length = 0;   // code points
    text_encoding encoding = text_encoding::ascii;
    bool compact = true;        // text follows the header (else: at a separate pointer)
};

// Pure: reads length and state from the copied header of the str at
// `address` and says where its text is. `header` must hold at least
// length+8 and state+4 bytes; a legacy string also needs legacy_data+8.
[[nodiscard]] TRIAGE_DECL result<unicode_text> locate_unicode_text(std::span<const std::byte> header,
                                                                   std::uint64_t address, const unicode_offsets& o);

namespace detail::python_string {

inline constexpr std::size_t chunk_size = 512;
// No caller asks for more text than this, whatever max_chars says.
inline constexpr std::uint64_t max_text_bytes = std::uint64_t{64} << 20;

// Decodes `units` code units at `address`, using `chunk` (copied from
// `chunk_address`, `chunk_bytes` valid) when it already holds them.
template <memory::memory_source M>
[[nodiscard]] result<std::string> text_at(M& mem, std::uint64_t address, std::uint64_t units, text_encoding encoding,
                                          std::span<const std::byte> chunk, std::uint64_t chunk_address) {
    if (units > max_text_bytes / unit_size(encoding)) {
        return fail(errc::limit_exceeded, "reading " + std::to_string(units) + " code units of a Python string at " +
                                              hex(address) + " (more than 64 MiB)");
    }
    const std::uint64_t bytes = units * unit_size(encoding);
    if (address >= chunk_address && address - chunk_address <= chunk.size() &&
        bytes <= chunk.size() - (address - chunk_address)) {
        return decode_text(chunk.subspan(address - chunk_address, bytes), encoding);
    }
    std::vector<std::byte> text(bytes);
    if (auto read = memory::read_exact(mem, address, text); !read) {
        return fail(std::move(read.error()).within("reading the text of a Python string"));
    }
    return decode_text(text, encoding);
}

template <memory::memory_source M>
[[nodiscard]] result<std::span<const std::byte>> read_chunk(M& mem, std::uint64_t address, std::span<std::byte> chunk,
                                                            std::size_t needed, std::string_view what) {
    auto n = mem.read(address, chunk);
    if (!n) return fail(std::move(n.error()).within("reading the " + std::string(what) + " object at " + hex(address)));
    if (*n < needed) {
        return fail(errc::truncated, "reading the " + std::string(what) + " object at " + hex(address) + " (" +
                                         std::to_string(*n) + " of " + std::to_string(needed) + " header bytes readable)");
    }
    return std::span<const std::byte>(chunk.data(), *n);
}

} // namespace detail::python_string

// Reads the 3.3+ str object at `address` and its text (at most `max_chars`
// code points) as UTF-8.
template <memory::memory_source M>
[[nodiscard]] result<decoded_string> read_unicode(M& mem, std::uint64_t address, const unicode_offsets& offsets,
                                                  std::size_t max_chars = default_max_chars) {
    namespace ps = detail::python_string;
    std::array<std::byte, ps::chunk_size> buffer;
    std::size_t needed = offsets.length + 8;
    if (offsets.state + 4 > needed) needed = offsets.state + 4;
    const auto chunk = TRIAGE_TRY(ps::read_chunk(mem, address, buffer, needed, "str"));
    const unicode_text text = TRIAGE_TRY(locate_unicode_text(chunk, address, offsets));
    decoded_string out;
    out.length = text.length;
    out.truncated = text.length > max_chars;
    const std::uint64_t units = out.truncated ? max_chars : text.length;
    out.utf8 = TRIAGE_TRY(ps::text_at(mem, text.address, units, text.encoding, chunk, address));
    return out;
}

// Where a 2.7 str (PyStringObject) keeps its size and bytes; 64-bit: 16, 36.
struct py27_string_offsets {
    std::uint32_t size = 0;  // offsetof(PyStringObject, ob_size): Py_ssize_t
    std::uint32_t data = 0;  // offsetof(PyStringObject, ob_sval)
};

// Reads the 2.7 str at `address` (at most `max_chars` bytes of it); bytes
// that are not valid UTF-8 become U+FFFD.
template <memory::memory_source M>
[[nodiscard]] result<decoded_string> read_py27_str(M& mem, std::uint64_t address, const py27_string_offsets& offsets,
                                                   std::size_t max_chars = default_max_chars) {
    namespace ps = detail::python_string;
    std::array<std::byte, ps::chunk_size> buffer;
    const auto chunk = TRIAGE_TRY(ps::read_chunk(mem, address, buffer, offsets.size + 8, "2.7 str"));
    std::int64_t size = 0;
    std::memcpy(&size, chunk.data() + offsets.size, sizeof size);
    if (size < 0) {
        return fail(errc::malformed, "decoding the 2.7 str object at " + hex(address) + ": negative size " +
                                         std::to_string(size));
    }
    decoded_string out;
    out.length = static_cast<std::uint64_t>(size);
    out.truncated = out.length > max_chars;
    const std::uint64_t units = out.truncated ? max_chars : out.length;
    out.utf8 = TRIAGE_TRY(ps::text_at(mem, address + offsets.data, units, text_encoding::bytes_utf8, chunk, address));
    return out;
}

// Where a 2.7 unicode (PyUnicodeObject) keeps its length and text pointer,
// and how wide Py_UNICODE is (2: --enable-unicode=ucs2, 4: ucs4); 64-bit: 16, 24.
struct py27_unicode_offsets {
    std::uint32_t length = 0;  // offsetof(PyUnicodeObject, length): Py_ssize_t
    std::uint32_t data = 0;    // offsetof(PyUnicodeObject, str): Py_UNICODE*
    std::uint8_t unit_size = 4;
};

// Reads the 2.7 unicode at `address` (at most `max_chars` code units).
template <memory::memory_source M>
[[nodiscard]] result<decoded_string> read_py27_unicode(M& mem, std::uint64_t address,
                                                       const py27_unicode_offsets& offsets,
                                                       std::size_t max_chars = default_max_chars) {
    namespace ps = detail::python_string;
    const std::string where = "decoding the 2.7 unicode object at " + hex(address);
    if (offsets.unit_size != 2 && offsets.unit_size != 4) {
        return fail(errc::invalid_argument, where + ": Py_UNICODE of " + std::to_string(offsets.unit_size) + " bytes");
    }
    std::array<std::byte, 64> buffer;
    std::size_t needed = offsets.length + 8;
    if (offsets.data + 8 > needed) needed = offsets.data + 8;
    if (needed > buffer.size()) return fail(errc::invalid_argument, where + ": offsets past the object header");
    const auto header = TRIAGE_TRY(ps::read_chunk(mem, address, std::span(buffer).first(needed), needed, "2.7 unicode"));
    std::int64_t length = 0;
    std::uint64_t data = 0;
    std::memcpy(&length, header.data() + offsets.length, sizeof length);
    std::memcpy(&data, header.data() + offsets.data, sizeof data);
    if (length < 0) return fail(errc::malformed, where + ": negative length " + std::to_string(length));
    if (data == 0) return fail(errc::malformed, where + ": null text pointer");
    decoded_string out;
    out.length = static_cast<std::uint64_t>(length);
    out.truncated = out.length > max_chars;
    const std::uint64_t units = out.truncated ? max_chars : out.length;
    const auto encoding = offsets.unit_size == 2 ? text_encoding::utf16 : text_encoding::ucs4;
    out.utf8 = TRIAGE_TRY(ps::text_at(mem, data, units, encoding, std::span<const std::byte>{}, 0));
    return out;
}

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/python_string.ipp"
#endif
