// memory::snapshot: what it copies, what it leaves out (the source's holes),
// that it is a copy (the source changes, the snapshot does not), and its
// errors (a cancelled capture, a source that fails as a whole).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <vector>

#include "triage/memory/buffer_source.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/memory/snapshot.hpp"

using namespace triage;
using namespace triage::memory;

namespace {

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
    std::vector<std::byte> out(size);
    for (std::size_t i = 0; i < size; ++i) out[i] = std::byte((i * 7 + seed) & 0xff);
    return out;
}

// A source that counts its batched calls and can fail as a whole.
struct failing_source {
    buffer_source inner;
    int batches = 0;
    bool gone = false;
    result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) { return inner.read(address, into); }
    result<void> read_batch(std::span<read_request> requests) {
        ++batches;
        if (gone) return fail(errc::no_such_process, "reading process 12");
        return inner.read_batch(requests);
    }
};

} // namespace

TEST_CASE("a snapshot holds what the source could read, page by page around its holes") {
    // Readable: [0x10000, 0x12000) and [0x13000, 0x15000); a one-page hole between.
    const auto low = pattern(0x2000, 1), high = pattern(0x2000, 2);
    failing_source source;
    source.inner.add_region(0x10000, low);
    source.inner.add_region(0x13000, high);
    const std::array ranges{address_range{0x10000, 0x5000}, address_range{0x20000, 0x1000}};
    auto copy = snapshot::capture(source, ranges, capture_options{0x2000, nullptr});
    REQUIRE(copy);
    CHECK(copy->captured() == 0x4000);
    CHECK(source.batches > 1);  // 0x6000 bytes in chunks of 0x2000, plus the retries after the hole

    std::vector<std::byte> got(0x2000);
    REQUIRE(read_exact(*copy, 0x10000, got));
    CHECK(got == low);
    REQUIRE(read_exact(*copy, 0x13000, got));
    CHECK(got == high);
    // The hole and the unmapped range are holes in the copy too.
    std::vector<std::byte> across(0x3000);
    CHECK(copy->read(0x10000, across).value() == 0x2000);
    auto hole = read_object<std::uint32_t>(*copy, 0x12010);
    REQUIRE_FALSE(hole);
    CHECK(hole.error().code == errc::bad_address);
    CHECK_FALSE(read_object<std::uint8_t>(*copy, 0x20000));
}

TEST_CASE("a snapshot of a live process keeps the bytes of the moment it was taken") {
    std::vector<std::byte> buffer = pattern(3 * 4096 + 100, 5);
    const auto before = buffer;
    auto self = live_process::open(::getpid());
    REQUIRE(self);
    const std::array ranges{address_range{reinterpret_cast<std::uint64_t>(buffer.data()), buffer.size()}};
    auto copy = snapshot::capture(*self, ranges);
    REQUIRE(copy);
    CHECK(copy->captured() == buffer.size());
    for (auto& b : buffer) b = std::byte{0};
    std::vector<std::byte> got(before.size());
    REQUIRE(read_exact(*copy, ranges[0].address, got));
    CHECK(got == before);
}

TEST_CASE("a capture stops on the cancel flag and on a source that fails as a whole") {
    const auto bytes = pattern(0x4000, 3);
    failing_source source;
    source.inner.add_region(0x10000, bytes);
    const std::array ranges{address_range{0x10000, 0x4000}};

    volatile std::sig_atomic_t cancel = 1;
    auto cancelled = snapshot::capture(source, ranges, capture_options{0x1000, &cancel});
    REQUIRE_FALSE(cancelled);
    CHECK(cancelled.error().code == errc::interrupted);
    CHECK(source.batches == 1);  // stopped after the first chunk

    source.gone = true;
    auto gone = snapshot::capture(source, ranges);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == errc::no_such_process);

    auto empty = snapshot::capture(source, std::span<const address_range>{});
    REQUIRE(empty);
    CHECK(empty->captured() == 0);
}

TEST_CASE("a reserved snapshot takes more than it reserved, and hands out what it holds without a copy") {
    const auto low = pattern(0x3000, 4), high = pattern(0x1000, 6);
    buffer_source source;
    source.add_region(0x40000, low);
    source.add_region(0x50000, high);
    auto copy = snapshot::reserve(0x1000);  // short: take grows it
    REQUIRE(copy);
    const std::array ranges{address_range{0x40000, 0x3000}, address_range{0x50000, 0x1000}};
    CHECK(copy->reserved() == 0x1000);
    REQUIRE(copy->take(source, ranges, capture_options{0x2000, nullptr}));
    CHECK(copy->captured() == 0x4000);
    CHECK(copy->reserved() == 0x4000);

    // The first range was taken in two chunks: two views.
    auto first = copy->view(0x40000, 0x3000);
    CHECK(first.size() == 0x2000);
    CHECK(std::equal(first.begin(), first.end(), low.begin()));
    auto second = copy->view(0x42000, 0x3000);
    CHECK(second.size() == 0x1000);
    CHECK(std::equal(second.begin(), second.end(), low.begin() + 0x2000));
    CHECK(copy->view(0x50010, 8).size() == 8);
    CHECK(copy->view(0x50010, 8)[0] == high[0x10]);
    CHECK(copy->view(0x43000, 8).empty());

    // Taking again starts over.
    const std::array only_high{address_range{0x50000, 0x1000}};
    REQUIRE(copy->take(source, only_high));
    CHECK(copy->captured() == 0x1000);
    CHECK(copy->view(0x40000, 8).empty());
}
