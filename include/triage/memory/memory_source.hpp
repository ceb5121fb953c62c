// triage/memory/memory_source.hpp — the concept every reader of target memory
// models (live process, core file, plain buffer, caching adapter).
//
// Offers:
//  - `read_request`: one range of a batched read, with its outcome.
//  - `memory_source<M>`: M has
//       result<std::size_t> read(std::uint64_t address, std::span<std::byte> into)
//         a partial read: the bytes copied from `address` onward (fewer than
//         asked when the range runs into unreadable memory; an error when not
//         even the first byte is readable: errc::bad_address, address in the
//         context);
//       result<void> read_batch(std::span<read_request> requests)
//         fills every request's `bytes_read` (0 for an unreadable one); errors
//         only when the whole source failed (the process is gone).
//  - `read_exact(m, address, into)`: all bytes or errc::bad_address/truncated.
//  - `read_object<T>(m, address)`: a trivially copyable T, read exactly.
// Thread-safe and signal-safe: as the model is. Target process: reads only.
//
//   static_assert(triage::memory::memory_source<triage::memory::buffer_source>);
//   auto word = TRIAGE_TRY(triage::memory::read_object<std::uint64_t>(mem, addr));
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "triage/base/result.hpp"
#include "triage/base/text.hpp"

namespace triage::memory {

struct read_request {
    std::uint64_t address = 0;
    std::span<std::byte> into;
    std::size_t bytes_read = 0;  // set by read_batch
};

template <class M>
concept memory_source = requires(M& m, std::uint64_t address, std::span<std::byte> into,
                                 std::span<read_request> requests) {
    { m.read(address, into) } -> std::same_as<result<std::size_t>>;
    { m.read_batch(requests) } -> std::same_as<result<void>>;
};

template <memory_source M>
[[nodiscard]] result<void> read_exact(M& m, std::uint64_t address, std::span<std::byte> into) {
    std::size_t n = TRIAGE_TRY(m.read(address, into));
    if (n != into.size()) {
        return fail(errc::bad_address, "reading " + std::to_string(into.size()) + " bytes at " +
                                           hex(address) + " (only " + std::to_string(n) +
                                           " readable)");
    }
    return {};
}

template <class T, memory_source M>
    requires std::is_trivially_copyable_v<T>
[[nodiscard]] result<T> read_object(M& m, std::uint64_t address) {
    T value;
    TRIAGE_TRY(read_exact(m, address, std::as_writable_bytes(std::span{&value, 1})));
    return value;
}

} // namespace triage::memory
