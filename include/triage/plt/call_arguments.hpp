// triage/plt/call_arguments.hpp — a traced call written as C would write
// it: `strchr("O|O:enumerate", ':')`, from the registers and strings read
// at the hit (plt/int3_counter.hpp) and what each argument is.
//
// Offers:
//  - `argument_format{kind, size}` and `call_signature{arguments, source}`:
//    how to print a function's arguments; `source` says where that came
//    from ("DWARF of …", "-e"); no arguments and an empty source: unknown,
//    printed as the six integer argument registers in hex.
//  - `parse_function_spec(text)`: a pattern that may say how to print its
//    arguments, `strchr(s,c)`: letters s (C string), c (char, as 'x'),
//    i (int), l (long), u (unsigned int), z (size_t), x or p (pointer/hex),
//    b (bool), anywhere in the pattern (`strchr(s,c)@libpython*`);
//    `strchr` alone has none. `pattern` is the text without them.
//  - `string_arguments(signature)`: the int3_trace bit mask of the C strings.
//  - `format_call(function, signature, call, max_string)`.
// Integers are taken from their register's low bytes (an `int` leaves the
// upper half of its register undefined) and sign-extended as the type
// says. Only the first six integer-class arguments come in registers: a
// function taking more, or an aggregate by value or a floating-point
// argument before them, prints what it can and then `…`. Strings are
// escaped (base/escape.hpp) and cut at `max_string` bytes with `…`.
// Errors: parse_function_spec: errc::invalid_argument naming the letter
// not known or the missing parenthesis.
// Thread-safe: yes. Signal-safe: no. Target process: none (formats values).
//
//   auto spec = TRIAGE_TRY(triage::plt::parse_function_spec("strchr(s,c)"));
//   std::string text = triage::plt::format_call("strchr", {*spec->arguments, "-e"}, call, 64);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/argument_kind.hpp"
#include "triage/plt/int3_counter.hpp"

namespace triage::plt {

struct argument_format {
    elf::argument_kind kind = elf::argument_kind::pointer;
    std::uint64_t size = 8;  // bytes of the value

    friend bool operator==(const argument_format&, const argument_format&) = default;
};

struct call_signature {
    std::vector<argument_format> arguments;
    std::string source;  // where the formats come from; empty: unknown
    bool variadic = false;
};

struct function_spec {
    std::string pattern;                                   // what plan_probes matches
    std::optional<std::vector<argument_format>> arguments;  // given in parentheses
};

[[nodiscard]] TRIAGE_DECL result<function_spec> parse_function_spec(std::string_view text);

[[nodiscard]] TRIAGE_DECL std::uint8_t string_arguments(const call_signature& signature) noexcept;

[[nodiscard]] TRIAGE_DECL std::string format_call(std::string_view function, const call_signature& signature,
                                                  const traced_call& call, std::size_t max_string);

} // namespace triage::plt

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/plt/impl/call_arguments.ipp"
#endif
