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

[[nodiscard]] inline result<memory_rollup> parse_smaps_rollup(std::string_view text) {
    memory_rollup m;
    std::size_t line_number = 0;
    while (!text.empty()) {
        std::string_view line = next_line(text);
        ++line_number;
        if (line.empty() || line.ends_with("[rollup]")) continue;
        auto pair = split_key_value(line);
        auto kb = pair && trim(pair->value).ends_with(" kB") ? parse_kb(pair->value) : std::nullopt;
        if (!kb) return fail(errc::malformed, "parsing smaps_rollup line " + std::to_string(line_number));
        const std::string_view key = pair->key;
        if (key == "Rss") m.rss_kb = *kb;
        else if (key == "Pss") m.pss_kb = *kb;
        else if (key == "Pss_Dirty") m.pss_dirty_kb = *kb;
        else if (key == "Pss_Anon") m.pss_anon_kb = *kb;
        else if (key == "Pss_File") m.pss_file_kb = *kb;
        else if (key == "Pss_Shmem") m.pss_shmem_kb = *kb;
        else if (key == "Shared_Clean") m.shared_clean_kb = *kb;
        else if (key == "Shared_Dirty") m.shared_dirty_kb = *kb;
        else if (key == "Private_Clean") m.private_clean_kb = *kb;
        else if (key == "Private_Dirty") m.private_dirty_kb = *kb;
        else if (key == "Referenced") m.referenced_kb = *kb;
        else if (key == "Anonymous") m.anonymous_kb = *kb;
        else if (key == "LazyFree") m.lazy_free_kb = *kb;
        else if (key == "AnonHugePages") m.anon_huge_pages_kb = *kb;
        else if (key == "Swap") m.swap_kb = *kb;
        else if (key == "SwapPss") m.swap_pss_kb = *kb;
        else if (key == "Locked") m.locked_kb = *kb;
    }
    return m;
}

[[nodiscard]] inline result<memory_rollup> read_smaps_rollup(const proc_dir& dir, pid_t tid = whole_process) {
    std::string text = TRIAGE_TRY(dir.read_all(tid, "smaps_rollup"));
    auto m = parse_smaps_rollup(text);
    if (!m) return fail(std::move(m.error()).within("reading " + dir.path(tid, "smaps_rollup")));
    return m;
}

[[nodiscard]] inline result<memory_rollup> read_smaps_rollup(pid_t pid, pid_t tid = whole_process) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_smaps_rollup(dir, tid);
}

} // namespace triage::procfs
