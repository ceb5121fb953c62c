// triage/memory/snapshot.hpp — a copy of chosen ranges of another
// memory_source, taken in one go and read later: the target needs to be
// stopped only while it is copied, not during the slow work that follows
// (writing a core file, decoding stacks).
//
// Offers: `snapshot::capture(source, ranges, options)` → result<snapshot>,
// and the memory_source operations over what was copied. `captured()`: the
// bytes held. The copy keeps the source's answers: a byte the source could
// not read is not in the snapshot either (a read of it is bad_address, or a
// short read), so a reader sees the same readable prefixes as it would have
// seen at capture time.
// Capture reads with the source's read_batch, `chunk_bytes` at a time; a
// range that faults part way is retried from the page after the fault, so a
// hole costs a page, not the rest of its range. Between chunks it checks
// `cancel` (a flag a signal handler sets). The bytes live in one anonymous
// private mapping (MAP_NORESERVE, transparent huge pages requested),
// released with the snapshot; its pages are allocated as the copy fills
// them.
// Errors: capture: errc::interrupted when `cancel` was set; errc::system
// with ENOMEM when the mapping fails (the size is in the context); whatever the source's read_batch
// fails with as a whole (no_such_process: the target exited). Reads: as
// buffer_source.
// Thread-safe: concurrent reads yes. Signal-safe: reads yes.
// Target process: reads it through `source`, once, during capture.
//
//   auto copy = TRIAGE_TRY(triage::memory::snapshot::capture(live, ranges));
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
    ~snapshot() {
        if (storage_ != nullptr) ::munmap(storage_, storage_size_);
    }

    template <memory_source Source>
    [[nodiscard]] static result<snapshot> capture(Source& source, std::span<const address_range> ranges,
                                                  const capture_options& options = {}) {
        constexpr std::uint64_t page = 4096;
        snapshot s;
        std::uint64_t total = 0;
        for (const auto& r : ranges) total += r.size;
        if (total == 0) return s;
        void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return fail_errno(errno, "reserving " + std::to_string(total) + " bytes for a copy of target memory");
        s.storage_ = static_cast<std::byte*>(p);
        s.storage_size_ = total;
        // Huge pages where the kernel offers them on request: 512x fewer
        // faults while the copy fills the storage (and the target waits).
        (void)::madvise(p, total, MADV_HUGEPAGE);

        std::vector<read_request> batch;
        auto flush = [&]() -> result<void> {
            while (!batch.empty()) {
                TRIAGE_TRY(source.read_batch(batch));
                std::vector<read_request> retry;
                for (const auto& r : batch) {
                    if (r.bytes_read > 0) s.keep(r.address, r.into.first(r.bytes_read));
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
                batch.push_back(read_request{r.address + at, {s.storage_ + used, static_cast<std::size_t>(n)}, 0});
                used += n;
                pending += n;
                at += n;
                if (pending == chunk) {
                    TRIAGE_TRY(flush());
                    pending = 0;
                }
            }
        }
        TRIAGE_TRY(flush());
        return s;
    }

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) const {
        return held_.read(address, into);
    }
    [[nodiscard]] result<void> read_batch(std::span<read_request> requests) const { return held_.read_batch(requests); }
    [[nodiscard]] std::uint64_t captured() const noexcept { return captured_; }

private:
    void swap(snapshot& other) noexcept {
        std::swap(storage_, other.storage_);
        std::swap(storage_size_, other.storage_size_);
        std::swap(held_, other.held_);
        std::swap(captured_, other.captured_);
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
