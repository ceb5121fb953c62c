// triage/elf/hash_table.hpp — the dynamic symbol hash tables of an ELF file
// (.gnu.hash, DT_GNU_HASH; .hash, DT_HASH), read the way the dynamic loader
// reads them.
//
// Offers: `gnu_hash(name)`, `sysv_hash(name)`, and the candidates a table
// gives for a name: `gnu_hash_candidates(table, elf64, name, symbol_count,
// visit)` and `sysv_hash_candidates(table, name, symbol_count, visit)` call
// `visit(index)` (returning false stops) for each .dynsym index whose hash
// matches; the caller compares the names. The table bytes must be in host
// byte order (as elf_getdata delivers them). Hostile tables are safe: every
// index is checked against the table and against `symbol_count`, and a chain
// is walked at most `symbol_count` steps. A table too small for its own
// header yields no candidates.
// Thread-safe: yes (pure). Signal-safe: yes. Target process: none touched.
//
//   triage::elf::gnu_hash_candidates(table, true, "malloc", dynsym_count,
//       [&](std::uint32_t i) { return !matches(i); });
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "triage/base/config.hpp"

namespace triage::elf {

[[nodiscard]] constexpr std::uint32_t gnu_hash(std::string_view name) noexcept {
    std::uint32_t h = 5381;
    for (char c : name) h = h * 33 + static_cast<unsigned char>(c);
    return h;
}

[[nodiscard]] constexpr std::uint32_t sysv_hash(std::string_view name) noexcept {
    std::uint32_t h = 0;
    for (char c : name) {
        h = (h << 4) + static_cast<unsigned char>(c);
        std::uint32_t g = h & 0xf0000000u;
        if (g != 0) h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

namespace detail {
// The 32-bit word at word index `i`, if the table holds it.
[[nodiscard]] TRIAGE_DECL bool table_word(std::span<const std::byte> table, std::size_t i, std::uint32_t& out) noexcept;
} // namespace detail

// GNU hash: header {nbuckets, symoffset, bloom_size, bloom_shift}, bloom
// words (64-bit in ELFCLASS64), buckets, then one chain word per symbol from
// symoffset on; the low bit of a chain word ends the chain.
template <class Visit>
void gnu_hash_candidates(std::span<const std::byte> table, bool elf64, std::string_view name,
                         std::size_t symbol_count, Visit&& visit) {
    std::uint32_t nbuckets = 0, symoffset = 0, bloom_size = 0, bloom_shift = 0;
    if (!detail::table_word(table, 0, nbuckets) || !detail::table_word(table, 1, symoffset) ||
        !detail::table_word(table, 2, bloom_size) || !detail::table_word(table, 3, bloom_shift) || nbuckets == 0) {
        return;
    }
    const std::size_t words = table.size() / 4;
    const std::size_t bloom_words_per_entry = elf64 ? 2 : 1;
    const std::size_t bloom_start = 4;
    if (bloom_size > (words - bloom_start) / bloom_words_per_entry) return;
    const std::size_t bucket_start = bloom_start + std::size_t{bloom_size} * bloom_words_per_entry;
    if (nbuckets > words - bucket_start) return;
    const std::size_t chain_start = bucket_start + nbuckets;
    const std::uint32_t h = gnu_hash(name);
    if (bloom_size != 0) {
        // The filter sets two bits per symbol; both clear or either clear means absent.
        const unsigned bits = elf64 ? 64 : 32;
        const std::size_t entry = (h / bits) & (bloom_size - 1);
        std::uint64_t word = 0;
        if (elf64) {
            std::memcpy(&word, table.data() + (bloom_start + entry * 2) * 4, 8);
        } else {
            std::uint32_t w32 = 0;
            if (!detail::table_word(table, bloom_start + entry, w32)) return;
            word = w32;
        }
        const std::uint64_t mask = (std::uint64_t{1} << (h % bits)) | (std::uint64_t{1} << ((h >> (bloom_shift & 31u)) % bits));
        if ((word & mask) != mask) return;
    }
    std::uint32_t index = 0;
    if (!detail::table_word(table, bucket_start + h % nbuckets, index) || index < symoffset) return;
    for (std::size_t steps = 0; steps < symbol_count && index < symbol_count; ++steps, ++index) {
        std::uint32_t chain = 0;
        if (!detail::table_word(table, chain_start + (index - symoffset), chain)) return;
        if (((chain ^ h) >> 1) == 0 && !visit(index)) return;
        if (chain & 1) return;
    }
}

// SysV hash: {nbucket, nchain}, buckets, then chains; index 0 ends a chain.
template <class Visit>
void sysv_hash_candidates(std::span<const std::byte> table, std::string_view name, std::size_t symbol_count,
                          Visit&& visit) {
    std::uint32_t nbucket = 0, nchain = 0;
    if (!detail::table_word(table, 0, nbucket) || !detail::table_word(table, 1, nchain) || nbucket == 0) return;
    const std::size_t chain_start = 2 + std::size_t{nbucket};
    std::uint32_t index = 0;
    if (!detail::table_word(table, 2 + sysv_hash(name) % nbucket, index)) return;
    for (std::size_t steps = 0; steps < nchain && steps < symbol_count && index != 0; ++steps) {
        if (index >= symbol_count || index >= nchain) return;
        if (!visit(index)) return;
        if (!detail::table_word(table, chain_start + index, index)) return;
    }
}

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/hash_table.ipp"
#endif
