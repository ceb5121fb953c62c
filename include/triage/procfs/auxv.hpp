// triage/procfs/auxv.hpp — the ELF auxiliary vector a process started with
// (/proc/PID/auxv: pairs of 64-bit words, type then value, ending with
// AT_NULL).
//
// Offers: `auxv_entry{type, value}`, `parse_auxv(bytes)` (pure, fuzzed;
// stops at AT_NULL), `find_auxv(entries, type)` → the value, and
// `read_auxv(pid)` / `read_auxv(dir, tid)`. The types are <elf.h>'s AT_*
// (AT_ENTRY: the executable's entry point, AT_BASE: the dynamic loader's
// load address, AT_PHDR, AT_SYSINFO_EHDR: the vDSO, AT_EXECFN...).
// Errors: errc::malformed for a length that is not a whole number of pairs;
// readers add no_such_process and permission_denied (needs ptrace access).
// Thread-safe: yes. Signal-safe: parse is. Target process: reads a /proc
// file only.
//
//   auto aux = TRIAGE_TRY(triage::procfs::read_auxv(pid));
//   std::optional<std::uint64_t> entry = triage::procfs::find_auxv(aux, AT_ENTRY);
#pragma once

#include <elf.h>
#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

struct auxv_entry {
    std::uint64_t type = AT_NULL;
    std::uint64_t value = 0;
};

[[nodiscard]] TRIAGE_DECL result<std::vector<auxv_entry>> parse_auxv(std::span<const std::byte> bytes);

[[nodiscard]] constexpr std::optional<std::uint64_t> find_auxv(std::span<const auxv_entry> entries,
                                                               std::uint64_t type) noexcept {
    for (const auto& e : entries)
        if (e.type == type) return e.value;
    return std::nullopt;
}

[[nodiscard]] TRIAGE_DECL result<std::vector<auxv_entry>> read_auxv(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<std::vector<auxv_entry>> read_auxv(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/auxv.ipp"
#endif
