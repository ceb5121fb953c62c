// The writer from plain data (no process): what it writes, the reader reads
// back; holes stay holes; eu-readelf agrees on the layout; PN_XNUM; a
// cancelled write leaves no file.
#include <doctest/doctest.h>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <vector>

#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/writer.hpp"
#include "triage/memory/buffer_source.hpp"

using namespace triage;
using namespace triage::coredump;

namespace {
constexpr std::uint64_t page = 4096;

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = std::byte((i * 131u + seed * 29u) & 0xffu);
    return out;
}

core_layout base_layout() {
    core_layout layout;
    core_thread t;
    t.tid = 4242;
    t.general.rip = 0xdeadbeef;
    t.fp = user_fpregs_struct{};
    layout.threads.push_back(t);
    core_thread u = t;
    u.tid = 4243;
    u.general.rip = 0xfeedface;
    layout.threads.push_back(u);
    layout.process.pid = 4242;
    layout.process.fname = "plain";
    layout.process.psargs = "plain --data";
    std::vector<std::uint64_t> auxv{AT_PAGESZ, 4096, AT_NULL, 0};
    auto a = std::as_bytes(std::span{auxv});
    layout.process.auxv.assign(a.begin(), a.end());
    return layout;
}
} // namespace

TEST_CASE("a core written from plain data reads back: threads, process, memory, holes, file runs") {
    test_support::scratch_dir dir{"coredump"};
    // Memory: 64 pages at 0x10000000, of which pages 0-3 and 40-41 have data.
    std::vector<std::byte> image(64 * page);
    auto data = pattern(4 * page, 3);
    std::memcpy(image.data(), data.data(), data.size());
    auto more = pattern(2 * page, 9);
    std::memcpy(image.data() + 40 * page, more.data(), more.size());
    memory::buffer_source memory;
    memory.add_region(0x10000000, image);
    // A file whose second page holds a known pattern, for a run read from the file.
    std::string file_path = dir / "mapped.bin";
    auto file_bytes = pattern(3 * page, 5);
    std::ofstream(file_path, std::ios::binary).write(reinterpret_cast<const char*>(file_bytes.data()),
                                                      static_cast<std::streamsize>(file_bytes.size()));
    unique_fd file{::open(file_path.c_str(), O_RDONLY)};
    REQUIRE(file);

    core_layout layout = base_layout();
    core_segment anon{0x10000000, 0x10000000 + 64 * page, PF_R | PF_W, 64 * page, {}};
    anon.content = {{0x10000000, 4 * page, -1, 0}, {0x10000000 + 40 * page, 2 * page, -1, 0}};
    core_segment not_dumped{0x20000000, 0x20000000 + 16 * page, PF_R, 0, {}};
    core_segment from_file{0x30000000, 0x30000000 + 2 * page, PF_R | PF_X, 2 * page, {}};
    from_file.content = {{0x30000000, 2 * page, file.get(), page}};
    layout.segments = {anon, not_dumped, from_file};
    layout.files = {{0x30000000, 0x30000000 + 2 * page, page, file_path}};

    std::string core_path = dir / "plain.core";
    auto out = output_file::create(core_path);
    REQUIRE(out);
    auto stats = write_core(layout, memory, *out);
    REQUIRE(stats);
    REQUIRE(out->commit());
    CHECK(stats->segments == 3);
    CHECK(stats->segments_with_data == 2);
    // Sparse: 6 data pages + 2 file pages + a page or two of headers, of a file ~66 pages long.
    CHECK(stats->file_size >= 66 * page);
    CHECK(stats->allocated <= 16 * page);

    auto core = core_file::open(core_path, core_file_options{.read_mapped_files = false, .substitutes = {}});
    REQUIRE(core);
    REQUIRE(core->threads().size() == 2);
    CHECK(core->threads()[0].tid == 4242);
    CHECK(core->threads()[1].general.rip == 0xfeedface);
    REQUIRE(core->process());
    CHECK(core->process()->fname == "plain");
    CHECK(core->process()->psargs == "plain --data");
    CHECK(core->signal() == 0);
    REQUIRE(core->auxv().size() == 1);
    CHECK(core->auxv()[0].value == 4096);
    REQUIRE(core->mapped_files().size() == 1);
    CHECK(core->mapped_files()[0].offset == page);

    std::vector<std::byte> back(64 * page);
    auto n = core->read(0x10000000, back);
    REQUIRE(n);
    CHECK(*n == back.size());
    CHECK(back == image);  // data where it was, zeros in the holes
    std::vector<std::byte> text(2 * page);
    REQUIRE(memory::read_exact(*core, 0x30000000, text));
    CHECK(std::memcmp(text.data(), file_bytes.data() + page, 2 * page) == 0);
    std::byte one{};
    auto missing = core->read(0x20000000, std::span{&one, 1});
    REQUIRE(!missing);
    CHECK(missing.error().code == errc::bad_address);

    // eu-readelf, an independent reader, sees the same program headers.
    auto readelf = test_support::run_command({"eu-readelf", "-l", "-n", core_path});
    REQUIRE(readelf.exit_code == 0);
    CHECK(readelf.out.find("NOTE") < readelf.out.find("LOAD"));
    CHECK(readelf.out.find("0x0000000010000000") != std::string::npos);
    CHECK(readelf.out.find("fname: plain, psargs: plain --data") != std::string::npos);
    CHECK(readelf.out.find("pid: 4243") != std::string::npos);
}

TEST_CASE("the reader fills what the core lacks from the mapped file only when allowed") {
    test_support::scratch_dir dir{"coredump"};
    std::string file_path = dir / "lib.bin";
    auto file_bytes = pattern(2 * page, 1);
    std::ofstream(file_path, std::ios::binary).write(reinterpret_cast<const char*>(file_bytes.data()),
                                                      static_cast<std::streamsize>(file_bytes.size()));
    memory::buffer_source memory;
    core_layout layout = base_layout();
    layout.segments = {{0x40000000, 0x40000000 + 2 * page, PF_R, 0, {}}};
    layout.files = {{0x40000000, 0x40000000 + 2 * page, 0, file_path}};
    std::string core_path = dir / "nofile.core";
    auto out = output_file::create(core_path);
    REQUIRE(out);
    REQUIRE(write_core(layout, memory, *out));
    REQUIRE(out->commit());

    auto with_files = core_file::open(core_path);
    REQUIRE(with_files);
    std::vector<std::byte> back(2 * page);
    REQUIRE(memory::read_exact(*with_files, 0x40000000, back));
    CHECK(back == file_bytes);
    // Not an ELF file, so the core has no build-id to compare: unverified, but used.
    CHECK(with_files->file_check_of(0) == file_check::unverified);

    auto without = core_file::open(core_path, core_file_options{.read_mapped_files = false, .substitutes = {}});
    REQUIRE(without);
    CHECK(!without->read(0x40000000, back));

    auto moved = core_file::open(core_path, core_file_options{.read_mapped_files = true, .substitutes = {{file_path, dir / "gone"}}});
    REQUIRE(moved);
    CHECK(!moved->read(0x40000000, back));
    CHECK(moved->file_check_of(0) == file_check::missing);
}

TEST_CASE("more than 65534 segments use PN_XNUM, as the kernel does") {
    test_support::scratch_dir dir{"coredump"};
    memory::buffer_source memory;
    core_layout layout = base_layout();
    const std::size_t count = 70000;
    for (std::size_t i = 0; i < count; ++i) {
        std::uint64_t start = 0x100000000ull + i * 2 * page;
        layout.segments.push_back({start, start + page, PF_R, 0, {}});
    }
    std::string core_path = dir / "many.core";
    auto out = output_file::create(core_path);
    REQUIRE(out);
    REQUIRE(write_core(layout, memory, *out));
    REQUIRE(out->commit());
    auto core = core_file::open(core_path);
    REQUIRE(core);
    CHECK(core->segments().size() == count);
    auto readelf = test_support::run_command({"eu-readelf", "-h", core_path});
    CHECK(readelf.out.find("70001") != std::string::npos);  // the real count, from section header 0
}

TEST_CASE("a cancelled or failed write leaves no file behind") {
    test_support::scratch_dir dir{"coredump"};
    std::vector<std::byte> image(64 * page, std::byte{1});
    memory::buffer_source memory;
    memory.add_region(0x10000000, image);
    core_layout layout = base_layout();
    core_segment anon{0x10000000, 0x10000000 + 64 * page, PF_R | PF_W, 64 * page, {{0x10000000, 64 * page, -1, 0}}};
    layout.segments = {anon};
    volatile std::sig_atomic_t cancel = 0;
    write_options options;
    options.chunk_bytes = 4 * page;
    options.cancel = &cancel;
    int progress_calls = 0;
    options.progress = [&](std::uint64_t, std::uint64_t) {
        if (++progress_calls == 3) cancel = 1;  // as a SIGINT handler would, mid-copy
    };
    {
        auto out = output_file::create(dir / "cancelled.core");
        REQUIRE(out);
        auto written = write_core(layout, memory, *out, options);
        REQUIRE(!written);
        CHECK(written.error().code == errc::interrupted);
    }
    CHECK(dir.entries().empty());
    CHECK(progress_calls == 3);

    // A run outside its segment is the caller's mistake, reported, not written.
    layout.segments[0].content = {{0x10000000 + 60 * page, 8 * page, -1, 0}};
    {
        auto out = output_file::create(dir / "bad.core");
        REQUIRE(out);
        CHECK(write_core(layout, memory, *out).error().code == errc::invalid_argument);
    }
    CHECK(dir.entries().empty());
}
