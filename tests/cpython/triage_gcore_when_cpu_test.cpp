// triage-gcore --when-cpu PCT --for S [--stacks]: on a Python service that
// turns hot after a delay (tests/victims/py_turns_hot.py) it waits, reading
// /proc only, until the thread that turned hot stayed hot for the window,
// records its Python stacks when asked, and writes a core with that thread
// first; a timeout, Ctrl+C during the wait and usage errors leave no file,
// and the service runs on untouched.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/cpython/python_stacks.hpp"

using triage::test_support::failure_text;

using namespace triage::testing;

namespace {

std::string gcore_tool() { return std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore"; }

std::string text_of(const std::string& path) {
    std::stringstream text;
    text << std::ifstream{path}.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("triage-gcore --when-cpu waits for the thread that turns hot, records its stacks, dumps it first") {
    const python_interpreter python = service_python();
    triage::test_support::scratch_dir dir{"when_cpu"};
    const std::string hot_file = dir / "hot";
    python_process victim(python, {victim_script("py_turns_hot.py"), dir / "ready", hot_file, "1.5"});
    REQUIRE(victim.wait_for_file(dir / "ready"));
    const std::string pid = std::to_string(victim.pid());
    const std::string core = dir / "core";

    auto r = triage::test_support::run_command({gcore_tool(), pid, "--when-cpu", "40", "--for", "0.6", "--every", "200",
                                                "--stacks", "--stacks-for", "1", "--json", "-o", core});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(std::filesystem::exists(hot_file));  // it fired after the service turned hot, not before
    const auto report = nlohmann::json::parse(r.out);
    CHECK(report["trigger"]["scope"] == "thread");
    CHECK(report["trigger"]["tid"] == victim.pid());  // the main thread spins
    REQUIRE(report["trigger"]["cpu_percent"].size() == 3);
    for (const auto& p : report["trigger"]["cpu_percent"]) CHECK(p.get<double>() >= 40);
    CHECK(report["first_thread"] == victim.pid());
    CHECK(report["profile"]["samples"].get<int>() > 20);
    const std::string folded = text_of(core + ".folded");
    CHECK(folded.find("turned_hot (") != std::string::npos);
    CHECK(folded.find("waiting (") == std::string::npos);  // the sleep is over, and idle samples are left out
    auto stacks = triage::cpython::python_stacks(core);
    REQUIRE_MESSAGE(stacks, failure_text(stacks));
    const auto hot = std::ranges::find_if(stacks->threads, [&](const auto& t) { return t.tid == victim.pid(); });
    REQUIRE(hot != stacks->threads.end());
    REQUIRE_FALSE(hot->frames.empty());
    CHECK(hot->frames.front().function == "turned_hot");
    CHECK(victim.running());

    // Text: the trigger's line, the profile's, then the dump's report.
    const std::string core2 = dir / "core2";
    r = triage::test_support::run_command({gcore_tool(), pid, "--when-cpu", "40", "--for", "0.2", "--every", "100",
                                           "--thread", pid, "--stacks", "--stacks-for", "0.3", "-o", core2});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("thread " + pid + " stayed at 40% CPU or more for 2 intervals of 100 ms") != std::string::npos);
    CHECK(r.out.find("hottest: turned_hot (") != std::string::npos);
    CHECK(std::filesystem::exists(core2));
    CHECK(std::filesystem::exists(core2 + ".folded"));
    CHECK(victim.running());
}

TEST_CASE("triage-gcore --when-cpu: a timeout, Ctrl+C while waiting and usage errors write nothing") {
    const python_interpreter python = service_python();
    triage::test_support::scratch_dir dir{"when_cpu_fail"};
    python_process victim(python, {victim_script("py_turns_hot.py"), dir / "ready", dir / "hot", "3600"});
    REQUIRE(victim.wait_for_file(dir / "ready"));
    const std::string pid = std::to_string(victim.pid());
    const std::string core = dir / "core";

    auto r = triage::test_support::run_command({gcore_tool(), pid, "--when-cpu", "50", "--for", "10", "--every", "100",
                                                "--timeout", "0.5", "-o", core});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no thread stayed at 50% CPU or more for 100 intervals of 100 ms within 500 ms") != std::string::npos);
    r = triage::test_support::run_command({gcore_tool(), pid, "--when-cpu", "50", "--for", "1", "--process", "--timeout", "0.3",
                                           "-o", core});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("the process did not stay at 50% CPU") != std::string::npos);
    r = triage::test_support::run_command({gcore_tool(), pid, "--when-cpu", "50", "--for", "1", "--thread", "1", "-o", core});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("thread 1 is not one of its threads") != std::string::npos);

    triage::test_support::child_process waiting{{gcore_tool(), pid, "--when-cpu", "50", "--for", "1", "--stacks", "-o", core},
                                                triage::test_support::spawn_options{.capture_stderr = true}};
    std::this_thread::sleep_for(std::chrono::milliseconds{700});
    ::kill(waiting.pid(), SIGINT);
    auto status = waiting.wait_for_exit(std::chrono::seconds{10});
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 1);

    for (const std::vector<std::string>& usage : {std::vector<std::string>{"--when-cpu", "50"},
                                                  std::vector<std::string>{"--for", "2"},
                                                  std::vector<std::string>{"--thread", pid},
                                                  std::vector<std::string>{"--when-cpu", "50", "--for", "1", "--thread", pid, "--process"},
                                                  std::vector<std::string>{"--when-cpu", "0", "--for", "1"}}) {
        std::vector<std::string> args{gcore_tool(), pid, "-o", core};
        args.insert(args.end(), usage.begin(), usage.end());
        CHECK(triage::test_support::run_command(args).exit_code == 2);
    }
    CHECK_FALSE(std::filesystem::exists(core));
    CHECK_FALSE(std::filesystem::exists(core + ".folded"));
    CHECK(victim.running());
}
