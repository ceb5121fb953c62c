// triage/cpython/lnotab.hpp — the line of an instruction from a CPython
// 2.7–3.9 `co_lnotab`.
//
// Offers:
//  - `lnotab_line_deltas`: how the table's line increments are read —
//    unsigned bytes (2.7, 3.0–3.5) or signed bytes (3.6–3.9).
//  - `line_for_lnotab(table, first_line, byte_offset, deltas)`: the source
//    line of the instruction at `byte_offset` (a frame's f_lasti, which in
//    2.7–3.9 counts bytes), computed as CPython's PyCode_Addr2Line does:
//    walk the (address increment, line increment) byte pairs from
//    (0, co_firstlineno) and stop before the first pair whose address passes
//    the offset. Offsets before the first instruction (f_lasti == -1) give
//    `first_line`; offsets past the table give the last line. A trailing odd
//    byte is ignored, as CPython ignores it.
// Errors: errc::malformed when the table drives the line out of int range
//    (only a hostile table of megabytes can).
// Thread-safe and signal-safe: a pure function over the caller's bytes; no
// allocation on success. Target process: none touched (the caller copies the
// table from the target).
//
//   // co_lnotab copied from the target's code object:
//   int line = TRIAGE_TRY(triage::cpython::line_for_lnotab(
//       lnotab_bytes, co_firstlineno, f_lasti, triage::cpython::lnotab_line_deltas::signed_bytes));
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::cpython {

// How the second byte of each lnotab pair is read.
enum class lnotab_line_deltas : std::uint8_t {
    unsigned_bytes,  // 2.7 and 3.0–3.5: lines only go forward
    signed_bytes,    // 3.6–3.9: a pair may step the line back (-128..127)
};

[[nodiscard]] TRIAGE_DECL result<int> line_for_lnotab(std::span<const std::byte> table, int first_line,
                                                      std::int64_t byte_offset, lnotab_line_deltas deltas);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/lnotab.ipp"
#endif
