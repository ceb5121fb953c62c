// The debug-file locator on real files built here: embedded DWARF, build-id
// directories, .gnu_debuglink with its CRC (and the trap of a debug file of
// another build), a process root, a replaced binary, and dwz alternates.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "elf/debug_program.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/base/text.hpp"
#include "triage/elf/debug_file_locator.hpp"
#include "triage/elf/debuglink.hpp"
#include "triage/elf/file.hpp"

namespace elf = triage::elf;
namespace fs = std::filesystem;
using namespace triage::elf_testing;
using namespace triage::test_support;

namespace {

std::vector<std::byte> build_id(const std::string& path) {
    auto f = elf::file::open(path);
    REQUIRE_MESSAGE(f.has_value(), failure_text(f));
    auto id = f->build_id();
    REQUIRE(id.has_value());
    return *id;
}

elf::debug_info_location locate(const elf::debugged_object& object, const elf::locator_options& options) {
    auto where = elf::locate_debug_info(object, options);
    REQUIRE_MESSAGE(where.has_value(), failure_text(where));
    return std::move(*where);
}

// Only the directories the test made: never the machine's /usr/lib/debug, never debuginfod.
elf::locator_options isolated(const std::vector<std::string>& debug_directories) {
    elf::locator_options options;
    options.debug_directories = debug_directories;
    options.host_debug_directories = false;
    options.debuginfod = false;
    return options;
}

std::string build_id_path(const std::string& directory, const std::vector<std::byte>& id) {
    std::string hex = elf::build_id_hex(id);
    return directory + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
}

void place(const std::string& from, const std::string& to) {
    fs::create_directories(fs::path{to}.parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

const elf::debug_attempt* attempt_at(const elf::debug_info_location& where, const std::string& path) {
    auto it = std::find_if(where.attempts.begin(), where.attempts.end(), [&](auto& a) { return a.path == path; });
    return it == where.attempts.end() ? nullptr : &*it;
}

std::string attempts_text(const elf::debug_info_location& where) {
    std::string out;
    for (const auto& a : where.attempts) out += std::string{elf::to_string(a.way)} + " " + a.path + ": " + a.outcome + "\n";
    return out;
}

} // namespace

TEST_CASE("a binary built with -g has its own symbols and DWARF") {
    scratch_dir dir{"locator"};
    std::string program = build_debug_program(dir, dir / "program", 1);
    auto where = locate({.path = program}, isolated({dir / "debug"}));
    CHECK(where.symbols == program);
    CHECK(where.dwarf == program);
    CHECK(where.symbols_from == elf::debug_way::embedded);
    CHECK(where.dwarf_from == elf::debug_way::embedded);
    REQUIRE(where.attempts.size() == 1);  // nothing else was needed
    CHECK(where.attempts[0].used);
}

TEST_CASE("a stripped binary's debug file is found by build-id, and one of another build there is refused") {
    scratch_dir dir{"locator"};
    std::string program = build_debug_program(dir, dir / "program", 1);
    std::string other = build_debug_program(dir, dir / "other", 2);
    split_debug_info(program, dir / "program.debug", false);
    split_debug_info(other, dir / "other.debug", false);
    const auto id = build_id(program);
    const std::string debug_dir = dir / "debug";
    const std::string slot = build_id_path(debug_dir, id);

    SUBCASE("the right file") {
        place(dir / "program.debug", slot);
        auto where = locate({.path = program, .build_id = id}, isolated({debug_dir}));
        INFO(attempts_text(where));
        CHECK(where.symbols == slot);
        CHECK(where.dwarf == slot);
        CHECK(where.dwarf_from == elf::debug_way::build_id);
        CHECK(where.attempts.front().outcome == "stripped (.dynsym only)");
    }
    SUBCASE("a debug file of another build under this build-id") {
        place(dir / "other.debug", slot);
        auto where = locate({.path = program, .build_id = id}, isolated({debug_dir}));
        INFO(attempts_text(where));
        CHECK(where.dwarf.empty());
        CHECK(where.symbols.empty());
        auto* a = attempt_at(where, slot);
        REQUIRE(a != nullptr);
        CHECK_FALSE(a->used);
        CHECK(a->outcome == "build-id mismatch: it has " + elf::build_id_hex(build_id(dir / "other.debug")));
    }
    SUBCASE("the build-id of the running code, not of the file at hand, decides") {
        // The file at hand is another build (replaced on disk): its own
        // sections, its debuglink and its build-id are not used.
        place(dir / "program.debug", slot);
        place(dir / "other.debug", build_id_path(debug_dir, build_id(other)));
        auto where = locate({.path = other, .build_id = id, .other_build = true}, isolated({debug_dir}));
        INFO(attempts_text(where));
        CHECK(where.dwarf == slot);
    }
}

TEST_CASE("a .gnu_debuglink is followed next to the object, in .debug/ and under the debug directory, CRC checked") {
    scratch_dir dir{"locator"};
    const std::string app = dir / "opt/app";
    fs::create_directories(app);
    std::string program = build_debug_program(dir, app + "/program", 1);
    split_debug_info(program, dir / "program.debug");
    const auto link = elf::file::open(program)->gnu_debuglink();
    REQUIRE(link.has_value());
    CHECK(link->file == "program.debug");
    const std::string debug_dir = dir / "debug";

    for (const std::string& where_to : {app + "/program.debug", app + "/.debug/program.debug", debug_dir + app + "/program.debug"}) {
        CAPTURE(where_to);
        place(dir / "program.debug", where_to);
        auto where = locate({.path = program}, isolated({debug_dir}));
        INFO(attempts_text(where));
        CHECK(where.dwarf == where_to);
        CHECK(where.symbols == where_to);
        CHECK(where.dwarf_from == elf::debug_way::debuglink);
        fs::remove(where_to);
    }
}

TEST_CASE("a debug file of another build where .gnu_debuglink points is named with both CRCs and not used") {
    // The incident's trap: gdb found "symbols" whose CRC did not match.
    scratch_dir dir{"locator"};
    std::string program = build_debug_program(dir, dir / "program", 1);
    std::string other = build_debug_program(dir, dir / "other", 2);
    split_debug_info(program, dir / "right.debug");
    std::string wrong = dir / "other.debug";
    split_debug_info(other, wrong, false);
    const std::uint32_t expected = *elf::file_crc32(dir / "right.debug");
    fs::remove(dir / "right.debug");
    const std::string linked = dir / "right.debug";  // the link's name, now holding the other build's file
    fs::copy_file(wrong, linked);
    const std::uint32_t actual = *elf::file_crc32(linked);
    REQUIRE(actual != expected);

    auto where = locate({.path = program}, isolated({dir / "debug"}));
    INFO(attempts_text(where));
    CHECK(where.dwarf.empty());
    CHECK(where.symbols.empty());
    auto* a = attempt_at(where, linked);
    REQUIRE(a != nullptr);
    CHECK(a->way == elf::debug_way::debuglink);
    CHECK_FALSE(a->used);
    CHECK(a->outcome.starts_with("CRC mismatch: the file's CRC-32 is " + triage::hex(actual) + ", .gnu_debuglink of " +
                                 program + " expects " + triage::hex(expected)));
}

TEST_CASE("paths are looked up under the process's root, and the host's debug directories after it") {
    scratch_dir dir{"locator"};
    const std::string root = dir / "root";
    fs::create_directories(root + "/opt/app");
    std::string program = build_debug_program(dir, root + "/opt/app/program", 1);
    split_debug_info(program, dir / "program.debug", false);
    const auto id = build_id(program);

    elf::locator_options options = isolated({"/usr/lib/debug"});
    options.root = root;
    SUBCASE("the debug file in the root's /usr/lib/debug") {
        const std::string slot = build_id_path(root + "/usr/lib/debug", id);
        place(dir / "program.debug", slot);
        auto where = locate({.path = "/opt/app/program"}, options);
        INFO(attempts_text(where));
        CHECK(where.dwarf == slot);
    }
    SUBCASE("the debug file only on the host") {
        const std::string host_dir = dir / "host-debug";
        const std::string slot = build_id_path(host_dir, id);
        place(dir / "program.debug", slot);
        options.debug_directories = {"/usr/lib/debug", host_dir};
        auto only_root = locate({.path = "/opt/app/program"}, options);
        CHECK(only_root.dwarf.empty());  // host_debug_directories is off
        options.host_debug_directories = true;
        auto where = locate({.path = "/opt/app/program"}, options);
        INFO(attempts_text(where));
        CHECK(where.dwarf == slot);
    }
}

TEST_CASE("a DWARF file's dwz alternate is found by its path or build-id, and a missing one is said") {
    scratch_dir dir{"locator"};
    std::string program = build_debug_program(dir, dir / "program", 1);
    std::string shared = build_debug_program(dir, dir / "shared", 2);
    const auto shared_id = build_id(shared);
    std::string debug = dir / "program.debug";
    split_debug_info(program, debug);
    {  // .gnu_debugaltlink: "shared.debug\0" + the alternate's build-id
        std::ofstream section{dir / "altlink", std::ios::binary};
        section << "alt/shared.debug" << '\0';
        section.write(reinterpret_cast<const char*>(shared_id.data()), static_cast<std::streamsize>(shared_id.size()));
    }
    command_output({"objcopy", "--add-section", ".gnu_debugaltlink=" + (dir / "altlink"), debug});
    // The CRC in the program's link must follow the changed debug file.
    command_output({"objcopy", "--remove-section=.gnu_debuglink", program});
    command_output({"objcopy", "--add-gnu-debuglink=" + debug, program});

    SUBCASE("by the path it records, relative to the DWARF file") {
        place(shared, dir / "alt/shared.debug");
        auto where = locate({.path = program}, isolated({dir / "debug"}));
        INFO(attempts_text(where));
        CHECK(where.dwarf == debug);
        CHECK(where.alternate == dir / "alt/shared.debug");
        CHECK_FALSE(where.alternate_missing);
    }
    SUBCASE("by build-id under the debug directory") {
        const std::string slot = build_id_path(dir / "debug", shared_id);
        place(shared, slot);
        auto where = locate({.path = program}, isolated({dir / "debug"}));
        INFO(attempts_text(where));
        CHECK(where.alternate == slot);
    }
    SUBCASE("a file of another build at the path is refused; none found is said") {
        std::string other = build_debug_program(dir, dir / "other", 3);
        place(other, dir / "alt/shared.debug");
        auto where = locate({.path = program}, isolated({dir / "debug"}));
        INFO(attempts_text(where));
        CHECK(where.alternate.empty());
        CHECK(where.alternate_missing);
        auto* a = attempt_at(where, dir / "alt/shared.debug");
        REQUIRE(a != nullptr);
        CHECK(a->outcome.starts_with("build-id mismatch"));
    }
}
