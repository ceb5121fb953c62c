// A free-threaded CPython (the lab's python3.13t, built from Debian's
// python3.13 source with --disable-gil by tests/lab/build-freethreaded when
// TRIAGE_LAB_FREETHREADED=1): triage-pystack reads it live (blocking and
// nonblocking) and from our core, says "free-threaded", names every thread
// threading knows (py_named_threads.py's oracle), and shows each parked
// thread in Event.wait. The layout it publishes is checked against its
// DWARF by layout_law_test. Without the build this test says so loudly.
#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"

namespace {

using namespace triage::testing;

std::map<std::uint64_t, std::string> read_names(const std::string& path) {
    std::map<std::uint64_t, std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos && !line.starts_with("raw\t")) out[std::stoull(line.substr(0, tab))] = line.substr(tab + 1);
    }
    return out;
}

void check_report(const nlohmann::json& doc, const std::map<std::uint64_t, std::string>& names) {
    CHECK(doc["free_threaded"] == true);
    std::size_t named = 0;
    std::size_t waiting = 0;
    for (const auto& t : doc["threads"]) {
        CHECK(t["holds_gil"] == false);  // no GIL: nobody holds it
        auto it = names.find(t["python_ident"].get<std::uint64_t>());
        if (it != names.end() && t["python_name"].is_string() && t["python_name"] == it->second) ++named;
        for (const auto& f : t["frames"]) {
            if (f["function"] == "Event.wait") {
                ++waiting;
                break;
            }
        }
    }
    CHECK(named == names.size());
    CHECK(waiting >= 27);  // every thread but the main, the raw and the dummy thread parks in Event.wait
}

} // namespace

TEST_CASE("a free-threaded build: stacks live and from a core, names, no GIL holder") {
    const auto python = triage::test_support::freethreaded_interpreter();
    if (!python) {
        MESSAGE("!!! no free-threaded build in the lab: python3.13t is NOT covered; run "
                "TRIAGE_LAB_FREETHREADED=1 tests/lab/build-root !!!");
        return;
    }
    scratch_dir dir;
    const std::string oracle = dir.path() + "/oracle";
    python_process victim(python_interpreter{python->path, python->label, 3, 13}, {victim_script("py_named_threads.py"), oracle});
    REQUIRE(victim.wait_for_file(oracle));
    const auto names = read_names(oracle);
    REQUIRE(names.size() == 30);
    const std::string pid = std::to_string(victim.pid());

    for (const std::string mode : {"", " --nonblocking"}) {
        CAPTURE(mode);
        auto r = run_pystack(pid + mode + " --json --cpu-window 0");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        check_report(nlohmann::json::parse(r.out), names);
    }
    auto text = run_pystack(pid + " --cpu-window 0");
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("Python 3.13.") != std::string::npos);
    CHECK(text.out.find(" free-threaded (") != std::string::npos);

    const std::string core = dir.path() + "/core";
    auto dumped = run_tool(std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", pid + " -o " + core);
    INFO(dumped.err);
    REQUIRE(dumped.exit_code == 0);
    auto from_core = run_pystack("--core " + core + " --json");
    INFO(from_core.err);
    REQUIRE(from_core.exit_code == 0);
    check_report(nlohmann::json::parse(from_core.out), names);
    CHECK(victim.state() != "t");
}
