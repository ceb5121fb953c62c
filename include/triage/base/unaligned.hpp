// triage/base/unaligned.hpp — a value of type T read from a byte buffer at
// any offset: how the fields of a remote struct copied into a local buffer
// are read (no alignment, no aliasing rules broken).
//
// Offers: `load_unaligned<T>(bytes, at)`: the T at byte `at`, or T{} when
// it does not lie wholly inside `bytes` (an offset past a short read, or a
// layout's "no such field" offset), so callers bound their reads once.
// Thread-safe: yes. Signal-safe: yes. Target process: none touched.
//
//   const auto next = triage::load_unaligned<std::uint64_t>(bytes, layout.next);
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

namespace triage {

template <class T>
    requires std::is_trivially_copyable_v<T>
[[nodiscard]] inline T load_unaligned(std::span<const std::byte> bytes, std::size_t at) noexcept {
    T value{};
    if (at <= bytes.size() && sizeof(T) <= bytes.size() - at) std::memcpy(&value, bytes.data() + at, sizeof(T));
    return value;
}

} // namespace triage
