// base/escape.hpp: what a terminal would act on is shown, not sent.
#include <doctest/doctest.h>

#include <string>

#include "triage/base/escape.hpp"

using triage::escape_controls;

TEST_CASE("escape_controls: C0, DEL, backslash, C1, bidi and separators are escaped; other UTF-8 kept") {
    CHECK(escape_controls("plain text (file.py:12)") == "plain text (file.py:12)");
    CHECK(escape_controls("\x1b]0;title\x07") == "\\x1b]0;title\\x07");
    CHECK(escape_controls("\x1b[2J") == "\\x1b[2J");
    CHECK(escape_controls("a\r\nThread 1") == "a\\r\\nThread 1");
    CHECK(escape_controls("tab\there") == "tab\\there");
    CHECK(escape_controls(std::string("nul\0x", 5)) == "nul\\x00x");
    CHECK(escape_controls("del\x7f") == "del\\x7f");
    CHECK(escape_controls("C:\\path") == "C:\\\\path");
    CHECK(escape_controls("\xc2\x9b" "31m") == "\\u009b31m");                  // U+009B: 8-bit CSI
    CHECK(escape_controls("\xe2\x80\xae" "evil") == "\\u202eevil");             // RIGHT-TO-LEFT OVERRIDE
    CHECK(escape_controls("a\xe2\x80\xa8" "b") == "a\\u2028b");                // LINE SEPARATOR
    CHECK(escape_controls("\xc3\xbcn\xc3\xaf" "code_\xe5\x90\x8d\xf0\xa0\x80\x80") ==
          "\xc3\xbcn\xc3\xaf" "code_\xe5\x90\x8d\xf0\xa0\x80\x80");           // ünïcode_名𠀀
    CHECK(escape_controls("\x9b" "31m") == "\\x9b31m");                        // a lone 8-bit CSI byte
    CHECK(escape_controls("\xc3") == "\\xc3");                                 // cut short
    CHECK(escape_controls("\xc0\xaf") == "\\xc0\\xaf");                        // overlong '/'
    CHECK(escape_controls("\xed\xa0\x80") == "\\xed\\xa0\\x80");               // a surrogate
    CHECK(escape_controls("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");      // past U+10FFFF
    CHECK(escape_controls("") == "");
}

TEST_CASE("escape_controls never leaves a byte a terminal acts on, whatever the input") {
    // Every byte value, alone and after each lead byte.
    for (int lead = 0; lead < 256; ++lead) {
        for (int b = 0; b < 256; ++b) {
            std::string in{static_cast<char>(lead), static_cast<char>(b)};
            std::string out = escape_controls(in);
            CAPTURE(lead);
            CAPTURE(b);
            for (char c : out) {
                auto u = static_cast<unsigned char>(c);
                REQUIRE((u >= 0x20 && u != 0x7f));
            }
            REQUIRE(out.find("\xc2\x80") == std::string::npos);
            for (int c1 = 0x80; c1 <= 0x9f; ++c1) REQUIRE(out.find(std::string{'\xc2', static_cast<char>(c1)}) == std::string::npos);
        }
    }
}
