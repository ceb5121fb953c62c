// Fuzzes the Python string readers: arbitrary bytes as a 3.11 or 3.12 str,
// a 2.7 str or a 2.7 unicode object at 0x10000 (the same bytes are mapped
// again at 0x20000 so a legacy text pointer can land somewhere), and every
// text encoding of decode_text. Checks that the output is valid UTF-8.
// Input: 1 byte selecting the reader and max_chars, then the object bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "triage/cpython/python_string.hpp"
#include "triage/memory/buffer_source.hpp"

namespace {

using namespace triage::cpython;

void check_utf8(const std::string& text) {
    const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    for (std::size_t at = 0; at < bytes.size();) {
        const std::size_t length = detail::python_string::utf8_sequence(bytes, at);
        if (length == 0) __builtin_trap();
        at += length;
    }
}

void check(const triage::result<decoded_string>& r, std::size_t max_chars) {
    if (!r) return;
    check_utf8(r->utf8);
    if (r->truncated != (r->length > max_chars)) __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t mode = data[0];
    const auto object = std::as_bytes(std::span(data + 1, std::min<std::size_t>(size - 1, 0x10000)));
    triage::memory::buffer_source mem;
    mem.add_region(0x10000, object);
    mem.add_region(0x20000, object);
    const std::size_t max_chars = (mode & 0x80) != 0 ? 16 : default_max_chars;
    switch (mode & 7) {
    case 0:
        check(read_unicode(mem, 0x10000,
                           unicode_offsets{.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72,
                                           .legacy_data = 72, .ready_bit = 7},
                           max_chars),
              max_chars);
        break;
    case 1:
        check(read_unicode(mem, 0x10000,
                           unicode_offsets{.length = 16, .state = 32, .ascii_data = 40, .compact_data = 56,
                                           .legacy_data = 56, .ready_bit = std::nullopt},
                           max_chars),
              max_chars);
        break;
    case 2: check(read_py27_str(mem, 0x10000, {.size = 16, .data = 36}, max_chars), max_chars); break;
    case 3: check(read_py27_unicode(mem, 0x10000, {.length = 16, .data = 24, .unit_size = 4}, max_chars), max_chars); break;
    case 4: check(read_py27_unicode(mem, 0x10000, {.length = 16, .data = 24, .unit_size = 2}, max_chars), max_chars); break;
    default:
        for (auto encoding : {text_encoding::ascii, text_encoding::latin1, text_encoding::ucs2, text_encoding::ucs4,
                              text_encoding::utf16, text_encoding::bytes_utf8}) {
            check_utf8(decode_text(object, encoding));
        }
        break;
    }
    return 0;
}
