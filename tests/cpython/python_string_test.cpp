// String objects of every interpreter on the machine: tests/cpython/dump_strings.py
// copies real str/unicode objects (and the separate text buffers of legacy
// strings) out of the interpreter's own memory with ctypes.string_at, with
// the UTF-8 Python itself encodes them to. We decode the copied bytes at
// their original addresses and must get the same text.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "support/oracle_text.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/python_string.hpp"
#include "triage/memory/buffer_source.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::cpython;

namespace {

// A buffer_source that counts the reads made of it.
struct counting_source {
    memory::buffer_source inner;
    int reads = 0;
    result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) {
        ++reads;
        return inner.read(address, into);
    }
    result<void> read_batch(std::span<memory::read_request> requests) {
        ++reads;
        return inner.read_batch(requests);
    }
};
static_assert(memory::memory_source<counting_source>);

struct dumped_object {
    std::string label;
    std::string type;
    std::uint64_t address = 0;
    std::vector<std::byte> bytes;
    std::string expected;
    std::vector<std::pair<std::uint64_t, std::vector<std::byte>>> regions;
};

// The first `n` code points of UTF-8 text.
std::string utf8_prefix(const std::string& text, std::size_t n) {
    std::size_t at = 0;
    for (std::size_t count = 0; count < n && at < text.size(); ++count) {
        ++at;
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    }
    return text.substr(0, at);
}

std::size_t utf8_length(const std::string& text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string encoding_name(text_encoding encoding) {
    switch (encoding) {
    case text_encoding::ascii: return "ascii";
    case text_encoding::latin1: return "latin1";
    case text_encoding::ucs2: return "ucs2";
    case text_encoding::ucs4: return "ucs4";
    case text_encoding::utf16: return "utf16";
    case text_encoding::bytes_utf8: return "bytes";
    }
    return "?";
}

std::vector<std::byte> as_bytes(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (unsigned v : values) out.push_back(std::byte(v));
    return out;
}

template <class T>
void put(std::vector<std::byte>& bytes, std::size_t at, T value) {
    if (bytes.size() < at + sizeof value) bytes.resize(at + sizeof value);
    std::memcpy(bytes.data() + at, &value, sizeof value);
}

// 3.12 offsets, as in Include/cpython/unicodeobject.h of 3.12 (64-bit).
constexpr unicode_offsets offsets_312{.length = 16, .state = 32, .ascii_data = 40, .compact_data = 56, .legacy_data = 56, .ready_bit = std::nullopt};

// A 3.12 str header: length, state (kind, compact, ascii).
std::vector<std::byte> str_header(std::int64_t length, unsigned kind, bool compact, bool ascii) {
    std::vector<std::byte> bytes(64);
    put(bytes, 16, length);
    put(bytes, 32, std::uint32_t{(kind << 2) | (compact ? 1u << 5 : 0u) | (ascii ? 1u << 6 : 0u)});
    return bytes;
}

} // namespace

TEST_CASE("real string objects of every interpreter decode to the UTF-8 Python gives") {
    const auto interpreters = test_support::machine_interpreters();
    REQUIRE_MESSAGE(!interpreters.empty(), "no Python interpreter found (pyenv versions or /usr/bin/python3.11)");
    const std::string script = test_support::source_path("tests/cpython/dump_strings.py");
    std::vector<std::string> covered;
    for (const auto& python : interpreters) {
        CAPTURE(python.label);
        auto output = test_support::run_python(python, {script});
        REQUIRE_MESSAGE(output.exit_code == 0, "running " << python.path << " " << script << ": " << output.err);
        std::istringstream in(output.out);
        std::string line;
        int minor = -1;
        unicode_offsets offsets3;
        py27_string_offsets str27{.size = 16, .data = 0};
        py27_unicode_offsets unicode27{.length = 16, .data = 24, .unit_size = 0};
        std::vector<dumped_object> objects;
        while (std::getline(in, line)) {
            std::istringstream words(line);
            std::string tag;
            words >> tag;
            if (tag == "python") {
                std::string version;
                words >> version;
                std::string_view rest = version;
                [[maybe_unused]] auto major = next_token(rest, '.');
                minor = int(parse_unsigned<unsigned>(next_token(rest, '.')).value());
            } else if (tag == "sizes") {
                // Field offsets of PyASCIIObject (Include/cpython/unicodeobject.h,
                // 3.3–3.13, 64-bit): length after PyObject_HEAD, state after hash.
                offsets3.length = 16;
                offsets3.state = 32;
                words >> offsets3.ascii_data >> offsets3.compact_data >> offsets3.legacy_data;
                if (minor < 12) offsets3.ready_bit = 7;
            } else if (tag == "sizes27") {
                unsigned unit = 0;
                words >> str27.data >> unit;
                unicode27.unit_size = static_cast<std::uint8_t>(unit);
            } else if (tag == "object") {
                dumped_object o;
                std::string bytes_hex, expected_hex;
                words >> o.label >> o.type >> o.address >> bytes_hex >> expected_hex;
                o.bytes = test_support::bytes_from_hex(bytes_hex);
                auto expected = test_support::bytes_from_hex(expected_hex);
                o.expected.assign(reinterpret_cast<const char*>(expected.data()), expected.size());
                objects.push_back(std::move(o));
            } else if (tag == "region") {
                REQUIRE(!objects.empty());
                std::uint64_t address = 0;
                std::string bytes_hex;
                words >> address >> bytes_hex;
                objects.back().regions.emplace_back(address, test_support::bytes_from_hex(bytes_hex));
            }
        }
        REQUIRE(minor >= 0);
        REQUIRE(objects.size() >= 10);
        std::vector<std::string> forms_seen;
        int failures = 0;
        for (const auto& o : objects) {
            CAPTURE(o.label);
            counting_source mem;
            mem.inner.add_region(o.address, o.bytes);
            for (const auto& [address, bytes] : o.regions) mem.inner.add_region(address, bytes);
            auto read = [&](std::size_t max_chars) -> result<decoded_string> {
                if (o.type == "unicode") return read_unicode(mem, o.address, offsets3, max_chars);
                if (o.type == "str27") return read_py27_str(mem, o.address, str27, max_chars);
                return read_py27_unicode(mem, o.address, unicode27, max_chars);
            };
            // Everything, in full.
            auto whole = read(1'000'000);
            REQUIRE_MESSAGE(whole, failure_text(whole));
            const bool ok = whole && whole->utf8 == o.expected && !whole->truncated;
            if (o.type == "str27") {
                CHECK(whole->length == o.bytes.size() - str27.data - 1);
            } else if (o.type == "unicode" || unicode27.unit_size == 4) {
                CHECK(whole->length == utf8_length(o.expected));
            }
            CHECK_MESSAGE(whole->utf8 == o.expected, "got " << whole->utf8.size() << " bytes, want " << o.expected.size());
            CHECK_FALSE(whole->truncated);
            failures += ok ? 0 : 1;
            // Short compact strings: one read of the object, text included.
            if (o.type == "unicode") {
                auto text = locate_unicode_text(o.bytes, o.address, offsets3).value();
                const bool short_text = text.length * unit_size(text.encoding) < 400;
                if (text.compact && short_text) CHECK(mem.reads == 1);
                if (!text.compact) CHECK(mem.reads == 2);
                const std::string form = !text.compact ? "legacy" : "compact-" + encoding_name(text.encoding);
                if (o.label == "ascii" || o.label == "latin1" || o.label == "ucs2" || o.label == "ucs4" ||
                    o.label == "sub_ucs4") {
                    forms_seen.push_back(o.label + "=" + form);
                }
            }
            // Bounded: at the default limit, a long string is cut and flagged.
            auto bounded = read(default_max_chars);
            REQUIRE(bounded);
            if (whole->length > default_max_chars) {
                CHECK(bounded->truncated);
                CHECK(bounded->length == whole->length);
                if (o.type == "str27") {
                    CHECK(bounded->utf8 == o.expected.substr(0, default_max_chars));
                } else {
                    CHECK(bounded->utf8 == utf8_prefix(o.expected, default_max_chars));
                }
            } else {
                CHECK(bounded->utf8 == whole->utf8);
                CHECK_FALSE(bounded->truncated);
            }
        }
        std::sort(forms_seen.begin(), forms_seen.end());
        std::string forms;
        for (const auto& f : forms_seen) forms += " " + f;
        if (offsets3.state != 0) {
            // Every PEP 393 form came from real objects.
            CHECK(forms == " ascii=compact-ascii latin1=compact-latin1 sub_ucs4=legacy ucs2=compact-ucs2 ucs4=compact-ucs4");
        }
        if (failures == 0) covered.push_back(python.label + " (" + std::to_string(objects.size()) + " objects)");
    }
    std::string list;
    for (const auto& c : covered) list += "\n  " + c;
    MESSAGE("strings covered " << covered.size() << " of " << interpreters.size() << " interpreters:" << list);
    CHECK(covered.size() == interpreters.size());
}

TEST_CASE("decode_text: invalid code points become U+FFFD") {
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(decode_text(as_bytes({'a', 0x80, 'b'}), text_encoding::ascii) == "a" + fffd + "b");
    CHECK(decode_text(as_bytes({'a', 0xE9, 0xFF}), text_encoding::latin1) == "a\xC3\xA9\xC3\xBF");
    // UCS2: a surrogate is a code point of its own in PEP 393, never a pair.
    CHECK(decode_text(as_bytes({0x3D, 0xD8, 0x0D, 0xDC, 0xA9, 0x03}), text_encoding::ucs2) == fffd + fffd + "\xCE\xA9");
    // 2.7 narrow builds: pairs join, lone halves do not.
    CHECK(decode_text(as_bytes({0x3D, 0xD8, 0x0D, 0xDC}), text_encoding::utf16) == "\xF0\x9F\x90\x8D");
    CHECK(decode_text(as_bytes({0x0D, 0xDC, 0x3D, 0xD8}), text_encoding::utf16) == fffd + fffd);
    CHECK(decode_text(as_bytes({0x3D, 0xD8, 'x', 0}), text_encoding::utf16) == fffd + "x");
    CHECK(decode_text(as_bytes({0x0D, 0xF4, 0x01, 0, 0, 0, 0x11, 0, 0xFF, 0xFF, 0xFF, 0xFF}), text_encoding::ucs4) ==
          "\xF0\x9F\x90\x8D" + fffd + fffd);
    // A trailing partial code unit is not decoded.
    CHECK(decode_text(as_bytes({'a', 0, 0, 0, 'b', 0}), text_encoding::ucs4) == "a");
    // 2.7 str: valid UTF-8 passes; overlong forms, encoded surrogates, stray
    // continuation bytes and cut sequences do not.
    CHECK(decode_text(as_bytes({0xC3, 0xA9, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0x80, 0xF0, 0x9F}), text_encoding::bytes_utf8) ==
          "\xC3\xA9" + fffd + fffd + fffd + fffd + fffd + fffd + fffd + fffd);
}

TEST_CASE("read_unicode: hostile headers are errors, long strings are bounded") {
    const std::uint64_t at = 0x10000;
    auto code_of = [](const result<decoded_string>& r) { return r ? std::optional<errc>() : r.error().code; };
    auto read_header = [&](const std::vector<std::byte>& bytes, std::size_t max = default_max_chars) {
        memory::buffer_source mem(at, bytes);
        return read_unicode(mem, at, offsets_312, max);
    };
    CHECK(code_of(read_header(str_header(3, 3, true, false))) == errc::malformed);   // kind 3
    CHECK(code_of(read_header(str_header(3, 0, true, false))) == errc::malformed);   // kind 0
    CHECK(code_of(read_header(str_header(3, 2, true, true))) == errc::malformed);    // ASCII and UCS2
    CHECK(code_of(read_header(str_header(-1, 1, true, true))) == errc::malformed);   // negative length
    CHECK(code_of(read_header(str_header(8, 1, false, true))) == errc::malformed);   // legacy, null pointer
    auto unmapped = str_header(8, 1, false, true);
    put(unmapped, 56, std::uint64_t{0xdead0000});
    auto unmapped_read = read_header(unmapped);
    CHECK(code_of(unmapped_read) == errc::bad_address);
    CHECK(unmapped_read.error().message().find("0xdead0000") != std::string::npos);
    // The compact text runs past what is mapped.
    CHECK(code_of(read_header(str_header(1000, 1, true, true))) == errc::bad_address);
    // A header cut short by the end of the mapping.
    CHECK(code_of(read_header(std::vector<std::byte>(20))) == errc::truncated);
    {
        memory::buffer_source nothing;
        auto r = read_unicode(nothing, at, offsets_312);
        CHECK(code_of(r) == errc::bad_address);
    }
    // 3.3–3.11: a string that is not ready has no PEP 393 text to read.
    {
        unicode_offsets o311{.length = 16, .state = 32, .ascii_data = 48, .compact_data = 72, .legacy_data = 72,
                             .ready_bit = 7};
        auto bytes = str_header(3, 1, true, true);
        memory::buffer_source mem(at, bytes);
        CHECK(code_of(read_unicode(mem, at, o311)) == errc::unsupported);
    }
    // An absurd length: bounded by max_chars, and by a hard limit whatever max_chars says.
    {
        auto bytes = str_header(std::int64_t{1} << 60, 1, true, true);
        bytes.resize(40 + 100);
        std::fill(bytes.begin() + 40, bytes.end(), std::byte{'z'});
        auto cut = read_header(bytes, 100);
        REQUIRE(cut);
        CHECK(cut->utf8 == std::string(100, 'z'));
        CHECK(cut->truncated);
        CHECK(cut->length == std::uint64_t{1} << 60);
        CHECK(code_of(read_header(bytes, std::size_t{1} << 40)) == errc::limit_exceeded);
    }
}

TEST_CASE("2.7 readers: hostile sizes and pointers") {
    const std::uint64_t at = 0x20000;
    auto code_of = [](const result<decoded_string>& r) { return r ? std::optional<errc>() : r.error().code; };
    std::vector<std::byte> str(40);
    put(str, 16, std::int64_t{-5});
    memory::buffer_source mem(at, str);
    CHECK(code_of(read_py27_str(mem, at, {.size = 16, .data = 36})) == errc::malformed);
    std::vector<std::byte> uni(48);
    put(uni, 16, std::int64_t{2});
    memory::buffer_source umem(at, uni);
    CHECK(code_of(read_py27_unicode(umem, at, {.length = 16, .data = 24, .unit_size = 2})) == errc::malformed);
    CHECK(code_of(read_py27_unicode(umem, at, {.length = 16, .data = 24, .unit_size = 3})) == errc::invalid_argument);
    // A narrow (UCS2) build's text: a surrogate pair and 'o'.
    std::vector<std::byte> text = as_bytes({0x3D, 0xD8, 0x0D, 0xDC, 'o', 0});
    put(uni, 16, std::int64_t{3});
    put(uni, 24, std::uint64_t{0x30000});
    memory::buffer_source narrow;
    narrow.add_region(at, uni);
    narrow.add_region(0x30000, text);
    auto r = read_py27_unicode(narrow, at, {.length = 16, .data = 24, .unit_size = 2});
    REQUIRE(r);
    CHECK(r->utf8 == "\xF0\x9F\x90\x8Do");
    CHECK(r->length == 3);
}
