// triage-debuginfo as a user runs it: Debian's stripped python3.11 with
// python3.11-dbg, a binary replaced on disk under a running process, a
// process whose files exist only in its own mount namespace, and cores.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "elf/debug_program.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"

namespace elf = triage::elf;
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace triage::elf_testing;
using namespace triage::test_support;

namespace {

const std::string debuginfo = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-debuginfo";

json report_of(std::vector<std::string> args) {
    args.insert(args.begin(), debuginfo);
    args.push_back("--json");
    args.push_back("--no-debuginfod");
    auto run = run_command(args);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    return json::parse(run.out);
}

json object_named(const json& report, const std::string& path) {
    for (const auto& o : report["objects"])
        if (o["path"] == path) return o;
    FAIL("no object " << path << " in " << report.dump(1));
    return {};
}

std::string build_id_hex(const std::string& path) {
    auto f = elf::file::open(path);
    REQUIRE(f.has_value());
    return elf::build_id_hex(*f->build_id());
}

} // namespace

TEST_CASE("Debian's stripped python3.11: symbols and DWARF from python3.11-dbg by build-id, packages named") {
    REQUIRE_MESSAGE(fs::exists("/usr/bin/python3.11"), "Debian's python3.11 is installed by .ci/deps");
    victim python{{"/usr/bin/python3.11", "-c", "import time; print('ready', flush=True); time.sleep(600)"}};
    json report = report_of({std::to_string(python.pid())});
    json exe = object_named(report, "/usr/bin/python3.11");
    INFO(exe.dump(1));
    CHECK(exe["on_disk"] == "same");
    CHECK(exe["build_id_from"] == "memory");
    CHECK(exe["build_id"] == build_id_hex("/usr/bin/python3.11"));
    REQUIRE(exe["dwarf"].is_object());
    CHECK(exe["dwarf"]["way"] == "build-id");
    CHECK(exe["dwarf"]["file"].get<std::string>().starts_with("/usr/lib/debug/.build-id/"));
    CHECK(exe["symbols"]["way"] == "build-id");
    CHECK(exe["package"]["name"] == "python3.11-minimal");
    CHECK(exe["install"].is_null());  // nothing to install: it is there
    CHECK(exe["attempts"][0]["outcome"] == "stripped (.dynsym only)");
    for (const auto& o : report["objects"]) {
        // Every object without DWARF that a package installed says what to install.
        if (o["dwarf"].is_null() && o["package"].is_object())
            CHECK(o["install"].get<std::string>().starts_with("apt install "));
    }
    CHECK(report["summary"]["code_objects"] == report["objects"].size());
    CHECK(report["summary"]["line"].get<std::string>().starts_with("native stacks will be"));

    auto text = run_command({debuginfo, std::to_string(python.pid()), "--no-debuginfod"});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("/usr/bin/python3.11\n  running    build-id " + exe["build_id"].get<std::string>() + " (from memory)\n") !=
          std::string::npos);
    CHECK(text.out.find("  package    python3.11-minimal ") != std::string::npos);
}

TEST_CASE("a binary replaced on disk under the running process is named, with both build-ids") {
    scratch_dir dir{"debuginfo"};
    const std::string app = dir / "app";
    build_debug_program(dir, app, 1);
    const std::string running_id = build_id_hex(app);
    victim v{{app}};
    // What an upgrade does: a new file renamed over the old path.
    build_debug_program(dir, dir / "app.new", 2);
    fs::rename(dir / "app.new", app);
    const std::string disk_id = build_id_hex(app);
    REQUIRE(disk_id != running_id);

    json row = object_named(report_of({std::to_string(v.pid())}), app);
    INFO(row.dump(1));
    CHECK(row["deleted"] == true);
    CHECK(row["on_disk"] == "replaced on disk");
    CHECK(row["build_id"] == running_id);
    CHECK(row["disk_build_id"] == disk_id);
    // The running build's own .symtab, read through /proc/PID/map_files, not the new file's.
    CHECK(row["symbols"]["way"] == "embedded");

    auto text = run_command({debuginfo, std::to_string(v.pid()), "--no-debuginfod"});
    CHECK(text.out.find(app + " (deleted)\n  running    build-id " + running_id +
                        " (from memory); replaced on disk: the file there has build-id " + disk_id) != std::string::npos);
}

TEST_CASE("a process under unshare --mount resolves its files and debug files in its own root") {
    scratch_dir dir{"debuginfo"};
    const std::string inside = dir / "ns";
    fs::create_directories(inside);
    build_debug_program(dir, dir / "app", 1);
    split_debug_info(dir / "app", dir / "app.debug");
    // The program and its debug file exist only in the child's private tmpfs.
    victim v{{"unshare", "--mount", "--propagation", "private", "sh", "-c",
              "mount -t tmpfs tmpfs " + inside + " && cp " + (dir / "app") + " " + (dir / "app.debug") + " " + inside +
                  " && exec " + inside + "/app"}};
    REQUIRE_FALSE(fs::exists(inside + "/app"));  // not in our mount namespace

    json row = object_named(report_of({std::to_string(v.pid())}), inside + "/app");
    INFO(row.dump(1));
    CHECK(row["on_disk"] == "same");
    REQUIRE(row["dwarf"].is_object());
    CHECK(row["dwarf"]["way"] == "debuglink");
    CHECK(row["dwarf"]["file"] == inside + "/app.debug");  // as the process names it
}

TEST_CASE("a core: the build-ids it holds, compared with the files on disk or with --exe") {
    scratch_dir dir{"debuginfo"};
    const std::string app = dir / "app";
    build_debug_program(dir, app, 1);
    fs::copy_file(app, dir / "app.original");
    const std::string running_id = build_id_hex(app);
    const std::string core = dir / "app.core";
    {
        victim v{{app}};
        auto dump = run_command({std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore", std::to_string(v.pid()), "-o", core});
        INFO(dump.err);
        REQUIRE(dump.exit_code == 0);
    }
    json row = object_named(report_of({"--core", core}), app);
    INFO(row.dump(1));
    CHECK(row["build_id"] == running_id);
    CHECK(row["build_id_from"] == "memory");
    CHECK(row["on_disk"] == "same");
    CHECK(row["symbols"]["way"] == "embedded");

    build_debug_program(dir, dir / "app.new", 2);
    fs::rename(dir / "app.new", app);
    json replaced = object_named(report_of({"--core", core}), app);
    CHECK(replaced["on_disk"] == "replaced on disk");
    CHECK(replaced["build_id"] == running_id);
    CHECK(replaced["symbols"].is_null());  // the file at hand is another build: not used

    json given = object_named(report_of({"--core", core, "--exe", dir / "app.original"}), app);
    CHECK(given["on_disk"] == "same");
    CHECK(given["symbols"]["way"] == "embedded");

    // A copy of the running build elsewhere (a moved application): found by
    // name in --lib-search-path, the other build at the path passed over.
    fs::create_directories(dir / "copies");
    fs::copy_file(dir / "app.original", dir / "copies/app");
    json searched = object_named(report_of({"--core", core, "--lib-search-path", dir / "none:" + (dir / "copies")}), app);
    INFO(searched.dump(1));
    CHECK(searched["on_disk"] == "same");
    CHECK(searched["symbols"]["way"] == "embedded");
}
