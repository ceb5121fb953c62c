// triage/memory/caching_source.hpp — a page cache in front of any
// memory_source; itself a memory_source.
//
// Offers: `caching_source<M>(source, max_pages)`: reads are served from
// 4 KiB pages kept in a bounded LRU cache (at most `max_pages` pages,
// max_pages * 4 KiB of memory); the pages a read or a whole batch is missing
// are fetched with ONE read_batch of the underlying source. Only pages that
// were read in full are cached: a partly or wholly unreadable page is never
// cached, and reads that touch one are completed by the underlying source
// itself (so readable prefixes and errors are the source's own). A request
// larger than the cache goes straight to the source. `invalidate()` drops
// every page (call it after the target ran on, or memory may be stale).
// `statistics()` counts page hits and misses. `source()` is the wrapped source.
// M may be a reference type (`caching_source<live_process&>`) to share a
// source. Errors: as the source's (bad_address, no_such_process, ...).
// Thread-safe: no (the cache is mutable state); use one per thread.
// Signal-safe: no (allocates).
// Target process: what the source does (reads only), but fewer times.
//
//   auto live = TRIAGE_TRY(triage::memory::live_process::open(pid));
//   triage::memory::caching_source mem{std::move(live), 512};
//   auto a = TRIAGE_TRY(triage::memory::read_object<std::uint64_t>(mem, addr));      // fetches the page
//   auto b = TRIAGE_TRY(triage::memory::read_object<std::uint64_t>(mem, addr + 8));  // from the cache
//   mem.invalidate();
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <list>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::memory {

template <memory_source M>
class caching_source {
public:
    static constexpr std::size_t page_size = 4096;

    struct cache_statistics {
        std::size_t hits = 0;      // pages served from the cache
        std::size_t misses = 0;    // pages fetched from the source
        std::size_t bypassed = 0;  // requests (or their tails) read by the source directly
    };

    explicit caching_source(M source, std::size_t max_pages = 1024)
        : source_(std::forward<M>(source)), max_pages_{std::max<std::size_t>(max_pages, 1)} {}

    caching_source(caching_source&&) noexcept = default;
    caching_source& operator=(caching_source&&) noexcept = default;
    caching_source(const caching_source&) = delete;  // the index points into the page list
    caching_source& operator=(const caching_source&) = delete;

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) {
        read_request request{address, into, 0};
        TRIAGE_TRY(read_batch(std::span{&request, 1}));
        if (request.bytes_read == 0 && !into.empty()) {
            return source_.read(address, into);  // the source's own error (or the bytes, if mapped since)
        }
        return request.bytes_read;
    }

    [[nodiscard]] result<void> read_batch(std::span<read_request> requests) {
        std::vector<read_request> direct;     // read by the source itself, in one batch at the end
        std::vector<std::size_t> direct_for;  // which request each direct read completes
        std::size_t next = 0;
        // Each group settles at least one request.
        while (next < requests.size()) {
            group g = plan_group(requests, next, direct, direct_for);
            TRIAGE_TRY(fetch(g));
            serve(requests.subspan(next, g.end - next), next, g, direct, direct_for);
            keep(g);
            next = g.end;
        }
        if (!direct.empty()) {
            TRIAGE_TRY(source_.read_batch(direct));
            stats_.bypassed += direct.size();
            for (std::size_t k = 0; k < direct.size(); ++k) requests[direct_for[k]].bytes_read += direct[k].bytes_read;
        }
        return {};
    }

    void invalidate() noexcept {
        index_.clear();
        pages_.clear();
    }

    [[nodiscard]] M& source() noexcept { return source_; }
    [[nodiscard]] std::size_t max_pages() const noexcept { return max_pages_; }
    [[nodiscard]] std::size_t cached_pages() const noexcept { return pages_.size(); }
    [[nodiscard]] cache_statistics statistics() const noexcept { return stats_; }

private:
    struct page {
        std::uint64_t address;
        std::array<std::byte, page_size> bytes;
    };
    using page_list = std::list<page>;  // most recently used first

    // Requests [begin, end) whose missing pages (sorted, unique) fit in one fetch.
    struct group {
        std::size_t end = 0;
        std::vector<std::uint64_t> missing;
        std::vector<std::byte> fetched;  // missing.size() pages
        std::vector<std::size_t> fetched_bytes;
    };

    [[nodiscard]] static std::uint64_t page_of(std::uint64_t address) noexcept { return address & ~(page_size - 1); }

    // Pages a request touches, or 0 when it wraps around the address space.
    [[nodiscard]] static std::size_t pages_spanned(const read_request& r) noexcept {
        std::uint64_t last = r.address + (r.into.size() - 1);
        if (last < r.address) return 0;
        return static_cast<std::size_t>((page_of(last) - page_of(r.address)) / page_size + 1);
    }

    group plan_group(std::span<read_request> requests, std::size_t begin, std::vector<read_request>& direct,
                     std::vector<std::size_t>& direct_for) {
        group g;
        std::unordered_set<std::uint64_t> planned;
        std::size_t i = begin;
        for (; i < requests.size(); ++i) {
            read_request& r = requests[i];
            r.bytes_read = 0;
            if (r.into.empty()) continue;
            std::size_t spanned = pages_spanned(r);
            if (spanned == 0 || spanned > max_pages_) {  // larger than the cache: not cached
                direct.push_back(read_request{r.address, r.into, 0});
                direct_for.push_back(i);
                continue;
            }
            std::size_t before = g.missing.size();
            for (std::uint64_t p = page_of(r.address), k = 0; k < spanned; ++k, p += page_size) {
                if (!index_.contains(p) && planned.insert(p).second) g.missing.push_back(p);
            }
            if (g.missing.size() > max_pages_ && i > begin) {  // serve the group so far first
                g.missing.resize(before);
                break;
            }
        }
        std::sort(g.missing.begin(), g.missing.end());
        g.end = i;
        return g;
    }

    // One read_batch of the source for every missing page of the group.
    result<void> fetch(group& g) {
        if (g.missing.empty()) return {};
        g.fetched.resize(g.missing.size() * page_size);
        std::vector<read_request> reads(g.missing.size());
        for (std::size_t k = 0; k < g.missing.size(); ++k) {
            reads[k] = read_request{g.missing[k], std::span{g.fetched}.subspan(k * page_size, page_size), 0};
        }
        TRIAGE_TRY(source_.read_batch(reads));
        stats_.misses += reads.size();
        g.fetched_bytes.resize(reads.size());
        for (std::size_t k = 0; k < reads.size(); ++k) g.fetched_bytes[k] = reads[k].bytes_read;
        return {};
    }

    // The bytes of a fully readable page: cached or fetched by this group.
    const std::byte* full_page(const group& g, std::uint64_t p) {
        auto at = std::lower_bound(g.missing.begin(), g.missing.end(), p);
        if (at != g.missing.end() && *at == p) {
            auto k = static_cast<std::size_t>(at - g.missing.begin());
            return g.fetched_bytes[k] == page_size ? g.fetched.data() + k * page_size : nullptr;
        }
        auto hit = index_.find(p);
        if (hit == index_.end()) return nullptr;
        pages_.splice(pages_.begin(), pages_, hit->second);
        ++stats_.hits;
        return hit->second->bytes.data();
    }

    void serve(std::span<read_request> requests, std::size_t first, const group& g,
               std::vector<read_request>& direct, std::vector<std::size_t>& direct_for) {
        for (std::size_t i = 0; i < requests.size(); ++i) {
            read_request& r = requests[i];
            std::size_t spanned = r.into.empty() ? 0 : pages_spanned(r);
            if (spanned == 0 || spanned > max_pages_) continue;  // planned as a direct read
            std::size_t done = 0;
            while (done < r.into.size()) {
                std::uint64_t at = r.address + done;
                const std::byte* bytes = full_page(g, page_of(at));
                if (bytes == nullptr) {  // not fully readable: let the source find the prefix
                    direct.push_back(read_request{at, r.into.subspan(done), 0});
                    direct_for.push_back(first + i);
                    break;
                }
                std::size_t offset = at - page_of(at);
                std::size_t n = std::min(r.into.size() - done, page_size - offset);
                std::memcpy(r.into.data() + done, bytes + offset, n);
                done += n;
            }
            r.bytes_read = done;
        }
    }

    // Caches the group's fully read pages, evicting the least recently used.
    void keep(const group& g) {
        for (std::size_t k = 0; k < g.missing.size(); ++k) {
            if (g.fetched_bytes[k] != page_size) continue;
            if (pages_.size() >= max_pages_) {
                index_.erase(pages_.back().address);
                pages_.splice(pages_.begin(), pages_, std::prev(pages_.end()));  // reuse the node
            } else {
                pages_.emplace_front();
            }
            page& slot = pages_.front();
            slot.address = g.missing[k];
            std::memcpy(slot.bytes.data(), g.fetched.data() + k * page_size, page_size);
            index_[slot.address] = pages_.begin();
        }
    }

    M source_;
    std::size_t max_pages_;
    page_list pages_;
    std::unordered_map<std::uint64_t, typename page_list::iterator> index_;
    cache_statistics stats_;
};

} // namespace triage::memory
