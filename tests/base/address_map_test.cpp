// address_map against std::unordered_map as the oracle: random keys
// (colliding low bits, 0 and ~0 among them), lookups of absent keys,
// growth, and clear() in the middle of use — and across the generation
// count's wrap.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <unordered_map>

#include "triage/base/address_map.hpp"

using namespace triage;

namespace {

void check_same(const address_map<std::uint64_t>& map, const std::unordered_map<std::uint64_t, std::uint64_t>& oracle) {
    REQUIRE(map.size() == oracle.size());
    for (const auto& [key, value] : oracle) {
        const std::uint64_t* found = map.find(key);
        REQUIRE(found != nullptr);
        CHECK(*found == value);
    }
    std::size_t visited = 0;
    map.for_each([&](std::uint64_t key, std::uint64_t value) {
        ++visited;
        auto it = oracle.find(key);
        REQUIRE(it != oracle.end());
        CHECK(it->second == value);
    });
    CHECK(visited == oracle.size());
}

} // namespace

TEST_CASE("address_map holds what an unordered_map holds, through growth and clears") {
    std::mt19937_64 random{12345};
    address_map<std::uint64_t> map;
    std::unordered_map<std::uint64_t, std::uint64_t> oracle;
    CHECK(map.find(0) == nullptr);
    for (int round = 0; round < 20; ++round) {
        const int inserts = 1 + static_cast<int>(random() % 3000);
        for (int k = 0; k < inserts; ++k) {
            // Page-aligned addresses share their low bits; a few edge keys.
            std::uint64_t key = (random() % 4096) << 12;
            if (k % 97 == 0) key = k % 2 ? 0 : std::numeric_limits<std::uint64_t>::max();
            const std::uint64_t value = random();
            map[key] = value;
            oracle[key] = value;
        }
        for (int k = 0; k < 200; ++k) {
            const std::uint64_t absent = (random() << 1) | 1;  // odd: never a key above but 0/~0
            if (!oracle.contains(absent)) CHECK(map.find(absent) == nullptr);
        }
        check_same(map, oracle);
        if (round % 3 == 2) {
            map.clear();
            oracle.clear();
            CHECK(map.empty());
            CHECK(map.find(0) == nullptr);
        }
    }
}

TEST_CASE("address_map: operator[] inserts a value-initialised entry once; reserve keeps the entries") {
    address_map<int> map;
    CHECK(map[0x1000] == 0);
    ++map[0x1000];
    ++map[0x1000];
    CHECK(map[0x1000] == 2);
    CHECK(map.size() == 1);
    map.reserve(10'000);
    CHECK(map.size() == 1);
    CHECK(*map.find(0x1000) == 2);
}

TEST_CASE("address_map: cleared past the generation count's wrap, no old entry comes back") {
    // An 8-bit count wraps after 255 clears, as the 32-bit one does after
    // 2^32 - 1: entries of every earlier generation must stay gone.
    address_map<int, std::uint8_t> map;
    for (int k = 0; k < 1000; ++k) {
        map.clear();
        CHECK(map.find(7) == nullptr);
        CHECK(map.find(static_cast<std::uint64_t>(k - 1)) == nullptr);
        map[static_cast<std::uint64_t>(k)] = k;
        if (k % 3 == 0) map[7] = k;
        REQUIRE(map.size() == (k % 3 == 0 && k != 7 ? 2u : 1u));
    }
}
