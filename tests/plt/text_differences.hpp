// text_differences(pid): the executable file mappings of a process whose
// bytes differ from their files' (a uprobe or an int3 left behind shows);
// shared by the plt tests.
//
// Errors: REQUIRE failures (maps or memory unreadable). What it does to the
// process: reads its maps and memory.
#pragma once

#include <doctest/doctest.h>

#include <sys/types.h>

#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

#include "triage/memory/proc_mem.hpp"
#include "triage/procfs/maps.hpp"

namespace {

// The executable file mappings of `pid` whose bytes differ from their file's
// at the same offsets ("" when none).
std::string text_differences(pid_t pid) {
    auto maps = triage::procfs::read_maps(pid);
    REQUIRE(maps);
    auto mem = triage::memory::proc_mem::open(pid);
    REQUIRE(mem);
    std::string differences;
    std::size_t compared = 0;
    for (const auto& m : *maps) {
        if (!m.executable || !m.is_file() || m.path.starts_with("[")) continue;
        std::ifstream file("/proc/" + std::to_string(pid) + "/root" + m.path, std::ios::binary);
        if (!file) continue;
        const std::size_t size = m.end - m.start;
        std::vector<std::byte> want(size), have(size);
        file.seekg(static_cast<std::streamoff>(m.offset));
        file.read(reinterpret_cast<char*>(want.data()), static_cast<std::streamsize>(size));
        want.resize(static_cast<std::size_t>(file.gcount()));  // the file may end inside the last page
        have.resize(want.size());
        auto got = mem->read(m.start, have);
        REQUIRE(got);
        ++compared;
        if (have != want) differences += m.path + " ";
    }
    CHECK(compared > 0);
    return differences;
}

} // namespace
