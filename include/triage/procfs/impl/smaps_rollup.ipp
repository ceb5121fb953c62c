// triage/procfs/impl/smaps_rollup.ipp — the definitions of
// triage/procfs/smaps_rollup.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/smaps_rollup.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<memory_rollup> parse_smaps_rollup(std::string_view text) {
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

[[nodiscard]] TRIAGE_DECL result<memory_rollup> read_smaps_rollup(const proc_dir& dir, pid_t tid) {
    std::string text = TRIAGE_TRY(dir.read_all(tid, "smaps_rollup"));
    auto m = parse_smaps_rollup(text);
    if (!m) return fail(std::move(m.error()).within("reading " + dir.path(tid, "smaps_rollup")));
    return m;
}

[[nodiscard]] TRIAGE_DECL result<memory_rollup> read_smaps_rollup(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_smaps_rollup(dir, tid);
}

} // namespace triage::procfs
