// plt::parse_function_spec and plt::format_call: patterns that say how to
// print (`strchr(s,c)`), and calls written as C would, from register
// values: strings escaped and cut, NULL, unreadable pointers, characters,
// integers from their register's low bytes, what cannot be in a register,
// and the six registers in hex when nothing is known.
#include <doctest/doctest.h>

#include <string>

#include "triage/plt/call_arguments.hpp"

namespace {

using triage::elf::argument_kind;
using triage::plt::argument_format;
using triage::plt::call_signature;
using triage::plt::traced_call;

traced_call call_with(std::array<std::uint64_t, 6> args) {
    traced_call c;
    c.args = args;
    return c;
}

} // namespace

TEST_CASE("parse_function_spec: the letters, anywhere in the pattern, and what it refuses") {
    auto plain = triage::plt::parse_function_spec("mem*");
    REQUIRE(plain);
    CHECK(plain->pattern == "mem*");
    CHECK(!plain->arguments);

    auto spec = triage::plt::parse_function_spec("strchr(s,c)@libpython2.7*");
    REQUIRE(spec);
    CHECK(spec->pattern == "strchr@libpython2.7*");
    REQUIRE(spec->arguments);
    CHECK(*spec->arguments == std::vector<argument_format>{{argument_kind::c_string, 8}, {argument_kind::character, 4}});

    auto all = triage::plt::parse_function_spec("f(s, c, i, l, u, z)");
    REQUIRE(all);
    CHECK(all->arguments->size() == 6);
    auto none = triage::plt::parse_function_spec("getpid()");
    REQUIRE(none);
    CHECK(none->arguments->empty());

    auto bad = triage::plt::parse_function_spec("strchr(s,q)");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == triage::errc::invalid_argument);
    CHECK(bad.error().message().find("'q'") != std::string::npos);
    CHECK_FALSE(triage::plt::parse_function_spec("strchr(s,c"));
}

TEST_CASE("format_call writes each argument as its kind says") {
    const call_signature strchr_sig{{{argument_kind::c_string, 8}, {argument_kind::character, 4}}, "-e", false};
    auto c = call_with({0x1000, 0xdeadbeef0000003aULL, 0, 0, 0, 0});  // an int's upper half is garbage
    c.strings[0] = "O|O:enumerate";
    CHECK(triage::plt::format_call("strchr", strchr_sig, c, 64) == "strchr(\"O|O:enumerate\", ':')");

    // Escaped, quotes included; cut at max_string with "…" (max_string + 1 bytes read means longer).
    c.strings[0] = std::string{"a\"b\\c\n\x1b[2J"};
    CHECK(triage::plt::format_call("strchr", strchr_sig, c, 64) == "strchr(\"a\\\"b\\\\c\\n\\x1b[2J\", ':')");
    c.strings[0] = "abcdefgh";
    CHECK(triage::plt::format_call("strchr", strchr_sig, c, 4) == "strchr(\"abcd\"…, ':')");
    // NULL, and a pointer that could not be read.
    auto n = call_with({0, 7, 0, 0, 0, 0});
    CHECK(triage::plt::format_call("strchr", strchr_sig, n, 64) == "strchr(NULL, 7)");
    auto bad = call_with({0x10, 0x27, 0, 0, 0, 0});
    CHECK(triage::plt::format_call("strchr", strchr_sig, bad, 64) == "strchr(0x10 <unreadable>, '\\'')");

    const call_signature ints{{{argument_kind::signed_integer, 4},
                               {argument_kind::unsigned_integer, 4},
                               {argument_kind::signed_integer, 8},
                               {argument_kind::boolean, 1},
                               {argument_kind::pointer, 8}},
                              "DWARF of x",
                              true};
    auto i = call_with({0xffffffff, 0x1'0000'0005ULL, static_cast<std::uint64_t>(-3), 0x100, 0x7f00, 0});
    CHECK(triage::plt::format_call("f", ints, i, 64) == "f(-1, 5, -3, false, 0x7f00, …)");

    // A double or a struct by value is not in the integer registers: what follows cannot be told.
    const call_signature floating{{{argument_kind::pointer, 8}, {argument_kind::floating, 8}, {argument_kind::pointer, 8}}, "DWARF of x", false};
    CHECK(triage::plt::format_call("g", floating, call_with({1, 2, 3, 4, 5, 6}), 64) == "g(0x1, …)");
    // Unknown: the six registers.
    CHECK(triage::plt::format_call("h", {}, call_with({1, 2, 3, 4, 5, 0x7fff}), 64) == "h(0x1, 0x2, 0x3, 0x4, 0x5, 0x7fff)");
    // The name is escaped too (it came from the target's files).
    CHECK(triage::plt::format_call("a\x1b", {}, call_with({0, 0, 0, 0, 0, 0}), 64).starts_with("a\\x1b("));
}
