// triage/memory/buffer_source.hpp — a memory_source over bytes we hold:
// regions of (address, bytes), for tests, recorded images and fuzzing.
//
// Offers: `buffer_source` with `add_region(address, bytes)` (the bytes are
// borrowed, not copied: keep them alive), the memory_source operations, and
// `view(address, size)`: the held bytes from `address` to the end of their
// region, as a span (no copy).
// Reads never cross from one region into another unless they are adjacent.
// Thread-safe: concurrent reads yes. Signal-safe: reads yes.
// Target process: none.
//
//   std::vector<std::byte> image = ...;
//   triage::memory::buffer_source mem;
//   mem.add_region(0x1000, image);
//   auto v = triage::memory::read_object<std::uint32_t>(mem, 0x1004);
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "triage/memory/memory_source.hpp"

namespace triage::memory {

class buffer_source {
public:
    buffer_source() = default;
    buffer_source(std::uint64_t address, std::span<const std::byte> bytes) { add_region(address, bytes); }

    void add_region(std::uint64_t address, std::span<const std::byte> bytes) {
        region r{address, bytes};
        auto at = std::lower_bound(regions_.begin(), regions_.end(), r,
                                   [](const region& a, const region& b) { return a.address < b.address; });
        regions_.insert(at, r);
    }

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) const {
        std::size_t done = 0;
        while (done < into.size()) {
            const region* r = find(address + done);
            if (r == nullptr) break;
            std::uint64_t offset = address + done - r->address;
            std::size_t n = std::min<std::size_t>(into.size() - done, r->bytes.size() - offset);
            std::memcpy(into.data() + done, r->bytes.data() + offset, n);
            done += n;
        }
        if (done == 0 && !into.empty()) return fail(errc::bad_address, "reading " + hex(address));
        return done;
    }

    // The bytes from `address` to the end of its region (at most `size`),
    // without a copy; empty when no region holds `address`.
    [[nodiscard]] std::span<const std::byte> view(std::uint64_t address, std::uint64_t size) const noexcept {
        const region* r = find(address);
        if (r == nullptr) return {};
        const std::uint64_t offset = address - r->address;
        return r->bytes.subspan(offset, static_cast<std::size_t>(std::min<std::uint64_t>(size, r->bytes.size() - offset)));
    }

    [[nodiscard]] result<void> read_batch(std::span<read_request> requests) const {
        for (auto& request : requests) {
            auto n = read(request.address, request.into);
            request.bytes_read = n ? *n : 0;
        }
        return {};
    }

private:
    struct region {
        std::uint64_t address;
        std::span<const std::byte> bytes;
    };

    [[nodiscard]] const region* find(std::uint64_t address) const {
        auto after = std::upper_bound(regions_.begin(), regions_.end(), address,
                                      [](std::uint64_t a, const region& r) { return a < r.address; });
        if (after == regions_.begin()) return nullptr;
        const region& r = *std::prev(after);
        if (address - r.address >= r.bytes.size()) return nullptr;
        return &r;
    }

    std::vector<region> regions_;
};

static_assert(memory_source<buffer_source>);
static_assert(memory_source<const buffer_source>);

} // namespace triage::memory
