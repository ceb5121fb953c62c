// live_process, proc_mem and caching_source against a real process
// (tests/victims/memory_pattern.c) whose buffers hold known bytes.
#include <doctest/doctest.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/victim.hpp"
#include "triage/memory/caching_source.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/procfs/maps.hpp"

using namespace triage;
using namespace triage::memory;

namespace {

// One buffer tests/victims/memory_pattern.c announces:
// "<name> <hex address> <size> <seed>".
struct victim_buffer {
    std::uint64_t address = 0;
    std::size_t size = 0;
    unsigned seed = 0;
};

victim_buffer buffer_of(const test_support::victim& v, std::string_view name) {
    return {v.address(name), static_cast<std::size_t>(v.number(name, 1)), static_cast<unsigned>(v.number(name, 2))};
}

// The victim's byte formula (tests/victims/memory_pattern.c).
std::byte pattern_byte(std::uint64_t i, unsigned seed) {
    return std::byte((i * 131u + (i >> 8) * 7u + seed * 29u) & 0xffu);
}

constexpr std::uint64_t page_size = 4096;
constexpr std::uint64_t wild_address = 0xdeadbeef000;  // checked against /proc/PID/maps below

// The victim's bytes [offset, offset + n) of buffer b.
bool matches(std::span<const std::byte> got, const victim_buffer& b, std::uint64_t offset) {
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i] != pattern_byte(offset + i, b.seed)) return false;
    }
    return true;
}

void check_bad_address(const result<std::size_t>& r, std::uint64_t address, pid_t pid) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::bad_address);
    INFO(r.error().message());
    CHECK(r.error().context.find(hex(address)) != std::string::npos);
    CHECK(r.error().context.find(std::to_string(pid)) != std::string::npos);
}

bool mapped(pid_t pid, std::uint64_t address) {
    auto maps = procfs::read_maps(pid);
    REQUIRE(maps);
    for (const auto& m : *maps) {
        if (m.contains(address)) return true;
    }
    return false;
}

// Everything a user checks by eye, through any source over the victim.
// `reads_prot_none`: /proc/PID/mem reads through page protections (the kernel
// uses FOLL_FORCE, as for a debugger), so the guard page is readable there and
// holds the victim's pattern; process_vm_readv honours PROT_NONE.
template <memory_source M>
void check_reads_of_victim(M& mem, const test_support::victim& victim, bool reads_prot_none) {
    const victim_buffer small = buffer_of(victim, "small");
    const victim_buffer heap = buffer_of(victim, "heap");
    const victim_buffer guarded = buffer_of(victim, "guarded");
    const victim_buffer guard = buffer_of(victim, "guard");
    const victim_buffer hole = buffer_of(victim, "hole");
    pid_t pid = victim.pid();
    REQUIRE(guard.address == guarded.address + guarded.size);
    REQUIRE(hole.address == guard.address + page_size);
    REQUIRE_FALSE(mapped(pid, wild_address));
    REQUIRE_FALSE(mapped(pid, hole.address));

    SUBCASE("single reads, read_exact and read_object return the known bytes") {
        std::vector<std::byte> bytes(small.size);
        auto n = mem.read(small.address, bytes);
        REQUIRE(n);
        CHECK(*n == small.size);
        CHECK(matches(bytes, small, 0));

        std::vector<std::byte> block(20000);  // crosses several pages
        REQUIRE(read_exact(mem, heap.address + 100001, block));
        CHECK(matches(block, heap, 100001));

        auto word = read_object<std::uint32_t>(mem, heap.address + 12345);
        REQUIRE(word);
        std::uint32_t expected = 0;
        for (int i = 3; i >= 0; --i) expected = expected << 8 | std::to_integer<std::uint32_t>(pattern_byte(12345 + i, heap.seed));
        CHECK(*word == expected);
    }

    SUBCASE("a batch of 10,000 small ranges returns the known bytes of each") {
        std::mt19937_64 random{42};
        std::vector<std::byte> storage(10000 * 64);
        std::vector<read_request> batch;
        std::vector<std::uint64_t> offsets;
        for (std::size_t i = 0; i < 10000; ++i) {
            std::size_t size = 1 + random() % 64;
            std::uint64_t offset = random() % (heap.size - size);
            offsets.push_back(offset);
            batch.push_back(read_request{heap.address + offset, std::span{storage}.subspan(i * 64, size), 999});
        }
        REQUIRE(mem.read_batch(batch));
        std::size_t correct = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            correct += batch[i].bytes_read == batch[i].into.size() && matches(batch[i].into, heap, offsets[i]);
        }
        CHECK(correct == batch.size());
    }

    SUBCASE("a batch mixing readable and unreadable ranges") {
        // {address, size, readable prefix, buffer of the prefix, offset in it}
        struct range {
            std::uint64_t address;
            std::size_t size;
            std::size_t readable;
            const victim_buffer* in;
            std::uint64_t offset;
        };
        std::vector<range> ranges;
        std::size_t through = reads_prot_none ? 1 : 0;
        for (std::uint64_t k = 0; k < 3500; ++k) {
            switch (k % 7) {
            case 0: ranges.push_back({heap.address + k * 97, 48, 48, &heap, k * 97}); break;
            case 1: ranges.push_back({guard.address + k % 4000, 8, 8 * through, &guarded, guarded.size + k % 4000}); break;
            case 2: ranges.push_back({small.address + k % 32, 32, 32, &small, k % 32}); break;
            case 3: ranges.push_back({hole.address + k % 4000, 16, 0, nullptr, 0}); break;
            case 4: ranges.push_back({guard.address - 10, 40, 10 + 30 * through, &guarded, guarded.size - 10}); break;
            case 5: ranges.push_back({hole.address - 10, 40, 10 * through, &guarded, guarded.size + page_size - 10}); break;
            default: ranges.push_back({k % 2 ? wild_address : 0, 8, 0, nullptr, 0}); break;
            }
        }
        std::vector<std::byte> storage(ranges.size() * 64);
        std::vector<read_request> batch;
        for (std::size_t i = 0; i < ranges.size(); ++i) {
            batch.push_back(read_request{ranges[i].address, std::span{storage}.subspan(i * 64, ranges[i].size), 999});
        }
        REQUIRE(mem.read_batch(batch));
        std::size_t correct = 0;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const range& r = ranges[i];
            bool ok = batch[i].bytes_read == r.readable &&
                      (r.in == nullptr || matches(batch[i].into.first(r.readable), *r.in, r.offset));
            if (!ok) INFO("range " << i << " at " << hex(r.address) << " read " << batch[i].bytes_read);
            correct += ok;
        }
        CHECK(correct == batch.size());
    }

    SUBCASE("neighbouring ranges around unreadable pages, unsorted, overlapping and repeated") {
        // guarded (3 pages) | guard (PROT_NONE) | hole (unmapped) | after:
        // ranges close enough to be merged into one remote range, with
        // readable ones after the fault.
        const victim_buffer after = buffer_of(victim, "after");
        REQUIRE(after.address == hole.address + page_size);
        struct readable_span {
            std::uint64_t start, end;
            const victim_buffer* in;
        };
        std::vector<readable_span> readable{{guarded.address, guard.address, &guarded}, {after.address, after.address + page_size, &after}};
        if (reads_prot_none) readable[0].end = hole.address;
        auto expected_prefix = [&](std::uint64_t address, std::size_t size) -> std::pair<std::size_t, const readable_span*> {
            for (const readable_span& s : readable) {
                if (address >= s.start && address < s.end) return {std::min<std::uint64_t>(size, s.end - address), &s};
            }
            return {0, nullptr};
        };
        std::vector<std::pair<std::uint64_t, std::size_t>> wanted{
            {after.address + 100, 8}, {guard.address - 8, 16},  {guarded.address + 2 * page_size + 5, 64},
            {hole.address + 8, 8},    {after.address, 32},      {guard.address + 100, 8},
            {after.address + 4, 60},  {guard.address - 8, 16},  {after.address + page_size - 40, 32},
            {after.address + 100, 8}, {guard.address - 4096, 8192},
        };
        std::vector<std::byte> storage(wanted.size() * 8192);
        std::vector<read_request> batch;
        for (std::size_t i = 0; i < wanted.size(); ++i) {
            batch.push_back(read_request{wanted[i].first, std::span{storage}.subspan(i * 8192, wanted[i].second), 999});
        }
        REQUIRE(mem.read_batch(batch));
        for (std::size_t i = 0; i < batch.size(); ++i) {
            CAPTURE(i);
            CAPTURE(hex(batch[i].address));
            auto [prefix, span] = expected_prefix(batch[i].address, batch[i].into.size());
            CHECK(batch[i].bytes_read == prefix);
            if (span != nullptr && batch[i].bytes_read == prefix) {
                CHECK(matches(batch[i].into.first(prefix), *span->in, batch[i].address - span->start));
            }
        }
    }

    SUBCASE("a read running into unreadable memory returns the readable prefix") {
        std::uint64_t edge = reads_prot_none ? hole.address : guard.address;
        std::vector<std::byte> bytes(300);
        auto n = mem.read(edge - 100, bytes);
        REQUIRE(n);
        CHECK(*n == 100);
        CHECK(matches(std::span{bytes}.first(100), guarded, edge - guarded.address - 100));

        auto exact = read_exact(mem, edge - 100, bytes);
        REQUIRE_FALSE(exact);
        CHECK(exact.error().code == errc::bad_address);

        std::vector<std::byte> guard_page(page_size);
        auto through_guard = mem.read(guard.address, guard_page);
        CHECK(through_guard.has_value() == reads_prot_none);
        if (reads_prot_none) CHECK(matches(guard_page, guarded, guarded.size));
    }

    SUBCASE("reads of unmapped addresses fail with the address and the pid") {
        std::array<std::byte, 8> bytes{};
        std::vector<std::uint64_t> unreadable{0, wild_address, hole.address, hole.address + 123};
        if (!reads_prot_none) unreadable.push_back(guard.address);
        for (std::uint64_t address : unreadable) {
            CAPTURE(hex(address));
            check_bad_address(mem.read(address, bytes), address, pid);
            auto object = read_object<std::uint64_t>(mem, address);
            REQUIRE_FALSE(object);
            CHECK(object.error().code == errc::bad_address);
        }
        // Beyond the user address space (and beyond pread's signed offsets).
        check_bad_address(mem.read(0xffff'8000'0000'0000, bytes), 0xffff'8000'0000'0000, pid);
    }

    CHECK(victim.running());
}

std::string memory_pattern() { return test_support::victim_path("memory_pattern"); }

} // namespace

TEST_CASE("live_process with process_vm_readv reads the victim's known bytes") {
    test_support::victim v{{memory_pattern()}};
    auto mem = live_process::open(v.pid(), access_method::vm_readv);
    REQUIRE(mem);
    CHECK(mem->pid() == v.pid());
    CHECK(mem->method() == access_method::vm_readv);
    check_reads_of_victim(*mem, v, false);
}

TEST_CASE("live_process through /proc/PID/mem reads the victim's known bytes") {
    test_support::victim v{{memory_pattern()}};
    auto mem = live_process::open(v.pid(), access_method::proc_mem);
    REQUIRE(mem);
    CHECK(mem->method() == access_method::proc_mem);
    check_reads_of_victim(*mem, v, true);
}

TEST_CASE("proc_mem on its own reads the victim's known bytes") {
    test_support::victim v{{memory_pattern()}};
    auto mem = proc_mem::open(v.pid());
    REQUIRE(mem);
    CHECK(mem->pid() == v.pid());
    check_reads_of_victim(*mem, v, true);
}

TEST_CASE("automatic access uses process_vm_readv when it is allowed") {
    test_support::victim v{{memory_pattern()}};
    auto mem = live_process::open(v.pid());
    REQUIRE(mem);
    CHECK(mem->method() == access_method::vm_readv);
}

TEST_CASE("caching_source over a live process reads the victim's known bytes") {
    test_support::victim v{{memory_pattern()}};
    auto live = live_process::open(v.pid());
    REQUIRE(live);
    SUBCASE("a cache larger than every read") {
        caching_source mem{std::move(*live), 512};
        const victim_buffer heap = buffer_of(v, "heap");
        std::vector<std::byte> chunk(64 * 1024);
        for (std::uint64_t offset = 0; offset < heap.size; offset += chunk.size()) {  // warm the cache
            REQUIRE(read_exact(mem, heap.address + offset, chunk));
        }
        check_reads_of_victim(mem, v, false);  // the heap from the cache, the rest fetched
        CHECK(mem.statistics().hits > 0);
        CHECK(mem.cached_pages() <= 512);
    }
    SUBCASE("a cache of 3 pages: large reads bypass it, batches are split into groups") {
        caching_source mem{std::move(*live), 3};
        check_reads_of_victim(mem, v, false);
        CHECK(mem.cached_pages() <= 3);
    }
    SUBCASE("a cache over /proc/PID/mem") {
        auto file = live_process::open(v.pid(), access_method::proc_mem);
        REQUIRE(file);
        caching_source mem{std::move(*file), 64};
        check_reads_of_victim(mem, v, true);
    }
}

TEST_CASE("the cache answers from its pages until invalidated") {
    test_support::victim v{{memory_pattern()}};
    auto live = live_process::open(v.pid());
    REQUIRE(live);
    caching_source<live_process&> mem{*live, 16};
    const victim_buffer heap = buffer_of(v, "heap");
    std::uint64_t address = heap.address + 3 * page_size + 5;
    REQUIRE(read_object<std::uint64_t>(mem, address));
    auto misses = mem.statistics().misses;
    CHECK(misses >= 1);
    for (int i = 0; i < 100; ++i) REQUIRE(read_object<std::uint64_t>(mem, address + 8 * i % 4000));
    CHECK(mem.statistics().misses == misses);
    CHECK(mem.statistics().hits >= 100);
    mem.invalidate();
    CHECK(mem.cached_pages() == 0);
    REQUIRE(read_object<std::uint64_t>(mem, address));
    CHECK(mem.statistics().misses == misses + 1);
    CHECK(&mem.source() == &*live);
}

TEST_CASE("reading a process that has exited fails with no_such_process") {
    // A zombie has no address space any more: process_vm_readv says ESRCH and
    // /proc/PID/mem reads 0 bytes. Both are reported as no_such_process, not
    // bad_address: every address is gone, not one.
    for (access_method method : {access_method::vm_readv, access_method::proc_mem}) {
        CAPTURE(static_cast<int>(method));
        test_support::victim v{{memory_pattern()}};
        const victim_buffer small = buffer_of(v, "small");
        auto mem = live_process::open(v.pid(), method);
        REQUIRE(mem);
        REQUIRE(read_object<std::uint64_t>(*mem, small.address));

        v.kill_leaving_zombie();
        CHECK(v.state() == 'Z');
        auto zombie = read_object<std::uint64_t>(*mem, small.address);
        REQUIRE_FALSE(zombie);
        CHECK(zombie.error().code == errc::no_such_process);
        CHECK(zombie.error().context.find(std::to_string(v.pid())) != std::string::npos);
        std::array<std::byte, 8> bytes{};
        std::array<read_request, 2> batch{read_request{small.address, bytes}, read_request{small.address + 8, bytes}};
        auto batched = mem->read_batch(batch);
        REQUIRE_FALSE(batched);
        CHECK(batched.error().code == errc::no_such_process);

        v.stop();  // reaped: the pid no longer exists
        auto reaped = read_object<std::uint64_t>(*mem, small.address);
        REQUIRE_FALSE(reaped);
        CHECK(reaped.error().code == errc::no_such_process);

        auto reopened = live_process::open(v.pid(), method);
        REQUIRE_FALSE(reopened);
        CHECK(reopened.error().code == errc::no_such_process);
    }
}

TEST_CASE("opening a pid that does not exist or is invalid") {
    for (access_method method : {access_method::automatic, access_method::vm_readv, access_method::proc_mem}) {
        CAPTURE(static_cast<int>(method));
        auto none = live_process::open(0x3fffffff, method);  // above pid_max's ceiling
        REQUIRE_FALSE(none);
        CHECK(none.error().code == errc::no_such_process);
        auto invalid = live_process::open(-1, method);
        REQUIRE_FALSE(invalid);
        CHECK(invalid.error().code == errc::invalid_argument);
    }
}

namespace {

// In a forked child: make process_vm_readv fail with `refusal` (a seccomp
// filter, as a container runtime installs), then check what open() does.
// Returns the child's exit status: 0 when every check held, else the number
// of the first check that failed.
int with_process_vm_readv_refused(int refusal, pid_t target, const victim_buffer& small) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        sock_filter program[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(refusal) & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog filter{static_cast<unsigned short>(std::size(program)), program};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(10);
        if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) ::_exit(11);

        auto forced = live_process::open(target, access_method::vm_readv);
        errc expected = refusal == ENOSYS ? errc::unsupported : errc::permission_denied;
        if (forced || forced.error().code != expected) ::_exit(1);
        if (forced.error().message().find("proc_mem") == std::string::npos) ::_exit(2);

        auto fallback = live_process::open(target);
        if (!fallback) ::_exit(3);
        if (fallback->method() != access_method::proc_mem) ::_exit(4);
        std::vector<std::byte> bytes(small.size);
        if (!read_exact(*fallback, small.address, bytes) || !matches(bytes, small, 0)) ::_exit(5);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

} // namespace

TEST_CASE("automatic access falls back to /proc/PID/mem when process_vm_readv is refused or missing") {
    test_support::victim v{{memory_pattern()}};
    CHECK(with_process_vm_readv_refused(EPERM, v.pid(), buffer_of(v, "small")) == 0);
    CHECK(with_process_vm_readv_refused(ENOSYS, v.pid(), buffer_of(v, "small")) == 0);
    CHECK(v.running());
}
