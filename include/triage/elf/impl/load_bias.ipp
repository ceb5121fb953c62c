// triage/elf/impl/load_bias.ipp — the definitions of
// triage/elf/load_bias.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/elf/load_bias.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> load_bias(std::span<const procfs::mapping> mappings,
                                                                 std::span<const segment> segments,
                                                                 std::uint64_t page_size) {
    mappings = mappings.first(std::min(mappings.size(), load_bias_limit));
    segments = segments.first(std::min(segments.size(), load_bias_limit));
    if (page_size == 0 || (page_size & (page_size - 1)) != 0) return std::nullopt;
    auto page_down = [&](std::uint64_t a) { return a & ~(page_size - 1); };
    // The file offset a loader maps segment s from; nullopt for a segment no
    // loader could map (p_offset smaller than p_vaddr's page offset).
    auto map_offset = [&](const segment& s) -> std::optional<std::uint64_t> {
        std::uint64_t in_page = s.vaddr & (page_size - 1);
        if (s.offset < in_page) return std::nullopt;
        return s.offset - in_page;
    };
    auto places = [&](std::uint64_t bias, const procfs::mapping& m) {
        for (const segment& s : segments) {
            auto from = map_offset(s);
            if (from && m.start - m.offset == bias + page_down(s.vaddr) - *from) return true;
        }
        return false;
    };
    std::optional<std::uint64_t> best;
    std::size_t best_score = 0;
    std::uint64_t best_start = 0;
    for (const procfs::mapping& m : mappings) {
        for (const segment& s : segments) {
            auto from = map_offset(s);
            if (!from || *from != m.offset) continue;
            std::uint64_t candidate = m.start - page_down(s.vaddr);
            std::size_t score = 0;
            for (const procfs::mapping& other : mappings) score += places(candidate, other) ? 1 : 0;
            if (!best || score > best_score || (score == best_score && m.start < best_start)) {
                best = candidate;
                best_score = score;
                best_start = m.start;
            }
        }
    }
    return best;
}

} // namespace triage::elf
