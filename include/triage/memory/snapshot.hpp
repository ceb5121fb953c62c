// triage/memory/snapshot.hpp — a copy of chosen ranges of another
// memory_source, taken in one go and read later: the target needs to be
// stopped only while it is copied, not during the slow work that follows
// (writing a core file, decoding stacks).
//
// Offers:
//  - `snapshot::reserve(bytes)`: an empty snapshot whose storage is
//    allocated and faulted in now, while the target still runs (faulting
//    in fresh pages costs more than the copy itself: 1.2 GiB copies in
//    about 0.3 s into ready pages, 0.9 s into fresh ones).
//  - `take(source, ranges, options)`: copies the ranges into the storage
//    (growing it when the reservation is short; the growth is faulted in
//    during the copy), replacing what the snapshot held.
//  - `snapshot::capture(source, ranges, options)`: reserve nothing, take.
//  - the memory_source operations over what was copied; `captured()`, the
//    bytes held; `view(address, size)`, the held bytes from `address` on
//    as one span, without a copy (at most `size`; empty when `address` is
//    not held; shorter where the copy has a hole or a chunk boundary);
//    `reserved()`, the bytes of storage it holds.
// The copy keeps the source's answers: a byte the source could not read is
// not in the snapshot either (a read of it is bad_address, or a short read),
// so a reader sees the readable prefixes it would have seen at capture time.
// take reads with the source's read_batch, `chunk_bytes` at a time; a range
// that faults part way is retried from the page after the fault, so a hole
// costs a page, not the rest of its range. Between chunks it checks
// `cancel` (a flag a signal handler sets). The storage is one anonymous
// private mapping (MAP_NORESERVE), released with the snapshot.
// Errors: reserve/take: errc::system with ENOMEM when the mapping fails (the
// size is in the context); take: errc::interrupted when `cancel` was set;
// whatever the source's read_batch fails with as a whole (no_such_process:
// the target exited). Reads: as buffer_source.
// Thread-safe: concurrent reads yes. Signal-safe: reads yes.
// Target process: reads it through `source`, once, during take.
//
//   auto copy = TRIAGE_TRY(triage::memory::snapshot::reserve(expected_bytes));  // target running
//   ... stop the target ...
//   TRIAGE_TRY(copy.take(live, ranges));
//   TRIAGE_TRY(session.release());          // the target runs again
//   auto word = TRIAGE_TRY(triage::memory::read_object<std::uint64_t>(copy, address));
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/memory/buffer_source.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::memory {

struct address_range {
    std::uint64_t address = 0;
    std::uint64_t size = 0;
};

struct capture_options {
    std::size_t chunk_bytes = std::size_t{32} << 20;
    const volatile std::sig_atomic_t* cancel = nullptr;  // non-zero: stop with errc::interrupted
};

class snapshot {
public:
    snapshot() = default;
    snapshot(snapshot&& other) noexcept { swap(other); }
    snapshot& operator=(snapshot other) noexcept {
        swap(other);
        return *this;
    }
    snapshot(const snapshot&) = delete;
    ~snapshot() { unmap(); }

    [[nodiscard]] static result<snapshot> reserve(std::uint64_t bytes) {
        snapshot s;
        TRIAGE_TRY(s.grow(bytes));
        // Fault the pages in now. Kernels before 5.14 lack
        // MADV_POPULATE_WRITE: the copy then faults them in itself.
        if (bytes > 0) (void)::madvise(s.storage_, s.storage_size_, MADV_POPULATE_WRITE);
        return s;
    }

    template <memory_source Source>
    [[nodiscard]] static result<snapshot> capture(Source& source, std::span<const address_range> ranges,
                                                  const capture_options& options = {}) {
        snapshot s;
        TRIAGE_TRY(s.take(source, ranges, options));
        return s;
    }

    template <memory_source Source>
    [[nodiscard]] result<void> take(Source& source, std::span<const address_range> ranges,
                                    const capture_options& options = {}) {
        constexpr std::uint64_t page = 4096;
        held_ = buffer_source{};
        captured_ = 0;
        std::uint64_t total = 0;
        for (const auto& r : ranges) total += r.size;
        TRIAGE_TRY(grow(total));

        std::vector<read_request> batch;
        auto flush = [&]() -> result<void> {
            while (!batch.empty()) {
                TRIAGE_TRY(source.read_batch(batch));
                std::vector<read_request> retry;
                for (const auto& r : batch) {
                    if (r.bytes_read > 0) keep(r.address, r.into.first(r.bytes_read));
                    const std::uint64_t resume = (r.bytes_read / page + 1) * page;
                    if (r.bytes_read < r.into.size() && resume < r.into.size())
                        retry.push_back(read_request{r.address + resume, r.into.subspan(resume), 0});
                }
                batch = std::move(retry);
            }
            if (options.cancel != nullptr && *options.cancel != 0)
                return fail(errc::interrupted, "copying target memory", "stopped by a signal");
            return {};
        };
        const std::uint64_t chunk = std::max<std::uint64_t>(options.chunk_bytes, page);
        std::uint64_t used = 0, pending = 0;
        for (const auto& r : ranges) {
            for (std::uint64_t at = 0; at < r.size;) {
                const std::uint64_t n = std::min<std::uint64_t>(r.size - at, chunk - pending);
                batch.push_back(read_request{r.address + at, {storage_ + used, static_cast<std::size_t>(n)}, 0});
                used += n;
                pending += n;
                at += n;
                if (pending == chunk) {
                    TRIAGE_TRY(flush());
                    pending = 0;
                }
            }
        }
        return flush();
    }

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) const {
        return held_.read(address, into);
    }
    [[nodiscard]] result<void> read_batch(std::span<read_request> requests) const { return held_.read_batch(requests); }
    [[nodiscard]] std::span<const std::byte> view(std::uint64_t address, std::uint64_t size) const noexcept {
        return held_.view(address, size);
    }
    [[nodiscard]] std::uint64_t captured() const noexcept { return captured_; }
    [[nodiscard]] std::uint64_t reserved() const noexcept { return storage_size_; }

private:
    void swap(snapshot& other) noexcept {
        std::swap(storage_, other.storage_);
        std::swap(storage_size_, other.storage_size_);
        std::swap(held_, other.held_);
        std::swap(captured_, other.captured_);
    }
    void unmap() noexcept {
        if (storage_ != nullptr) ::munmap(storage_, storage_size_);
        storage_ = nullptr;
        storage_size_ = 0;
    }
    // At least `bytes` of storage; what it held is forgotten (take starts over).
    [[nodiscard]] result<void> grow(std::uint64_t bytes) {
        if (bytes <= storage_size_) return {};
        void* p = storage_ == nullptr
                      ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                      : ::mremap(storage_, storage_size_, bytes, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            return fail_errno(errno, "reserving " + std::to_string(bytes) + " bytes for a copy of target memory");
        storage_ = static_cast<std::byte*>(p);
        storage_size_ = bytes;
        return {};
    }
    void keep(std::uint64_t address, std::span<const std::byte> bytes) {
        held_.add_region(address, bytes);
        captured_ += bytes.size();
    }

    std::byte* storage_ = nullptr;
    std::size_t storage_size_ = 0;
    buffer_source held_;
    std::uint64_t captured_ = 0;
};

static_assert(memory_source<snapshot>);

} // namespace triage::memory
