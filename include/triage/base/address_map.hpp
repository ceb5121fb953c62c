// triage/base/address_map.hpp — a hash map from 64-bit addresses to small
// values, for lookups made anew for every snapshot in a hot loop (a
// sampler's ticks): no allocation per insert once grown, and clear() in
// O(1), so a map refilled at every tick allocates nothing.
//
// Offers: `address_map<V, Generation = std::uint32_t>` (V default-
// constructible and movable; Generation: the unsigned type clear() counts
// in, a narrower one only to test the wrap):
//  - `find(key)`: the value, or nullptr;
//  - `operator[](key)`: the value, a V{} inserted when absent;
//  - `clear()`, `size()`, `empty()`, `reserve(n)`;
//  - `for_each(f)`: f(key, value) for every entry, in no particular order.
// How: open addressing with linear probing over a power-of-two table kept
// at most half full; a slot is in use when its generation is the map's, and
// clear() starts a new generation (the table is wiped only when the count
// wraps). Any 64-bit key is valid, 0 and ~0 included.
// Thread-safe: no (as a std::unordered_map). Signal-safe: no. Target: none.
//
//   triage::address_map<std::size_t> sizes;
//   sizes[0x7f00'0000'1000] = 64;
//   if (const std::size_t* s = sizes.find(address)) use(*s);
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace triage {

template <class V, class Generation = std::uint32_t>
class address_map {
public:
    [[nodiscard]] V* find(std::uint64_t key) noexcept {
        if (size_ == 0) return nullptr;
        for (std::size_t i = hash(key) & mask();; i = (i + 1) & mask()) {
            slot& s = slots_[i];
            if (s.generation != generation_) return nullptr;
            if (s.key == key) return &s.value;
        }
    }
    [[nodiscard]] const V* find(std::uint64_t key) const noexcept { return const_cast<address_map*>(this)->find(key); }

    V& operator[](std::uint64_t key) {
        if (2 * (size_ + 1) > slots_.size()) grow(slots_.empty() ? 16 : 2 * slots_.size());
        for (std::size_t i = hash(key) & mask();; i = (i + 1) & mask()) {
            slot& s = slots_[i];
            if (s.generation != generation_) {
                s = slot{key, generation_, V{}};
                ++size_;
                return s.value;
            }
            if (s.key == key) return s.value;
        }
    }

    void clear() noexcept {
        size_ = 0;
        if (++generation_ == 0) {  // wrapped: no stale slot may look current
            for (slot& s : slots_) s.generation = 0;
            generation_ = 1;
        }
    }

    void reserve(std::size_t n) {
        std::size_t capacity = slots_.empty() ? 16 : slots_.size();
        while (capacity < 2 * n) capacity *= 2;
        if (capacity > slots_.size()) grow(capacity);
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    template <class F>
    void for_each(F&& f) const {
        for (const slot& s : slots_) {
            if (s.generation == generation_) f(s.key, s.value);
        }
    }

private:
    struct slot {
        std::uint64_t key = 0;
        Generation generation = 0;
        V value{};
    };

    [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }

    [[nodiscard]] static std::size_t hash(std::uint64_t key) noexcept {  // MurmurHash3's finaliser
        key ^= key >> 33;
        key *= 0xff51afd7ed558ccdULL;
        key ^= key >> 33;
        key *= 0xc4ceb9fe1a85ec53ULL;
        key ^= key >> 33;
        return static_cast<std::size_t>(key);
    }

    void grow(std::size_t capacity) {
        std::vector<slot> old = std::exchange(slots_, std::vector<slot>(capacity));
        const Generation old_generation = std::exchange(generation_, 1);
        size_ = 0;
        for (slot& s : old) {
            if (s.generation == old_generation) (*this)[s.key] = std::move(s.value);
        }
    }

    std::vector<slot> slots_;
    Generation generation_ = 1;
    std::size_t size_ = 0;
};

} // namespace triage
