// triage/coredump/core_notes.hpp — parse a core file's ELF header, program
// headers and notes from untrusted bytes (the parsers the fuzzers drive).
//
// Offers:
//  - `load_segment`: one PT_LOAD: [start, end) in memory, its bytes in the
//    file ([file_offset, file_offset + held)), PF_* flags; `held` is p_filesz
//    clipped to the end of the file (a truncated core holds less).
//  - `parse_core_header(bytes)` → `core_header` (PT_LOADs sorted by
//    address, the PT_NOTE segments' bytes, what the end of the file cut
//    off). Checks: ELF magic, 64-bit little-endian, ET_CORE, EM_X86_64,
//    e_phentsize, the program header table inside the file, PN_XNUM
//    extended numbering through section header 0, at most `max_segments`
//    program headers, overlapping PT_LOADs rejected. A file that ends early
//    (an interrupted dump or copy, a core size limit) is read as far as it
//    goes: a PT_NOTE segment past the end keeps its whole notes before the
//    cut (`truncated_notes`), a PT_LOAD its bytes before it (`held`,
//    `truncated_segments`).
//  - `parse_core_notes(note_segments)` → `core_notes`: threads from
//    NT_PRSTATUS (each followed by its NT_PRFPREG / NT_X86_XSTATE), process
//    facts from NT_PRPSINFO, the raw auxv (NT_AUXV), NT_FILE entries, the
//    NT_SIGINFO signal. At most `max_notes` notes and `max_threads` threads.
// Errors: errc::malformed (not an ELF core, bad table), errc::unsupported
// (another machine or class), errc::truncated (the header or program header
// table past the end of the file), errc::limit_exceeded (counts past the
// bounds). Never reads outside `bytes`.
// Thread-safe: yes (pure). Signal-safe: no (allocates).
// Target process: none (reads a file's bytes).
//
//   auto header = TRIAGE_TRY(triage::coredump::parse_core_header(file_bytes));
//   auto notes = TRIAGE_TRY(triage::coredump::parse_core_notes(header.notes));
//   for (const auto& t : notes.threads) fmt::print("{} rip={:#x}\n", t.tid, t.general.rip);
#pragma once

#include <elf.h>

#include <algorithm>
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
#include "triage/coredump/note.hpp"
#include "triage/coredump/records.hpp"
#include "triage/elf/note.hpp"

namespace triage::coredump {

inline constexpr std::size_t max_segments = 1u << 21;
inline constexpr std::size_t max_threads = 1u << 16;

struct load_segment {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t file_offset = 0;
    std::uint64_t held = 0;       // bytes of the segment present in the file, from `start`
    std::uint64_t file_size = 0;  // p_filesz as written
    std::uint32_t flags = 0;
};

struct core_header {
    std::vector<load_segment> loads;  // sorted by start, not overlapping
    std::vector<std::span<const std::byte>> notes;
    std::size_t truncated_segments = 0;  // PT_LOADs whose bytes run past the end of the file
    bool truncated_notes = false;        // a PT_NOTE segment runs past it: the notes after the cut are lost
};

namespace detail {
// The longest prefix of `bytes` made of whole notes (4-byte aligned, as in
// cores); a last note whose padding alone is missing counts as whole.
[[nodiscard]] TRIAGE_DECL std::span<const std::byte> whole_notes(std::span<const std::byte> bytes) noexcept;
} // namespace detail

// NT_SIGINFO: the signal that caused the dump, as the kernel delivered it.
struct core_siginfo {
    int signal = 0;  // si_signo (0: a dump taken from outside, as triage-gcore's)
    int code = 0;    // si_code: SEGV_MAPERR, BUS_ADRALN, SI_USER, SI_TKILL...
    int error = 0;   // si_errno
    std::optional<std::uint64_t> address;  // si_addr: the faulting address, for a fault the kernel raised
                                           // (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP with si_code > 0)
};

struct core_notes {
    std::vector<core_thread> threads;  // in the order of the core (the first is the "current" one)
    std::optional<core_process> process;
    std::vector<std::byte> auxv;
    std::vector<mapped_file> files;
    std::optional<int> signal;  // NT_SIGINFO si_signo
    std::optional<core_siginfo> siginfo;
};

[[nodiscard]] TRIAGE_DECL result<core_header> parse_core_header(std::span<const std::byte> bytes);

[[nodiscard]] TRIAGE_DECL result<core_notes> parse_core_notes(std::span<const std::span<const std::byte>> segments);

} // namespace triage::coredump

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/coredump/impl/core_notes.ipp"
#endif
