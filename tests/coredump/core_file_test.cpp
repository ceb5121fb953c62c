// Reading cores that are not whole or not there: a core cut short (a few
// bytes, or inside its notes) is read as far as it goes, with a warning,
// and bytes it lost are never made up from the mapped file; a directory is
// refused by name; a core whose executable was deleted or replaced says so
// and suggests --exe (triage-pystack over the library).
#include <doctest/doctest.h>

#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "coredump/victim_checks.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/elf/file.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::coredump;
using triage::test_support::victim;

namespace {

dump_options no_sampling() {
    dump_options o;
    o.sample = std::chrono::milliseconds{0};
    return o;
}

// A copy of `from` holding only its first `size` bytes.
std::string cut_copy(const std::string& from, const std::string& to, std::uintmax_t size) {
    std::filesystem::copy_file(from, to);
    std::filesystem::resize_file(to, size);
    return to;
}

// Offset and size of the (first) PT_NOTE segment, read from the file itself.
std::pair<std::uint64_t, std::uint64_t> note_segment_of(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    Elf64_Ehdr eh{};
    file.read(reinterpret_cast<char*>(&eh), sizeof eh);
    for (unsigned i = 0; i < eh.e_phnum && file; ++i) {
        Elf64_Phdr ph{};
        file.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof ph));
        file.read(reinterpret_cast<char*>(&ph), sizeof ph);
        if (ph.p_type == PT_NOTE) return {ph.p_offset, ph.p_filesz};
    }
    return {0, 0};
}

} // namespace

TEST_CASE("a core cut short is read as far as it goes, with a warning") {
    test_support::scratch_dir dir{"coredump-core-file"};
    victim v{{test_support::victim_path("core_threads")}};
    const std::string whole_path = dir / "whole.core";
    auto report = dump_process(v.pid(), whole_path, no_sampling());
    REQUIRE_MESSAGE(report, failure_text(report));
    const std::uint64_t pattern = v.address("pattern");
    const std::size_t pattern_size = v.number("pattern", 1);
    auto whole = core_file::open(whole_path);
    REQUIRE(whole);
    CHECK(whole->warnings().empty());
    std::vector<std::byte> expected(pattern_size);
    REQUIRE(memory::read_exact(*whole, pattern, expected));

    // A few bytes short: the last segment loses its tail.
    const auto size = std::filesystem::file_size(whole_path);
    auto short_by_5 = core_file::open(cut_copy(whole_path, dir / "short.core", size - 5));
    REQUIRE_MESSAGE(short_by_5, failure_text(short_by_5));
    CHECK(short_by_5->threads().size() == 26);
    CHECK(short_by_5->truncated_segments() == 1);
    REQUIRE(short_by_5->warnings().size() == 1);
    CHECK(short_by_5->warnings().front().find("truncated") != std::string::npos);
    CHECK(short_by_5->warnings().front().find("5 bytes missing") != std::string::npos);
    std::vector<std::byte> bytes(pattern_size);
    REQUIRE(memory::read_exact(*short_by_5, pattern, bytes));
    CHECK(bytes == expected);

    // Cut inside its notes: the threads before the cut, and the headers' memory.
    const auto [notes_offset, notes_size] = note_segment_of(whole_path);
    REQUIRE(notes_size > 0);
    auto half_notes = core_file::open(cut_copy(whole_path, dir / "notes.core", notes_offset + notes_size / 2));
    REQUIRE_MESSAGE(half_notes, failure_text(half_notes));
    CHECK(half_notes->truncated_notes());
    CHECK(!half_notes->threads().empty());
    CHECK(half_notes->threads().size() < 26);
    CHECK(half_notes->threads().front().tid == whole->threads().front().tid);
    CHECK(half_notes->threads().front().general.rip == whole->threads().front().general.rip);
    REQUIRE(!half_notes->warnings().empty());
    CHECK(half_notes->warnings().front().find("inside its notes") != std::string::npos);

    // Cut before the first thread: nothing to read.
    auto no_thread = core_file::open(cut_copy(whole_path, dir / "early.core", notes_offset + 8));
    REQUIRE(!no_thread);
    CHECK(no_thread.error().code == errc::truncated);
    CHECK(coredump_test::running_unstopped(v));
}

TEST_CASE("bytes a truncated core lost are not read from the mapped file, whose bytes differ") {
    test_support::scratch_dir dir{"coredump-core-file"};
    victim v{{test_support::victim_path("core_data")}};
    const std::uint64_t data = v.address("data");
    const std::size_t size = v.number("data", 1);
    const std::string path = dir / "data.core";
    auto report = dump_process(v.pid(), path, no_sampling());
    REQUIRE_MESSAGE(report, failure_text(report));
    auto whole = core_file::open(path);
    REQUIRE(whole);
    std::vector<std::byte> bytes(size);
    REQUIRE(memory::read_exact(*whole, data, bytes));
    for (std::size_t i = 0; i < size; i += 997) CHECK(bytes[i] == std::byte((i * 7 + 3) & 0xff));

    // Cut 4 KiB into the segment that holds the buffer.
    const load_segment* held = nullptr;
    for (const auto& s : whole->segments())
        if (s.start <= data && data < s.end) held = &s;
    REQUIRE(held != nullptr);
    REQUIRE(held->file_size >= data - held->start + size);
    auto cut = core_file::open(cut_copy(path, dir / "cut.core", held->file_offset + (data - held->start) + 4096));
    REQUIRE_MESSAGE(cut, failure_text(cut));
    CHECK(!cut->warnings().empty());
    std::vector<std::byte> first(4096);
    REQUIRE(memory::read_exact(*cut, data, first));
    CHECK(std::equal(first.begin(), first.end(), bytes.begin()));
    std::vector<std::byte> lost(16);
    auto r = cut->read(data + 8192, lost);
    CHECK(!r);  // not the executable's 0xa5 bytes
    if (!r) CHECK(r.error().message().find("truncated") != std::string::npos);
    CHECK(coredump_test::running_unstopped(v));
}

TEST_CASE("a directory given as a core or an executable is refused by name") {
    test_support::scratch_dir dir{"coredump-core-file"};
    auto core = core_file::open(dir.path());
    REQUIRE(!core);
    CHECK(core.error().message().find("it is a directory") != std::string::npos);
    auto exe = elf::file::open(dir.path());
    REQUIRE(!exe);
    CHECK(exe.error().message().find("it is a directory") != std::string::npos);
    const std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto pipe = core_file::open(fifo);  // would wait for a writer if opened
    REQUIRE(!pipe);
    CHECK(pipe.error().message().find("it is a FIFO") != std::string::npos);
}

TEST_CASE("triage-pystack --core: a deleted or replaced executable is named, with --exe as the way out") {
    test_support::scratch_dir dir{"coredump-core-file"};
    const std::string pystack = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-pystack";
    // Debian's python3.11 holds the interpreter in the executable itself.
    const std::string python = dir / "python3.11";
    std::filesystem::copy_file("/usr/bin/python3.11", python);
    std::filesystem::permissions(python, std::filesystem::perms::owner_all);
    victim v{{python, "-c", "print('ready', flush=True)\nimport time\ntime.sleep(1000)"}};
    const std::string core = dir / "python.core";
    auto report = dump_process(v.pid(), core, no_sampling());
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK(coredump_test::running_unstopped(v));
    REQUIRE(test_support::run_command({pystack, "--core", core}).exit_code == 0);

    // One line, exit 1, naming what is wrong.
    auto refused = [&](std::vector<std::string> args, const std::string& says) {
        auto r = test_support::run_command(std::move(args));
        CAPTURE(r.err);
        CHECK(r.exit_code == 1);
        CHECK(coredump_test::one_line(r.err));
        CHECK(r.err.find(says) != std::string::npos);
        return r.err;
    };
    std::filesystem::remove(python);
    CHECK(refused({pystack, "--core", core}, python + " was deleted or moved").find("--exe") != std::string::npos);
    std::filesystem::copy_file("/bin/ls", python);
    CHECK(refused({pystack, "--core", core}, python + " was replaced").find("--exe") != std::string::npos);
    CHECK(test_support::run_command({pystack, "--core", core, "--exe", "/usr/bin/python3.11"}).exit_code == 0);
    refused({pystack, "--core", dir.path()}, "is a directory");
    refused({pystack, "--core", core, "--exe", dir.path()}, "is a directory");
}
