// triage/procfs/smaps_rollup.hpp — a process's memory totals
// (/proc/PID/smaps_rollup: the sum of every mapping's smaps counters).
//
// Offers: `memory_rollup` (sizes in KiB: rss, pss and its parts, shared and
// private clean/dirty, anonymous, swap, locked...) and
// `parse_smaps_rollup(text)` (pure, fuzzed; unknown keys ignored; the first
// "[rollup]" header line is skipped), `read_smaps_rollup(pid)` /
// `read_smaps_rollup(dir, tid)`. A kernel thread has no user memory: the
// reader returns errc::not_found for it.
// Errors: errc::malformed for a counter line that is not "Key: N kB";
// readers add no_such_process, not_found and permission_denied.
// Thread-safe: yes. Signal-safe: parse is. Target process: reading walks the
// target's page tables under its mmap lock (as `ps` and `top` do not: this
// costs the target a little); nothing is stopped.
//
//   auto mem = TRIAGE_TRY(triage::procfs::read_smaps_rollup(pid));
//   fmt::print("rss {} KiB, pss {} KiB, swap {} KiB\n", mem.rss_kb, mem.pss_kb, mem.swap_kb);
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

struct memory_rollup {
    std::uint64_t rss_kb = 0;
    std::uint64_t pss_kb = 0;
    std::uint64_t pss_dirty_kb = 0;
    std::uint64_t pss_anon_kb = 0;
    std::uint64_t pss_file_kb = 0;
    std::uint64_t pss_shmem_kb = 0;
    std::uint64_t shared_clean_kb = 0;
    std::uint64_t shared_dirty_kb = 0;
    std::uint64_t private_clean_kb = 0;
    std::uint64_t private_dirty_kb = 0;
    std::uint64_t referenced_kb = 0;
    std::uint64_t anonymous_kb = 0;
    std::uint64_t lazy_free_kb = 0;
    std::uint64_t anon_huge_pages_kb = 0;
    std::uint64_t swap_kb = 0;
    std::uint64_t swap_pss_kb = 0;
    std::uint64_t locked_kb = 0;
};

[[nodiscard]] TRIAGE_DECL result<memory_rollup> parse_smaps_rollup(std::string_view text);

[[nodiscard]] TRIAGE_DECL result<memory_rollup> read_smaps_rollup(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<memory_rollup> read_smaps_rollup(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/smaps_rollup.ipp"
#endif
