// Mapped objects of real processes: load biases checked against addresses the
// victim (tests/victims/elf_loader.c) reports about itself, and libraries
// replaced or deleted on disk while mapped.
#include <doctest/doctest.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "elf/probe_library.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/procfs/syscall.hpp"

namespace elf = triage::elf;
namespace procfs = triage::procfs;
using namespace triage::elf_testing;
using namespace triage::test_support;

namespace {

std::vector<elf::mapped_object> objects_of(const victim& v) {
    auto objects = elf::mapped_objects(v.pid());
    REQUIRE_MESSAGE(objects.has_value(), failure_text(objects));
    return std::move(*objects);
}

// The objects whose path ends with `suffix`.
std::vector<elf::mapped_object> named(const std::vector<elf::mapped_object>& objects, std::string_view suffix) {
    std::vector<elf::mapped_object> out;
    for (const auto& o : objects)
        if (o.path.ends_with(suffix)) out.push_back(o);
    return out;
}

std::uint64_t runtime_of(const elf::mapped_object& object, const char* name) {
    auto f = elf::open_mapped(object);
    REQUIRE_MESSAGE(f.has_value(), failure_text(f));
    auto s = f->find_symbol(name);
    REQUIRE_MESSAGE(s.has_value(), name);
    return object.runtime_address(s->value);
}

std::string build_id_of(const elf::file& f) {
    auto id = f.build_id();
    return id ? elf::build_id_hex(*id) : std::string{};
}

} // namespace

TEST_CASE("load biases of libc and of the program match the victim's own addresses") {
    scratch_dir dir;
    std::string lib = dir / "libprobe.so";
    build_probe_library(dir, lib, 1);
    victim v{{victim_path("elf_loader"), lib}};
    auto objects = objects_of(v);

    auto libcs = named(objects, "/libc.so.6");
    REQUIRE(libcs.size() == 1);
    CHECK(libcs[0].executable());
    CHECK(runtime_of(libcs[0], "getpid") == v.address("getpid"));
    CHECK(libcs[0].contains(v.address("getpid")));

    auto programs = named(objects, "/elf_loader");
    REQUIRE(programs.size() == 1);
    CHECK(runtime_of(programs[0], "elf_loader_marker") == v.address("marker"));

    // The runtime address of .text lies in an executable mapping of libc.
    auto libc_file = elf::open_mapped(libcs[0]);
    REQUIRE(libc_file.has_value());
    auto text = libc_file->section(".text");
    REQUIRE(text.has_value());
    std::uint64_t text_at = elf::runtime_address(*text, libcs[0]);
    CHECK(std::any_of(libcs[0].mappings.begin(), libcs[0].mappings.end(),
                      [&](const auto& m) { return m.executable && m.contains(text_at); }));
    CHECK(elf::compare_with_disk(libcs[0]) == elf::disk_match::same);
    CHECK(v.running());
}

TEST_CASE("a library also mapped as data, and loaded twice, gives one object per copy") {
    scratch_dir dir;
    std::string lib = dir / "libprobe.so";
    build_probe_library(dir, lib, 1);
    victim v{{victim_path("elf_loader"), lib, "--mmap", "--dlmopen"}};
    auto objects = named(objects_of(v), "/libprobe.so");

    std::vector<elf::mapped_object> loaded;
    for (const auto& o : objects)
        if (o.executable()) loaded.push_back(o);
    REQUIRE(loaded.size() == 2);
    std::vector<std::uint64_t> probes{runtime_of(loaded[0], "triage_probe"), runtime_of(loaded[1], "triage_probe")};
    std::sort(probes.begin(), probes.end());
    std::vector<std::uint64_t> printed{v.address("probe"), v.address("probe2")};
    std::sort(printed.begin(), printed.end());
    CHECK(probes == printed);
    // The data mappings are not part of either loaded copy.
    for (const auto& o : loaded) {
        CHECK_FALSE(o.contains(v.address("data_map")));
        CHECK_FALSE(o.contains(v.address("odd_map")));
    }
    // The whole-file data mapping is an object of its own, not loaded.
    auto data = std::find_if(objects.begin(), objects.end(), [&](const auto& o) { return o.low == v.address("data_map"); });
    REQUIRE(data != objects.end());
    CHECK_FALSE(data->executable());
    CHECK(v.running());
}

TEST_CASE("a library replaced on disk is detected and still read as mapped") {
    scratch_dir dir;
    std::string lib = dir / "libprobe.so";
    build_probe_library(dir, lib, 1);
    auto original = elf::file::open(lib);
    REQUIRE(original.has_value());
    std::string original_id = build_id_of(*original);
    REQUIRE(original_id.size() == 40);

    victim v{{victim_path("elf_loader"), lib}};
    auto before = named(objects_of(v), "/libprobe.so");
    REQUIRE(before.size() == 1);
    CHECK_FALSE(before[0].deleted);
    CHECK(elf::compare_with_disk(before[0]) == elf::disk_match::same);

    // A different build, renamed over the mapped file (as a package upgrade does).
    build_probe_library(dir, dir / "libprobe.so.new", 2);
    REQUIRE(::rename((dir / "libprobe.so.new").c_str(), lib.c_str()) == 0);
    auto on_disk = elf::file::open(lib);
    REQUIRE(on_disk.has_value());
    std::string new_id = build_id_of(*on_disk);
    REQUIRE(new_id != original_id);
    CHECK(new_id == std::string{triage::trim(shell_output("readelf -n " + lib + " | sed -n 's/.*Build ID: //p'"))});

    auto after = named(objects_of(v), "/libprobe.so");
    REQUIRE(after.size() == 1);
    CHECK(after[0].deleted);
    auto match = elf::compare_with_disk(after[0]);
    REQUIRE_MESSAGE(match.has_value(), failure_text(match));
    CHECK(*match == elf::disk_match::different_build_id);
    CHECK(elf::to_string(*match) == "different build-id");
    auto mapped = elf::open_mapped(after[0]);
    REQUIRE_MESSAGE(mapped.has_value(), failure_text(mapped));
    CHECK(build_id_of(*mapped) == original_id);
    CHECK(runtime_of(after[0], "triage_probe") == v.address("probe"));

    // Then deleted outright: still mapped, still readable.
    REQUIRE(::unlink(lib.c_str()) == 0);
    auto gone = named(objects_of(v), "/libprobe.so");
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].deleted);
    CHECK(elf::compare_with_disk(gone[0]) == elf::disk_match::missing_on_disk);
    auto still = elf::open_mapped(gone[0]);
    REQUIRE_MESSAGE(still.has_value(), failure_text(still));
    CHECK(build_id_of(*still) == original_id);
    CHECK(runtime_of(gone[0], "triage_probe") == v.address("probe"));
    CHECK(v.running());
}

TEST_CASE("without build-ids, replacement is told by inode") {
    scratch_dir dir;
    std::string lib = dir / "libprobe.so";
    build_probe_library(dir, lib, 1, {"-Wl,--build-id=none"});
    victim v{{victim_path("elf_loader"), lib}};
    auto objects = named(objects_of(v), "/libprobe.so");
    REQUIRE(objects.size() == 1);
    CHECK_FALSE(elf::open_mapped(objects[0])->build_id().has_value());
    CHECK(elf::compare_with_disk(objects[0]) == elf::disk_match::no_build_id);

    build_probe_library(dir, dir / "libprobe.so.new", 2, {"-Wl,--build-id=none"});
    REQUIRE(::rename((dir / "libprobe.so.new").c_str(), lib.c_str()) == 0);
    auto replaced = named(objects_of(v), "/libprobe.so");
    REQUIRE(replaced.size() == 1);
    CHECK(elf::compare_with_disk(replaced[0]) == elf::disk_match::replaced_no_build_id);
    CHECK(runtime_of(replaced[0], "triage_probe") == v.address("probe"));
    CHECK(v.running());
}

TEST_CASE("mapped_objects of a process that is gone is no_such_process") {
    pid_t pid;
    {
        scratch_dir dir;
        std::string lib = dir / "libprobe.so";
        build_probe_library(dir, lib, 1);
        victim v{{victim_path("elf_loader"), lib}};
        pid = v.pid();
    }
    auto objects = elf::mapped_objects(pid);
    REQUIRE_FALSE(objects.has_value());
    CHECK(objects.error().code == triage::errc::no_such_process);
}

TEST_CASE("a chrooted process's files are read as it sees them, without map_files too") {
    // /bin/sleep and what it loads, copied to the same paths under a root.
    scratch_dir dir;
    const std::string root = dir / "root";
    std::vector<std::string> files{"/bin/sleep"};
    std::istringstream ldd(command_output({"ldd", "/bin/sleep"}));
    for (std::string word; ldd >> word;)
        if (word.starts_with("/")) files.push_back(word);
    for (const auto& file : files) {
        std::filesystem::create_directories(std::filesystem::path(root + file).parent_path());
        std::filesystem::copy_file(file, root + file);
    }
    child_process sleeper{{"chroot", root, "/bin/sleep", "60"}};
    // chroot execs sleep as the same process. /proc/PID/exe names the new
    // program before execve has mapped it: wait until sleep sleeps.
    for (int k = 0; k < 1000; ++k) {
        auto call = procfs::read_syscall(sleeper.pid());
        if (call && call->name().find("nanosleep") != std::string_view::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // The kernel names its files from our root: the root's path comes first.
    auto objects = elf::mapped_objects(sleeper.pid());
    REQUIRE_MESSAGE(objects.has_value(), failure_text(objects));
    auto programs = named(*objects, root + "/bin/sleep");
    REQUIRE(programs.size() == 1);
    CHECK(elf::compare_with_disk(programs[0]) == elf::disk_match::same);
    // Without /proc/PID/map_files (no CAP_SYS_ADMIN), the file is opened as
    // the process sees it, through /proc/PID/root.
    elf::mapped_object without_map_files = programs[0];
    without_map_files.readable_path = dir / "no-map-files";
    auto opened = elf::open_mapped(without_map_files);
    REQUIRE_MESSAGE(opened.has_value(), failure_text(opened));
    CHECK(opened->name() == "/proc/" + std::to_string(sleeper.pid()) + "/root/bin/sleep");

    // Another program renamed over it, then nothing there.
    std::filesystem::copy_file("/bin/true", root + "/bin/sleep.new");
    std::filesystem::rename(root + "/bin/sleep.new", root + "/bin/sleep");
    auto replaced = named(*elf::mapped_objects(sleeper.pid()), root + "/bin/sleep");
    REQUIRE(replaced.size() == 1);
    CHECK(elf::compare_with_disk(replaced[0]) == elf::disk_match::different_build_id);
    without_map_files.path = replaced[0].path;
    auto refused = elf::open_mapped(without_map_files);
    REQUIRE_FALSE(refused.has_value());
    std::filesystem::remove(root + "/bin/sleep");
    auto gone = named(*elf::mapped_objects(sleeper.pid()), root + "/bin/sleep");
    REQUIRE(gone.size() == 1);
    CHECK(elf::compare_with_disk(gone[0]) == elf::disk_match::missing_on_disk);
    CHECK(sleeper.running());
}
