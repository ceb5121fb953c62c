// triage-plt, the program: exact per-thread, per-function counts on the C
// victim built every way (the window ended by Ctrl+C after the victim made
// its calls), the 26-thread Python service on Debian's python3.11 (static
// libpython, non-PIE) and on a pyenv build (shared libpython), the target
// left running with every executable mapping as its file holds it after
// triage-plt is ended by SIGINT, SIGTERM or SIGKILL mid-window, the
// refusal to leave a target probed for longer than the teardown budget, a
// target that exits mid-window,
// and usage errors.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "plt/loop_victim.hpp"
#include "support/child_process.hpp"
#include "support/run_command.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/procfs/maps.hpp"

namespace {

using triage::test_support::child_process;

const std::string triage_plt = std::string(TRIAGE_EXAMPLE_DIR) + "/triage-plt";

// The executable file mappings of `pid` whose bytes differ from their file's
// at the same offsets ("" when none): a uprobe or an int3 left behind shows.
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

nlohmann::json run_json(child_process& tool) {
    auto status = tool.wait_for_exit(std::chrono::seconds{120});
    REQUIRE(status);
    INFO(tool.captured_stderr());
    REQUIRE(WIFEXITED(*status));
    REQUIRE(WEXITSTATUS(*status) == 0);
    return nlohmann::json::parse(tool.unread_stdout());
}

// calls[function][tid], summed over the rows (callers) of the document.
std::map<std::string, std::map<pid_t, std::uint64_t>> calls_by_function(const nlohmann::json& doc) {
    std::map<std::string, std::map<pid_t, std::uint64_t>> out;
    for (const auto& f : doc["functions"]) {
        for (const auto& t : f["threads"]) out[f["function"]][t["tid"].get<pid_t>()] += t["calls"].get<std::uint64_t>();
    }
    return out;
}

} // namespace

TEST_CASE("triage-plt counts each function's calls per thread exactly, for every build; Ctrl+C ends the window") {
    for (const std::string variant : {"classic", "ibt", "bindnow", "nopie", "static", "noplt"}) {
        CAPTURE(variant);
        loop_victim v(variant);
        child_process tool({triage_plt, std::to_string(v.pid), "--json", "--duration", "120000", "--object",
                            "plt_loop_*", "-e", "strlen", "-e", "memset", "-e", "strchr", "-e", "malloc", "-e",
                            "free", "--teardown-budget", "60000"},
                           {.capture_stderr = true});
        tool.wait_for_stderr("triage-plt: counting the calls at ");
        const auto tids = v.run();
        ::kill(tool.pid(), SIGINT);
        const auto doc = run_json(tool);
        CHECK(doc["interrupted"] == true);
        CHECK(doc["backend"] == "perf");
        const auto calls = calls_by_function(doc);
        // A static executable calls only its ifuncs through stubs: malloc and free are direct calls.
        const std::vector<std::string> functions = variant == "static"
                                                       ? std::vector<std::string>{"memset", "strchr", "strlen"}
                                                       : std::vector<std::string>{"free", "malloc", "memset", "strchr", "strlen"};
        for (const auto& function : functions) {
            CAPTURE(function);
            REQUIRE(calls.contains(function));
            for (const auto& [k, tid] : tids) {
                CAPTURE(k);
                CHECK(calls.at(function).contains(tid));
                if (calls.at(function).contains(tid)) CHECK(calls.at(function).at(tid) == static_cast<std::uint64_t>((k + 1) * 1000));
            }
        }
        if (variant == "noplt") {  // counted at the function in libc, for every caller
            for (const auto& f : doc["functions"]) CHECK(f["caller"].is_null());
        } else if (variant != "static") {
            CHECK(calls.size() == functions.size());
            for (const auto& [function, by_tid] : calls) CHECK(!by_tid.contains(v.pid));  // the main thread made none
        }
        CHECK(doc["threads"].size() == 5);
        CHECK(text_differences(v.pid).empty());
    }
}

TEST_CASE("triage-plt --per-thread: each thread's own table, with its own counts") {
    loop_victim v("classic");
    child_process tool({triage_plt, std::to_string(v.pid), "--per-thread", "--duration", "120000", "--object",
                        "plt_loop_*", "-e", "strlen", "-e", "memset", "--teardown-budget", "60000"},
                       {.capture_stderr = true});
    tool.wait_for_stderr("triage-plt: counting the calls at ");
    const auto tids = v.run();
    ::kill(tool.pid(), SIGINT);
    auto status = tool.wait_for_exit(std::chrono::seconds{120});
    REQUIRE(status);
    REQUIRE(WIFEXITED(*status));
    const std::string text = tool.unread_stdout();
    INFO(text);
    CHECK(text.find("(interrupted)") != std::string::npos);
    // Thread k's line ("TID  NAME  CPU%  CALLS calls"), then its table: strlen and memset, (k + 1) * 1000 each, 50% each.
    for (const auto& [k, tid] : tids) {
        CAPTURE(k);
        const std::string calls = std::to_string((k + 1) * 1000);
        const auto at = text.find("  " + std::to_string(tid) + "  ");
        REQUIRE(at != std::string::npos);
        const std::string table = text.substr(at, 1000);  // its line, its table's header and rows first
        CHECK(table.find(std::to_string(2 * (k + 1) * 1000) + " calls") != std::string::npos);
        for (const std::string function : {"strlen", "memset"}) {
            CAPTURE(function);
            const auto line_start = table.rfind('\n', table.find(function)) + 1;
            const std::string line = table.substr(line_start, table.find('\n', line_start) - line_start);
            CHECK(line.find(" " + calls + " ") != std::string::npos);
            CHECK(line.find("50.0%") != std::string::npos);
        }
    }
}

TEST_CASE("triage-plt: a target that exits during the window ends it, and the counts of its threads stand") {
    loop_victim v("bindnow");
    child_process tool({triage_plt, std::to_string(v.pid), "--json", "--duration", "120000", "--object", "plt_loop_*",
                        "-e", "strlen", "--teardown-budget", "60000"},
                       {.capture_stderr = true});
    tool.wait_for_stderr("triage-plt: counting the calls at ");
    const auto tids = v.run();
    v.end();
    const auto doc = run_json(tool);
    CHECK(doc["target_exited"] == true);
    CHECK(doc["interrupted"] == false);
    const auto calls = calls_by_function(doc);
    REQUIRE(calls.contains("strlen"));
    for (const auto& [k, tid] : tids) {
        CAPTURE(k);
        CHECK(calls.at("strlen").at(tid) == static_cast<std::uint64_t>((k + 1) * 1000));
    }
}

TEST_CASE("triage-plt on the 26-thread Python service: the hot thread's calls, and the service left as it was after each "
          "way triage-plt can end") {
    using namespace triage::testing;
    std::vector<python_interpreter> pythons;
    for (const auto& p : machine_interpreters()) {
        if (p.path == "/usr/bin/python3.11" || p.label == "pyenv 3.11.7") pythons.push_back(p);
    }
    REQUIRE(!pythons.empty());
    for (const auto& python : pythons) {
        CAPTURE(python.label);
        scratch_dir dir;
        python_process service(python, {victim_script("py_stuck_service.py"), dir.path() + "/ready"});
        REQUIRE(service.wait_for_file(dir.path() + "/ready"));

        {  // --hot: the spinning thread's library calls, from whichever object makes them
            child_process tool({triage_plt, std::to_string(service.pid()), "--hot", "-e", "mem*", "-e", "str*",
                                "--object", "*python3*", "--duration", "300", "--json", "--teardown-budget", "60000"},
                               {.capture_stderr = true});
            const auto doc = run_json(tool);
            REQUIRE(doc["thread"].is_number());
            CHECK(doc["hot_cpu_percent"].get<double>() > 50);
            CHECK(doc["total_calls"].get<std::uint64_t>() > 0);
            REQUIRE(doc["threads"].size() == 1);
            CHECK(doc["threads"][0]["tid"] == doc["thread"]);
        }
        // Each way of ending, on the first interpreter only: closing every probe costs ~50 ms each (plt::teardown_cost).
        for (int signal : {SIGINT, SIGTERM, SIGKILL}) {
            if (&python != &pythons.front()) break;
            CAPTURE(signal);
            child_process tool({triage_plt, std::to_string(service.pid()), "-e", "memset@*python3*", "--json",
                                "--duration", "120000", "--teardown-budget", "60000"},
                               {.capture_stderr = true});
            tool.wait_for_stderr("triage-plt: counting the calls at ");
            std::this_thread::sleep_for(std::chrono::milliseconds{200});
            ::kill(tool.pid(), signal);
            if (signal == SIGKILL) {
                auto status = tool.wait_for_exit(std::chrono::seconds{120});  // the kernel closes the probes first
                REQUIRE(status);
                CHECK(WIFSIGNALED(*status));
            } else {
                const auto doc = run_json(tool);
                CHECK(doc["interrupted"] == true);
                CHECK(doc["threads"].size() == 26);  // every thread counted
                CHECK(doc["total_calls"].get<std::uint64_t>() > 0);
            }
            CHECK(text_differences(service.pid()).empty());
            CHECK(triage::test_support::process_state(service.pid()) != 'T');
            CHECK(triage::test_support::process_state(service.pid()) != 't');
        }
    }
}

TEST_CASE("triage-plt refuses what it cannot do in one line: the teardown budget, nothing to probe, usage errors") {
    loop_victim v("classic");
    auto over = triage::test_support::run_command(
        {triage_plt, std::to_string(v.pid), "-e", "str*", "--teardown-budget", "0", "--duration", "10"});
    CHECK(over.exit_code == 1);
    CHECK(over.err.find("the kernel removes uprobes one at a time") != std::string::npos);
    CHECK(over.err.find("--hot") != std::string::npos);
    CHECK(text_differences(v.pid).empty());

    auto nothing = triage::test_support::run_command({triage_plt, std::to_string(v.pid), "-e", "no_such_function_here"});
    CHECK(nothing.exit_code == 1);
    CHECK(nothing.err.find("no call site matches") != std::string::npos);

    for (const auto& args : std::vector<std::vector<std::string>>{
             {}, {"--hot", "--tid", "5", "1"}, {"1", "--duration", "0"}, {"1", "--bogus"}, {"0x10"}}) {
        std::vector<std::string> argv{triage_plt};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = triage::test_support::run_command(argv);
        CAPTURE(r.err);
        CHECK(r.exit_code == 2);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    auto gone = triage::test_support::run_command({triage_plt, "4194303"});
    CHECK(gone.exit_code == 1);
    // A kernel thread (kthreadd's children: parent 2), where this machine shows them.
    std::string kernel_thread;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream status(entry.path() / "status");
        for (std::string line; std::getline(status, line);) {
            if (line == "PPid:\t2") kernel_thread = name;
        }
        if (!kernel_thread.empty()) break;
    }
    if (!kernel_thread.empty()) {
        auto r = triage::test_support::run_command({triage_plt, kernel_thread});
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("maps no ELF object") != std::string::npos);
    }
}
