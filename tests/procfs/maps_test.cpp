#include <doctest/doctest.h>

#include <unistd.h>

#include "triage/procfs/maps.hpp"

using namespace triage;

TEST_CASE("parse_maps reads every field, paths with spaces and deleted files") {
    constexpr std::string_view text =
        "55d0c8a00000-55d0c8a21000 r-xp 00001000 fd:01 1835023                    /usr/bin/my prog\n"
        "7f1e2c000000-7f1e2c021000 rw-s 00000000 00:05 123 /dev/shm/x (deleted)\n"
        "7ffd5a3c0000-7ffd5a3e1000 rw-p 00000000 00:00 0                          [stack]\n"
        "7ffd5a3f0000-7ffd5a3f2000 ---p 00000000 00:00 0 \n";
    auto maps = procfs::parse_maps(text);
    REQUIRE(maps);
    REQUIRE(maps->size() == 4);
    const auto& exe = (*maps)[0];
    CHECK(exe.start == 0x55d0c8a00000);
    CHECK(exe.end == 0x55d0c8a21000);
    CHECK(exe.size() == 0x21000);
    CHECK((exe.readable && !exe.writable && exe.executable && !exe.shared));
    CHECK(exe.offset == 0x1000);
    CHECK(exe.dev_major == 0xfd);
    CHECK(exe.dev_minor == 1);
    CHECK(exe.inode == 1835023);
    CHECK(exe.path == "/usr/bin/my prog");
    CHECK(exe.is_file());
    CHECK_FALSE(exe.deleted);
    CHECK((*maps)[1].deleted);
    CHECK((*maps)[1].shared);
    CHECK((*maps)[1].path == "/dev/shm/x");
    CHECK((*maps)[2].path == "[stack]");
    CHECK_FALSE((*maps)[2].is_file());
    CHECK((*maps)[3].path.empty());
    CHECK_FALSE((*maps)[3].readable);
}

TEST_CASE("parse_maps rejects malformed lines with the line number") {
    auto bad = procfs::parse_maps("0-1000 r-xp 0 00:00 0\nzz-10 r--p 0 00:00 0\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == errc::malformed);
    CHECK(bad.error().context == "parsing maps line 2");
    CHECK_FALSE(procfs::parse_maps("2000-1000 r-xp 0 00:00 0\n"));  // end before start
}

TEST_CASE("read_maps of ourselves holds our code and stack; of a missing pid, no_such_process") {
    auto maps = procfs::read_maps(::getpid());
    REQUIRE(maps);
    auto here = reinterpret_cast<std::uint64_t>(&procfs::parse_maps);
    bool found_code = false, found_stack = false;
    for (const auto& m : *maps) {
        found_code |= m.contains(here) && m.executable;
        found_stack |= m.path == "[stack]";
    }
    CHECK(found_code);
    CHECK(found_stack);
    auto gone = procfs::read_maps(999999999);
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == errc::no_such_process);
}
