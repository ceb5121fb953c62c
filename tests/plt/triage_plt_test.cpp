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
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "plt/loop_victim.hpp"
#include "plt/text_differences.hpp"
#include "support/child_process.hpp"
#include "support/run_command.hpp"
#include "triage/procfs/status.hpp"

namespace {

using triage::test_support::child_process;

const std::string triage_plt = std::string(TRIAGE_EXAMPLE_DIR) + "/triage-plt";

// TracerPid of `pid`.
pid_t tracer_of(pid_t pid) {
    auto status = triage::procfs::read_status(pid);
    REQUIRE(status);
    return status->tracer_pid;
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

TEST_CASE("triage-plt counts each function's calls per thread exactly, for every build and both backends; Ctrl+C "
          "ends the window") {
    // int3 on a stub build and on -fno-plt (each build with int3: tests/plt/int3_counter_test.cpp).
    const std::vector<std::pair<std::string, std::string>> runs{
        {"classic", "perf"}, {"ibt", "perf"},    {"bindnow", "perf"}, {"nopie", "perf"},
        {"static", "perf"},  {"noplt", "perf"},  {"classic", "int3"}, {"noplt", "int3"}};
    for (const auto& [variant, backend] : runs) {
        CAPTURE(variant);
        CAPTURE(backend);
        loop_victim v(variant);
        // int3 on -fno-plt stops the whole victim at each call: strlen alone there.
        const bool stepped = variant == "noplt" && backend == "int3";
        std::vector<std::string> argv{triage_plt, std::to_string(v.pid), "--json", "--duration", "120000", "--object",
                                      "plt_loop_*", "--teardown-budget", "60000", "--backend", backend};
        for (const char* f : {"strlen", "memset", "strchr", "malloc", "free"}) {
            if (stepped && std::string_view{f} != "strlen") continue;
            argv.insert(argv.end(), {"-e", f});
        }
        child_process tool(argv, {.capture_stderr = true});
        tool.wait_for_stderr("triage-plt: counting the calls at ");
        const auto tids = v.run();
        ::kill(tool.pid(), SIGINT);
        const auto doc = run_json(tool);
        CHECK(doc["interrupted"] == true);
        CHECK(doc["backend"] == backend);
        if (backend == "int3") CHECK(doc["target_stopped_ms"].get<double>() > 0);
        if (backend == "int3") CHECK((doc["world_stops"].get<std::uint64_t>() > 0) == (variant == "noplt"));
        const auto calls = calls_by_function(doc);
        // A static executable calls only its ifuncs through stubs: malloc and free are direct calls.
        const std::vector<std::string> functions = stepped ? std::vector<std::string>{"strlen"}
                                                   : variant == "static"
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
    for (const std::string backend : {"perf", "int3"}) {
        CAPTURE(backend);
        loop_victim v("bindnow");
        child_process tool({triage_plt, std::to_string(v.pid), "--json", "--duration", "120000", "--object", "plt_loop_*",
                            "-e", "strlen", "--teardown-budget", "60000", "--backend", backend},
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
            CHECK(doc["hot_cpu_percent"].get<double>() > 20);  // the hottest thread; CI runs this beside a build: no share of a core is certain
            CHECK(doc["total_calls"].get<std::uint64_t>() > 0);
            REQUIRE(doc["threads"].size() == 1);
            CHECK(doc["threads"][0]["tid"] == doc["thread"]);
        }
        // Each way of ending, on the first interpreter only: closing every probe costs ~50 ms each (plt::teardown_cost).
        for (const auto& [backend, signal] : std::vector<std::pair<std::string, int>>{
                 {"perf", SIGINT}, {"perf", SIGTERM}, {"perf", SIGKILL},
                 {"int3", SIGINT}, {"int3", SIGTERM}, {"int3", SIGKILL}}) {
            if (&python != &pythons.front()) break;
            CAPTURE(backend);
            CAPTURE(signal);
            child_process tool({triage_plt, std::to_string(service.pid()), "-e", "memset@*python3*", "--json",
                                "--duration", "120000", "--teardown-budget", "60000", "--backend", backend},
                               {.capture_stderr = true});
            tool.wait_for_stderr("triage-plt: counting the calls at ");
            std::this_thread::sleep_for(std::chrono::milliseconds{200});
            ::kill(tool.pid(), signal);
            if (signal == SIGKILL) {
                auto status = tool.wait_for_exit(std::chrono::seconds{120});  // the kernel closes the probes first
                REQUIRE(status);
                CHECK(WIFSIGNALED(*status));
                // int3: the guardian sees the tool gone, writes the bytes back and detaches.
                for (int i = 0; i < 1000 && tracer_of(service.pid()) != 0; ++i)
                    std::this_thread::sleep_for(std::chrono::milliseconds{10});
                CHECK(tracer_of(service.pid()) == 0);
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

TEST_CASE("triage-plt --trace: each call with its arguments, typed by DWARF or by the pattern, and the window ends "
          "after N") {
    loop_victim v("classic");
    child_process tool({triage_plt, std::to_string(v.pid), "--json", "--duration", "120000", "--object", "plt_loop_*",
                        "-e", "strlen", "-e", "strchr(s,c)", "-e", "memset", "--trace", "40"},
                       {.capture_stderr = true});
    tool.wait_for_stderr("triage-plt: counting the calls at ");
    v.run();
    const auto doc = run_json(tool);
    CHECK(doc["backend"] == "int3");
    CHECK(doc["trace_full"] == true);
    CHECK(doc["interrupted"] == false);
    REQUIRE(doc["trace"].size() == 40);
    std::map<std::string, int> seen;
    for (const auto& c : doc["trace"]) {
        const std::string call = c["call"];
        CAPTURE(call);
        const std::string function = c["function"];
        ++seen[function];
        CHECK(c["tid"].get<pid_t>() != v.pid);  // the workers make them
        CHECK(c["called_from"].get<std::string>().starts_with("worker+0x"));  // the victim's loop
        if (function == "strlen") {
            CHECK(call == "strlen(\"a string of some length\")");
            CHECK(c["types_from"] == "DWARF of plt_loop_classic");  // its own -g declares what it calls
        } else if (function == "strchr") {
            CHECK(call == "strchr(\"a string of some length\", 'g')");
            CHECK(c["types_from"] == "-e");
        } else {
            REQUIRE(function == "memset");  // memset(buffer, i, 32): a stack address, the loop's i as an int, a size_t
            // Where the thread's stack lies is the kernel's choice (0x7f… or,
            // lower in the address space, 0x7e…): only its form is checked.
            CHECK(std::regex_match(call, std::regex{R"(memset\(0x[0-9a-f]{8,12}, [0-9]+, 32\))"}));
        }
    }
    CHECK(seen.size() == 3);
    CHECK(text_differences(v.pid).empty());

    auto perf = triage::test_support::run_command({triage_plt, std::to_string(v.pid), "--trace", "5", "--backend", "perf"});
    CHECK(perf.exit_code == 2);
    CHECK(perf.err.find("--trace reads each call's arguments") != std::string::npos);
    auto letter = triage::test_support::run_command({triage_plt, std::to_string(v.pid), "-e", "strchr(s,q)", "--trace", "5"});
    CHECK(letter.exit_code == 1);
    CHECK(letter.err.find("no argument format 'q'") != std::string::npos);
}

TEST_CASE("triage-plt --trace on the incident's interpreter: pyenv 2.7.18's enumerate() passes \"O|O:enumerate\" to "
          "strchr through libpython's PLT") {
    using namespace triage::testing;
    const python_interpreter* python27 = nullptr;
    const auto pythons = machine_interpreters();
    for (const auto& p : pythons)
        if (p.label == "pyenv 2.7.18") python27 = &p;
    if (python27 == nullptr) {
        MESSAGE("pyenv 2.7.18 is not on this machine");
        return;
    }
    scratch_dir dir;
    const std::string script = dir.path() + "/enumerate_loop.py";
    {
        std::ofstream out(script);
        out << "items = list(range(10))\nopen(" << nlohmann::json(dir.path() + "/ready").dump()
            << ", 'w').close()\nwhile True:\n    for i, x in enumerate(items):\n        pass\n";
    }
    python_process loop(*python27, {script});
    REQUIRE(loop.wait_for_file(dir.path() + "/ready"));
    for (const std::string pattern : {"strchr@libpython2.7*", "strchr(s,c)@libpython2.7*"}) {
        CAPTURE(pattern);
        child_process tool({triage_plt, std::to_string(loop.pid()), "-e", pattern, "--trace", "3", "--json"},
                           {.capture_stderr = true});
        const auto doc = run_json(tool);
        REQUIRE(doc["trace"].size() == 3);
        for (const auto& c : doc["trace"]) {
            // With the pattern's letters, the int is shown as the character it holds; by DWARF, as an int.
            CHECK(c["call"] == (pattern.find('(') != std::string::npos ? "strchr(\"O|O:enumerate\", ':')"
                                                                       : "strchr(\"O|O:enumerate\", 58)"));
            CHECK(c["caller"].get<std::string>().ends_with("libpython2.7.so.1.0"));
            // As gdb's backtrace at a breakpoint on strchr shows: called from vgetargskeywords (PyArg_ParseTupleAndKeywords).
            CHECK(c["called_from"].get<std::string>().starts_with("vgetargskeywords+0x"));
            CHECK(c["called_from"].get<std::string>().ends_with(" in libpython2.7.so.1.0"));
        }
        CHECK(text_differences(loop.pid()).empty());
    }
}

TEST_CASE("triage-plt refuses what it cannot do in one line: the teardown budget, nothing to probe, usage errors") {
    loop_victim v("classic");
    auto over = triage::test_support::run_command(
        {triage_plt, std::to_string(v.pid), "-e", "str*", "--teardown-budget", "0", "--duration", "10", "--backend", "perf"});
    CHECK(over.exit_code == 1);
    CHECK(over.err.find("the kernel removes uprobes one at a time") != std::string::npos);
    CHECK(over.err.find("--hot") != std::string::npos);
    CHECK(text_differences(v.pid).empty());
    // Left to choose, it counts with int3 breakpoints instead, and says why.
    auto fallback = triage::test_support::run_command(
        {triage_plt, std::to_string(v.pid), "-e", "str*", "--teardown-budget", "0", "--duration", "10"});
    CHECK(fallback.exit_code == 0);
    CHECK(fallback.out.find("backend: int3") != std::string::npos);
    CHECK(fallback.out.find("uprobes not used: the kernel removes uprobes one at a time") != std::string::npos);
    CHECK(text_differences(v.pid).empty());
    // Without CAP_PERFMON and CAP_SYS_ADMIN (uprobes need one of them), ptrace is still allowed: int3, and why.
    auto unprivileged = triage::test_support::run_command(
        {"setpriv", "--inh-caps=-perfmon,-sys_admin", "--bounding-set=-perfmon,-sys_admin", "--", triage_plt,
         std::to_string(v.pid), "-e", "strlen", "--duration", "10"});
    CAPTURE(unprivileged.err);
    CHECK(unprivileged.exit_code == 0);
    CHECK(unprivileged.out.find("backend: int3") != std::string::npos);
    CHECK(unprivileged.out.find("uprobes cannot be used: permission denied") != std::string::npos);
    auto forced = triage::test_support::run_command(
        {"setpriv", "--inh-caps=-perfmon,-sys_admin", "--bounding-set=-perfmon,-sys_admin", "--", triage_plt,
         std::to_string(v.pid), "-e", "strlen", "--duration", "10", "--backend", "perf"});
    CHECK(forced.exit_code == 1);
    CHECK(forced.err.find("permission denied") != std::string::npos);
    CHECK(text_differences(v.pid).empty());

    auto nothing = triage::test_support::run_command({triage_plt, std::to_string(v.pid), "-e", "no_such_function_here"});
    CHECK(nothing.exit_code == 1);
    CHECK(nothing.err.find("no call site matches") != std::string::npos);

    for (const auto& args : std::vector<std::vector<std::string>>{
             {}, {"--hot", "--tid", "5", "1"}, {"1", "--duration", "0"}, {"1", "--bogus"}, {"0x10"},
             {"1", "--backend", "uprobe"}}) {
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
