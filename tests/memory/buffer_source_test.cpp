#include <doctest/doctest.h>

#include <array>
#include <numeric>

#include "triage/memory/buffer_source.hpp"

using namespace triage;
using namespace triage::memory;

TEST_CASE("buffer_source reads within, across adjacent, and not beyond its regions") {
    std::array<std::byte, 16> a{}, b{};
    for (std::size_t i = 0; i < 16; ++i) {
        a[i] = std::byte(i);
        b[i] = std::byte(0x10 + i);
    }
    buffer_source mem;
    mem.add_region(0x1010, b);
    mem.add_region(0x1000, a);

    CHECK(read_object<std::uint8_t>(mem, 0x1003).value() == 3);
    std::array<std::byte, 8> across{};
    REQUIRE(read_exact(mem, 0x100c, across));
    CHECK(across[0] == std::byte(0x0c));
    CHECK(across[7] == std::byte(0x13));

    std::array<std::byte, 8> tail{};
    CHECK(mem.read(0x101c, tail).value() == 4);  // partial: the region ends
    auto exact = read_exact(mem, 0x101c, tail);
    REQUIRE_FALSE(exact);
    CHECK(exact.error().code == errc::bad_address);
    CHECK(exact.error().context.find("0x101c") != std::string::npos);

    auto unmapped = read_object<std::uint32_t>(mem, 0x2000);
    REQUIRE_FALSE(unmapped);
    CHECK(unmapped.error().message() == "unreadable address reading 0x2000");

    std::array<std::byte, 4> r1{}, r2{};
    std::array<read_request, 2> batch{read_request{0x1001, r1}, read_request{0x9000, r2}};
    REQUIRE(mem.read_batch(batch));
    CHECK(batch[0].bytes_read == 4);
    CHECK(r1[0] == std::byte(1));
    CHECK(batch[1].bytes_read == 0);
}
