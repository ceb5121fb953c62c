// examples/triage-pystack as a user runs it: on the 26-thread stuck service
// (tests/victims/py_stuck_service.py), in text and JSON, blocking and not;
// and its one-line errors and exit codes.
#include <doctest/doctest.h>


#include <algorithm>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "triage/procfs/task_ids.hpp"

namespace {

using namespace triage::testing;

python_interpreter service_python() {
    auto all = machine_interpreters();
    REQUIRE(!all.empty());
    auto debian = std::find_if(all.begin(), all.end(), [](const auto& p) { return p.path == "/usr/bin/python3.11"; });
    return debian != all.end() ? *debian : all.back();
}

} // namespace

TEST_CASE("triage-pystack shows the stuck service's spinning line first, in text and JSON, both modes") {
    scratch_dir dir;
    const std::string script = victim_script("py_stuck_service.py");
    const auto markers = read_markers(script);
    const auto spin_lines = marker_lines(markers, "spin", "stuck");
    const int blocked_line = *marker_lines(markers, "park", "blocked").begin();
    const int main_line = *marker_lines(markers, "park", "main").begin();
    python_interpreter python = service_python();
    CAPTURE(python.label);
    python_process service(python, {script, dir.path() + "/ready"});
    REQUIRE(service.wait_for_file(dir.path() + "/ready"));
    const std::string pid = std::to_string(service.pid());
    // Waiting without stopping it: a thread just released from a ptrace
    // stop is briefly running again on its way back into its futex wait.
    bool settled = false;
    for (int attempt = 0; attempt < 100 && !settled; ++attempt) {
        auto r = run_pystack(pid + " --json --nonblocking --cpu-window 0");
        REQUIRE(r.exit_code == 0);
        settled = stuck_service_settled(nlohmann::json::parse(r.out));
        if (!settled) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(settled);
    auto tids = triage::procfs::task_ids(service.pid());
    REQUIRE(tids);

    for (const std::string mode : {"--nonblocking", ""}) {
        CAPTURE(mode);
        auto r = run_pystack(pid + " --json " + mode);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto doc = nlohmann::json::parse(r.out);
        CHECK(doc["pid"] == service.pid());
        CHECK(doc["python_version"].get<std::string>().starts_with(std::to_string(python.major) + "." +
                                                                     std::to_string(python.minor) + "."));
        CHECK(doc["executable"].get<std::string>().find("python") != std::string::npos);
        CHECK(doc["stopped_ms"].is_number() == mode.empty());
        const auto& threads = doc["threads"];
        REQUIRE(threads.size() == 26);
        // Hottest first: the spinning worker, in find_anchor's loop.
        const auto& hot = threads[0];
        REQUIRE(hot["frames"].size() >= 2);
        CHECK(hot["frames"][0]["function"] == "find_anchor");
        CHECK(hot["frames"][0]["file"] == script);
        CHECK(spin_lines.contains(hot["frames"][0]["line"].get<int>()));
        CHECK(hot["frames"][1]["function"] == "spinning_worker");
        CHECK(hot["cpu_percent"].get<double>() > 0);
        std::set<int> seen;
        int blocked = 0, main_thread = 0;
        for (const auto& t : threads) {
            CHECK(std::find(tids->begin(), tids->end(), t["tid"].get<int>()) != tids->end());
            CHECK(seen.insert(t["tid"].get<int>()).second);
            CHECK(t["name"].is_string());
            CHECK(t["holds_gil"].is_boolean());
            CHECK(t["cpu_percent"].is_number());
            const auto& inner = t["frames"][0];
            if (inner["function"] == "blocked_worker" && inner["line"] == blocked_line) {
                ++blocked;
                CHECK(t["state"] == "idle");
                CHECK(t["holds_gil"] == false);
            }
            const auto& outer = t["frames"].back();  // the main thread waits inside Thread.join
            if (outer["function"] == "<module>" && outer["line"] == main_line) {
                ++main_thread;
                CHECK(t["tid"] == service.pid());
            }
        }
        CHECK(blocked == 24);
        CHECK(main_thread == 1);
    }

    auto text = run_pystack(pid);
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.starts_with("Process " + pid + ": "));
    CHECK(text.out.find("Python " + std::to_string(python.major) + "." + std::to_string(python.minor)) != std::string::npos);
    CHECK(text.out.find("Target stopped for ") != std::string::npos);
    auto first_thread = text.out.find("\nThread ");
    REQUIRE(first_thread != std::string::npos);
    auto first_frame = text.out.find("    find_anchor (" + script + ":", first_thread);
    CHECK(first_frame != std::string::npos);
    CHECK(first_frame < text.out.find("\nThread ", first_thread + 1));
    CHECK(text.out.find("    blocked_worker (" + script + ":" + std::to_string(blocked_line) + ")") != std::string::npos);

    std::string state = service.state();
    CHECK(!state.empty());
    CHECK(state != "t");
    CHECK(state != "T");
}

TEST_CASE("triage-pystack refuses what it cannot read with one line and exit 1, usage errors with exit 2") {
    scratch_dir dir;
    python_process not_python({"/bin/sleep", "/bin/sleep", 0, 0}, {"60"});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = run_pystack(std::to_string(not_python.pid()));
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("not a Python process") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

    pid_t gone = not_python.pid();
    not_python.stop();
    r = run_pystack(std::to_string(gone));
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no such process") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

    CHECK(run_pystack("").exit_code == 2);
    CHECK(run_pystack("12 --no-such-option").exit_code == 2);
    CHECK(run_pystack("not-a-pid").exit_code == 2);
}
