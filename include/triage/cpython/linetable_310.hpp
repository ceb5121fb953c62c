// triage/cpython/linetable_310.hpp — the line of an instruction from a
// CPython 3.10 `co_linetable` (the PEP 626 format of 3.10 only).
//
// Offers:
//  - `line_for_linetable_310(table, first_line, instruction_index)`: the
//    source line of the instruction at `instruction_index`, counted in 2-byte
//    code units (3.10's f_lasti counts instructions, not bytes). The table is
//    a sequence of (byte-length: unsigned byte, line-delta: signed byte)
//    pairs starting at (0, co_firstlineno); a line delta of -128 means "these
//    bytes have no line" and leaves the running line unchanged. The answer is
//    the line of the first non-empty range that contains the instruction, as
//    CPython's PyCode_Addr2Line computes it:
//      - a value: that line;
//      - std::nullopt: the instruction has no line (an artificial instruction)
//        or lies past the end of the table;
//      - an index below zero (f_lasti == -1, frame not started): `first_line`.
// Errors: errc::malformed for a table of odd length (every real table holds
//    whole pairs) or one that drives the line out of int range.
// Thread-safe and signal-safe: a pure function over the caller's bytes; no
// allocation on success. Target process: none touched.
//
//   auto line = TRIAGE_TRY(triage::cpython::line_for_linetable_310(
//       linetable_bytes, co_firstlineno, f_lasti));
//   if (line) std::printf("line %d\n", *line);
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<std::optional<int>> line_for_linetable_310(std::span<const std::byte> table,
                                                                             int first_line,
                                                                             std::int64_t instruction_index);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/linetable_310.ipp"
#endif
