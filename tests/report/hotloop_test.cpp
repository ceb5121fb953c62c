// examples/triage-hotloop and the three in-house tools (triage-watch,
// triage-threads, triage-stackdiff) as a user runs them, on real Python
// victims: the stuck service (tests/victims/py_stuck_service.py, its
// `spin:`/`park:` markers) and a process that moves on once
// (py_two_stages.py); and the loop judgement they rest on.
#include <doctest/doctest.h>

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/report/loop_evidence.hpp"

using triage::test_support::failure_text;

namespace {

using namespace triage::testing;

std::string tool(const std::string& name) { return std::string(TRIAGE_EXAMPLE_DIR) + "/" + name; }

// The victim runs on: alive, not stopped, not traced.
void check_left_running(pid_t pid) {
    CHECK(::kill(pid, 0) == 0);
    CHECK_FALSE(triage::test_support::any_thread_stopped(pid));
    CHECK(triage::test_support::tracer_pid(pid) == 0);
}

// The stuck service, started and ready.
struct stuck_service {
    scratch_dir dir;
    std::string script = victim_script("py_stuck_service.py");
    std::set<int> spin_lines = marker_lines(read_markers(script), "spin", "stuck");
    python_process process{service_python(), {script, dir.path() + "/ready"}};
    stuck_service() { REQUIRE(process.wait_for_file(dir.path() + "/ready")); }
    [[nodiscard]] std::string pid() const { return std::to_string(process.pid()); }
};

// A thread of a JSON report whose innermost frame is the spinner's.
bool in_find_anchor(const nlohmann::json& frames) { return !frames.empty() && frames[0]["function"] == "find_anchor"; }

} // namespace

TEST_CASE("triage-hotloop names the spinning thread, its function and line, in one stop, and leaves the service running") {
    stuck_service service;
    // On a loaded machine the spinner may wait for a core through much of
    // a window: a low --hot, and ask again (bounded) until it is hot.
    nlohmann::json doc;
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto r = run_tool(tool("triage-hotloop"), service.pid() + " --json --hot 5");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        doc = nlohmann::json::parse(r.out);
        if (!doc["hot_threads"].empty() && in_find_anchor(doc["hot_threads"][0]["frames"])) break;
    }
    CHECK(doc["pid"] == service.process.pid());
    CHECK(doc["stops"] == 1);
    CHECK(doc["stopped_ms"].get<double>() > 0);
    CHECK(doc["threads"] == 26);
    CHECK(doc["python_version"].get<std::string>().starts_with("3."));
    CHECK(doc["python_error"].is_null());
    CHECK(doc["syscall_window_ms"].is_null());
    CHECK(doc["core"].is_null());
    CHECK(doc["changed_files"].is_array());
    CHECK(doc["files_checked"].get<int>() > 0);
    REQUIRE(doc["hot_threads"].size() >= 1);
    const auto& hot = doc["hot_threads"][0];
    REQUIRE(in_find_anchor(hot["frames"]));
    const int line = hot["frames"][0]["line"].get<int>();
    CHECK(service.spin_lines.contains(line));
    CHECK(hot["frames"][0]["file"] == service.script);
    CHECK(hot["frames"][1]["function"] == "spinning_worker");
    CHECK(hot["holds_gil"] == true);
    CHECK(hot["in_user_space"] == true);
    CHECK(hot["cpu_percent"].get<double>() >= 5);
    CHECK(doc["busiest"].is_null());
    CHECK(hot["voluntary_switches"].is_number());
    CHECK(hot["native_frames"] == "not available yet");
    CHECK(hot["library_calls"] == "not available yet");
    auto tids = triage::procfs::task_ids(service.process.pid());
    REQUIRE(tids);
    CHECK(std::ranges::find(*tids, hot["tid"].get<pid_t>()) != tids->end());
    // The samples: every line seen is one of the loop's, in find_anchor.
    const auto& loop = hot["loop"];
    CHECK(loop["samples"].get<int>() >= 1);
    CHECK(loop["function"] == "find_anchor");
    for (const auto& l : loop["lines"]) CHECK(service.spin_lines.contains(l.get<int>()));
    const std::string verdict = doc["verdict"];
    CAPTURE(verdict);
    CHECK(verdict.find("thread " + std::to_string(hot["tid"].get<int>())) != std::string::npos);
    CHECK(verdict.find("`find_anchor` (" + service.script + ":" + std::to_string(line) + ")") != std::string::npos);
    CHECK(verdict.find("holding the GIL") != std::string::npos);
    CHECK(verdict.find("stopped once") != std::string::npos);
    // "a loop" only with the evidence for it.
    CHECK((verdict.find("in a loop") != std::string::npos) == loop["looping"].get<bool>());
    check_left_running(service.process.pid());

    auto text = run_tool(tool("triage-hotloop"), service.pid());
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("Native frames: not available yet") != std::string::npos);
    CHECK(text.out.find("Library calls: not available yet") != std::string::npos);
    CHECK(text.out.find("\nVerdict\n") != std::string::npos);
    auto markdown = run_tool(tool("triage-hotloop"), service.pid() + " --markdown");
    REQUIRE(markdown.exit_code == 0);
    CHECK(markdown.out.starts_with("## triage-hotloop: process " + service.pid()));
    CHECK(markdown.out.find("`find_anchor`") != std::string::npos);
    check_left_running(service.process.pid());
}

TEST_CASE("triage-hotloop --core writes a core from the same stop, the hot thread first, readable by python_stacks") {
    stuck_service service;
    const std::string core = service.dir.path() + "/hot.core";
    auto r = run_tool(tool("triage-hotloop"), service.pid() + " --json --hot 5 --core " + core);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["stops"] == 1);
    REQUIRE(doc["core"].is_object());
    CHECK(doc["core"]["path"] == core);
    CHECK(doc["core"]["threads"] == 26);
    if (!doc["hot_threads"].empty()) CHECK(doc["core"]["first_thread"] == doc["hot_threads"][0]["tid"]);
    CHECK(doc["verdict"].get<std::string>().find("A core was saved to " + core) != std::string::npos);
    auto stacks = triage::cpython::python_stacks(core);
    REQUIRE_MESSAGE(stacks, failure_text(stacks));
    CHECK(stacks->threads.size() == 26);
    CHECK(std::ranges::any_of(stacks->threads, [&](const auto& t) {
        return !t.frames.empty() && t.frames[0].function == "find_anchor" && service.spin_lines.contains(t.frames[0].line.value_or(0));
    }));
    check_left_running(service.process.pid());

    auto refused = run_tool(tool("triage-hotloop"), service.pid() + " --core " + core);  // exists: never replaced
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.starts_with("triage-hotloop: "));
    CHECK(std::ranges::count(refused.err, '\n') == 1);
    auto usage = run_tool(tool("triage-hotloop"), service.pid() + " --json --markdown");
    CHECK(usage.exit_code == 2);
    CHECK(run_tool(tool("triage-hotloop"), "0x10").exit_code == 2);
    check_left_running(service.process.pid());
}

TEST_CASE("triage-watch waits for the hot thread, then prints its stack and writes a core with it first") {
    stuck_service service;
    const std::string core = service.dir.path() + "/watch.core";
    auto r = run_tool(tool("triage-watch"), service.pid() + " --cpu 20 --samples 2 --interval 100 --timeout 60000 -o " + core);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("stayed hot") != std::string::npos);
    CHECK(r.out.find("    find_anchor (" + service.script + ":") != std::string::npos);
    CHECK(r.out.find("    spinning_worker (") != std::string::npos);
    CHECK(r.out.find("stopped once") != std::string::npos);
    auto stacks = triage::cpython::python_stacks(core);
    REQUIRE_MESSAGE(stacks, failure_text(stacks));
    CHECK(std::ranges::any_of(stacks->threads, [](const auto& t) { return !t.frames.empty() && t.frames[0].function == "find_anchor"; }));
    check_left_running(service.process.pid());

    // Ten seconds of hot intervals cannot fit in a 200 ms timeout.
    auto never = run_tool(tool("triage-watch"), service.pid() + " --cpu 50 --samples 1000 --interval 10 --timeout 200 -o " +
                                                    service.dir.path() + "/never.core");
    CHECK(never.exit_code == 1);
    CHECK(never.err.find("no thread stayed at 50% CPU") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(service.dir.path() + "/never.core"));
    check_left_running(service.process.pid());
}

TEST_CASE("triage-threads prints one JSON object per thread, joined with its Python stack") {
    stuck_service service;
    auto r = run_tool(tool("triage-threads"), service.pid() + " --interval 100");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto tids = triage::procfs::task_ids(service.process.pid());
    REQUIRE(tids);
    std::istringstream lines(r.out);
    int count = 0, spinning = 0, futex = 0;
    std::set<int> seen;
    for (std::string line; std::getline(lines, line); ++count) {
        const auto t = nlohmann::json::parse(line);
        CHECK(std::ranges::find(*tids, t["tid"].get<pid_t>()) != tids->end());
        CHECK(seen.insert(t["tid"].get<int>()).second);
        CHECK(t["cpu_percent"].is_number());
        CHECK(t["name"].is_string());
        REQUIRE(t["frames"].is_array());
        if (in_find_anchor(t["frames"])) {
            ++spinning;
            CHECK(t["holds_gil"] == true);
        }
        if (t["syscall"] == "futex") ++futex;
    }
    CHECK(count == 26);
    CHECK(spinning == 1);
    CHECK(futex >= 24);  // the blocked workers (and the main thread in join)
    check_left_running(service.process.pid());
}

TEST_CASE("triage-stackdiff shows the thread that moved between two cores, and nothing for the one that did not; "
          "triage-hotloop on a calm process") {
    scratch_dir dir;
    const std::string script = victim_script("py_two_stages.py");
    python_process victim(service_python(), {script, dir.path()});
    REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
    const std::string pid = std::to_string(victim.pid());
    const std::string first = dir.path() + "/first.core", second = dir.path() + "/second.core";
    REQUIRE(run_tool(tool("triage-gcore"), pid + " -o " + first).exit_code == 0);
    std::ofstream(dir.path() + "/go").put('\n');
    REQUIRE(victim.wait_for_file(dir.path() + "/second"));
    REQUIRE(run_tool(tool("triage-gcore"), pid + " -o " + second).exit_code == 0);
    check_left_running(victim.pid());

    // Nothing hot here: hotloop says so, and investigates the busiest thread.
    auto calm = run_tool(tool("triage-hotloop"), pid + " --json");
    INFO(calm.err);
    REQUIRE(calm.exit_code == 0);
    const auto quiet = nlohmann::json::parse(calm.out);
    CHECK(quiet["hot_threads"].empty());
    REQUIRE(quiet["busiest"].is_object());
    CHECK(quiet["busiest"]["frames"].is_array());
    CHECK(quiet["stops"] == 1);
    CHECK(quiet["verdict"].get<std::string>().find("no thread used 50% of a CPU") != std::string::npos);
    check_left_running(victim.pid());

    auto r = run_tool(tool("triage-stackdiff"), first + " " + second);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CAPTURE(r.out);
    CHECK(r.out.find(": 1 threads the same, 1 moved") != std::string::npos);
    CHECK(r.out.find("\nThread " + pid + " (") != std::string::npos);
    const auto before = r.out.find("  before:\n"), after = r.out.find("  after:\n");
    REQUIRE(before != std::string::npos);
    REQUIRE(after != std::string::npos);
    CHECK(r.out.find("    first_stage (" + script + ":", before) < after);
    CHECK(r.out.find("    second_stage (" + script + ":", after) != std::string::npos);
    CHECK(r.out.find("parked") == std::string::npos);  // the worker did not move

    auto same = run_tool(tool("triage-stackdiff"), first + " " + first);
    REQUIRE(same.exit_code == 0);
    CHECK(same.out.find(": 2 threads the same, 0 moved") != std::string::npos);
    auto missing = run_tool(tool("triage-stackdiff"), first + " " + dir.path() + "/none.core");
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.starts_with("triage-stackdiff: "));
}

TEST_CASE("loop_evidence_of: a loop only when the line went back in the same function called from the same place") {
    using triage::cpython::python_frame;
    auto frame = [](const char* function, std::uint64_t code, int line) {
        return python_frame{function, function, "f.py", line, code, 0, 0};
    };
    const python_frame caller = frame("caller", 1, 10);
    std::vector<std::vector<python_frame>> going_round = {
        {frame("spin", 2, 20), caller}, {frame("helper", 3, 5), frame("spin", 2, 22), caller}, {frame("spin", 2, 20), caller}};
    auto loop = triage::report::loop_evidence_of(going_round);
    REQUIRE(loop.anchor);
    CHECK(loop.anchor->function == "spin");
    CHECK(loop.lines == std::vector<int>{20, 22, 20});
    CHECK(loop.looping());
    CHECK(loop.back_from == 22);
    CHECK(loop.back_to == 20);
    CHECK_FALSE(loop.same_line());

    std::vector<std::vector<python_frame>> one_line(3, {frame("spin", 2, 20), caller});
    CHECK(triage::report::loop_evidence_of(one_line).same_line());
    CHECK_FALSE(triage::report::loop_evidence_of(one_line).looping());

    // Called from another line each time: the anchor is the caller, whose
    // line went forward only.
    std::vector<std::vector<python_frame>> progressing = {
        {frame("spin", 2, 20), frame("caller", 1, 10)}, {frame("spin", 2, 20), frame("caller", 1, 11)}, {frame("spin", 2, 20), frame("caller", 1, 12)}};
    auto moving = triage::report::loop_evidence_of(progressing);
    REQUIRE(moving.anchor);
    CHECK(moving.anchor->function == "caller");
    CHECK_FALSE(moving.looping());
    CHECK_FALSE(moving.same_line());
    CHECK_FALSE(triage::report::loop_evidence_of(std::vector<std::vector<python_frame>>{{}}).anchor);
}
