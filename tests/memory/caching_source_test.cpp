// caching_source over plain buffers: what is cached, what is not, eviction
// order, and how many batches reach the underlying source.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "triage/memory/buffer_source.hpp"
#include "triage/memory/caching_source.hpp"

using namespace triage;
using namespace triage::memory;

namespace {

constexpr std::uint64_t page = 4096;

// A buffer_source that counts the batches and single reads it is asked for.
struct counting_source {
    buffer_source inner;
    std::size_t batches = 0;
    std::size_t ranges = 0;
    std::size_t reads = 0;

    result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) {
        ++reads;
        return inner.read(address, into);
    }
    result<void> read_batch(std::span<read_request> requests) {
        ++batches;
        ranges += requests.size();
        return inner.read_batch(requests);
    }
};
static_assert(memory_source<counting_source>);
static_assert(memory_source<caching_source<counting_source>>);
static_assert(memory_source<caching_source<buffer_source&>>);

std::vector<std::byte> numbered(std::size_t size, unsigned salt) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = std::byte((i * 7 + i / page + salt) & 0xff);
    return bytes;
}

} // namespace

TEST_CASE("a batch over many pages reaches the source as one batch of the missing pages") {
    std::vector<std::byte> image = numbered(16 * page, 0);
    counting_source counted;
    counted.inner.add_region(0x100000, image);
    caching_source<counting_source&> mem{counted, 64};

    std::vector<std::byte> storage(500 * 16);
    std::vector<read_request> batch;
    for (std::size_t i = 0; i < 500; ++i) {
        std::uint64_t offset = (i * 131) % (image.size() - 16);
        batch.push_back(read_request{0x100000 + offset, std::span{storage}.subspan(i * 16, 16), 0});
    }
    REQUIRE(mem.read_batch(batch));
    CHECK(counted.batches == 1);
    CHECK(counted.ranges == 16);  // the 16 distinct pages, once each
    for (std::size_t i = 0; i < batch.size(); ++i) {
        CHECK(batch[i].bytes_read == 16);
        CHECK(std::equal(batch[i].into.begin(), batch[i].into.end(), image.begin() + (batch[i].address - 0x100000)));
    }
    REQUIRE(mem.read_batch(batch));  // all cached now
    CHECK(counted.batches == 1);
    CHECK(mem.statistics().misses == 16);
}

TEST_CASE("a batch needing more pages than the cache holds is served in groups") {
    std::vector<std::byte> image = numbered(40 * page, 1);
    counting_source counted;
    counted.inner.add_region(0x200000, image);
    caching_source<counting_source&> mem{counted, 4};

    std::vector<std::byte> storage(40 * 8);
    std::vector<read_request> batch;
    for (std::size_t p = 0; p < 40; ++p) {
        batch.push_back(read_request{0x200000 + p * page + 100, std::span{storage}.subspan(p * 8, 8), 0});
    }
    REQUIRE(mem.read_batch(batch));
    CHECK(counted.batches == 10);  // 4 pages per group
    CHECK(mem.cached_pages() == 4);
    for (std::size_t p = 0; p < 40; ++p) {
        CHECK(batch[p].bytes_read == 8);
        CHECK(std::equal(batch[p].into.begin(), batch[p].into.end(), image.begin() + p * page + 100));
    }
}

TEST_CASE("a partly readable page is never cached as readable") {
    // A region that starts and ends in the middle of pages.
    std::vector<std::byte> image = numbered(2 * page, 2);
    counting_source counted;
    counted.inner.add_region(0x300800, image);  // [0x300800, 0x302800)
    caching_source<counting_source&> mem{counted, 16};

    std::vector<std::byte> bytes(page);
    auto n = mem.read(0x302800 - 100, bytes);  // runs off the end
    REQUIRE(n);
    CHECK(*n == 100);
    CHECK(std::equal(bytes.begin(), bytes.begin() + 100, image.end() - 100));
    CHECK(mem.cached_pages() == 0);  // page 0x302000 is only partly readable

    n = mem.read(0x300800, bytes);  // starts mid-page: readable although its page start is not
    REQUIRE(n);
    CHECK(*n == page);
    CHECK(std::equal(bytes.begin(), bytes.end(), image.begin()));

    REQUIRE(mem.read(0x301000, std::span{bytes}.first(16)));  // the one whole page
    CHECK(mem.cached_pages() == 1);

    auto outside = mem.read(0x300000, std::span{bytes}.first(16));
    REQUIRE_FALSE(outside);
    CHECK(outside.error().code == errc::bad_address);
    CHECK(outside.error().context.find("0x300000") != std::string::npos);

    std::array<std::byte, 64> a{}, b{};
    std::array<read_request, 2> batch{read_request{0x3027f0, a}, read_request{0x300000, b}};
    REQUIRE(mem.read_batch(batch));
    CHECK(batch[0].bytes_read == 16);
    CHECK(batch[1].bytes_read == 0);
}

TEST_CASE("the least recently used page is evicted, and invalidate drops all") {
    std::vector<std::byte> image = numbered(3 * page, 3);
    buffer_source source{0x400000, image};
    caching_source<buffer_source&> mem{source, 2};
    auto first_byte = [&](std::uint64_t p) { return read_object<std::uint8_t>(mem, 0x400000 + p * page).value(); };

    std::uint8_t p0 = first_byte(0);
    std::uint8_t p1 = first_byte(1);
    CHECK(first_byte(0) == p0);  // page 0 is now the most recently used
    first_byte(2);               // evicts page 1
    CHECK(mem.cached_pages() == 2);

    // Change the bytes behind the cache: cached pages keep the old ones.
    for (std::size_t p = 0; p < 3; ++p) image[p * page] = std::byte(0xee);
    CHECK(first_byte(0) == p0);
    CHECK(first_byte(1) == 0xee);  // was evicted, fetched again
    CHECK(p1 != 0xee);

    mem.invalidate();
    CHECK(mem.cached_pages() == 0);
    CHECK(first_byte(0) == 0xee);
}

TEST_CASE("reads larger than the cache go to the source directly") {
    std::vector<std::byte> image = numbered(8 * page, 4);
    counting_source counted;
    counted.inner.add_region(0x500000, image);
    caching_source<counting_source&> mem{counted, 2};
    std::vector<std::byte> bytes(5 * page);
    REQUIRE(read_exact(mem, 0x500010, bytes));
    CHECK(std::equal(bytes.begin(), bytes.end(), image.begin() + 0x10));
    CHECK(mem.cached_pages() == 0);
    CHECK(mem.statistics().bypassed == 1);
}
