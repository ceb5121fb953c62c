// triage-pystack --locals on the locals victim (tests/victims/py_locals.py):
// in the JSON, the parked frame's "locals" give each bound variable of the
// victim's oracle (its own repr()s) with its kind, the simple values with
// Python's own repr, in slot order; the text shows them under the frame;
// the same from a core of the process (triage-gcore), and --nonblocking.
// The library underneath is checked on every interpreter in
// frame_locals_test.cpp; this checks the command on the oldest, the
// service's and the newest.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"

using namespace triage::testing;

namespace {

// The frame of `parked` in a triage-pystack --json document.
nlohmann::json parked_frame(const nlohmann::json& doc) {
    for (const auto& t : doc["threads"])
        for (const auto& f : t["frames"])
            if (f["function"].get<std::string>().ends_with("parked")) return f;
    return nullptr;
}

void check_frame(const nlohmann::json& frame, const nlohmann::json& oracle) {
    REQUIRE(frame.is_object());
    REQUIRE_MESSAGE(frame["locals"].is_array(), frame.dump());
    std::vector<std::string> ours, theirs;
    for (const auto& l : frame["locals"]) ours.push_back(l["name"]);
    for (const auto& o : oracle) theirs.push_back(o["name"]);
    CHECK(ours == theirs);
    for (const auto& o : oracle) {
        for (const auto& l : frame["locals"]) {
            if (l["name"] != o["name"]) continue;
            CAPTURE(o.dump());
            CHECK(l["kind"] == o["kind"]);
            const std::string type = o["type"];
            if (type == "NoneType" || type == "bool" || o["name"] == "small") CHECK(l["repr"] == o["repr"]);
        }
    }
}

} // namespace

TEST_CASE("triage-pystack --locals: the parked frame's arguments and locals as the victim sees them, live, "
          "nonblocking and from a core") {
    const std::string pystack = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-pystack";
    const std::string gcore = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore";
    auto all = machine_interpreters();
    std::vector<python_interpreter> chosen{all.front(), service_python(), all.back()};
    for (const python_interpreter& python : chosen) {
        CAPTURE(python.label);
        triage::test_support::scratch_dir dir{"pystack-locals"};
        const std::string ready = dir.path() + "/ready", oracle_path = dir.path() + "/oracle.json";
        python_process victim{python, {victim_script("py_locals.py"), ready, oracle_path}};
        REQUIRE(victim.wait_for_file(ready));
        const auto oracle = nlohmann::json::parse(*triage::read_file(oracle_path));
        const std::string pid = std::to_string(victim.pid());
        for (const char* mode : {"", "--nonblocking"}) {
            CAPTURE(mode);
            std::vector<std::string> args{pystack, pid, "--locals", "--json"};
            if (*mode) args.push_back(mode);
            auto r = triage::test_support::run_command(args);
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            check_frame(parked_frame(nlohmann::json::parse(r.out)), oracle);
        }
        auto text = triage::test_support::run_command({pystack, pid, "--locals"});
        REQUIRE(text.exit_code == 0);
        CHECK(text.out.find("\n        arg pos = ") != std::string::npos);
        CHECK(text.out.find("\n        local small = 42") != std::string::npos);

        const std::string core = dir.path() + "/core";
        REQUIRE(triage::test_support::run_command({gcore, pid, "-o", core}).exit_code == 0);
        auto from_core = triage::test_support::run_command({pystack, "--core", core, "--locals", "--json"});
        INFO(from_core.err);
        REQUIRE(from_core.exit_code == 0);
        check_frame(parked_frame(nlohmann::json::parse(from_core.out)), oracle);
    }
}
