// Merged native and Python stacks: merge_stacks on frames we write, then
// triage-pystack --native on every interpreter of the machine (live and
// from a core), on Debian's python3.11 with and without its debug files,
// and on a thread that runs no Python (faulthandler's watchdog).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/run_command.hpp"
#include "triage/cpython/merged_stack.hpp"

namespace cpython = triage::cpython;
namespace unwind = triage::unwind;
using json = nlohmann::json;
using namespace triage::testing;

namespace {

unwind::native_symbol named(std::string function) {
    unwind::native_symbol s;
    s.function = std::move(function);
    s.object = "/usr/bin/python3";
    return s;
}

cpython::python_frame python(std::string function, bool entry) {
    cpython::python_frame f;
    f.function = std::move(function);
    f.entry = entry;
    return f;
}

// "C:name" for a native frame, "py:name" for a Python one.
std::vector<std::string> shape(const cpython::merged_stack& m) {
    std::vector<std::string> out;
    for (const auto& f : m.frames) out.push_back(f.python ? "py:" + f.py.function : "C:" + f.symbol.function);
    return out;
}

cpython::merged_stack merge(const std::vector<std::string>& native_names, const std::vector<cpython::python_frame>& py) {
    std::vector<unwind::native_frame> native(native_names.size());
    std::vector<unwind::native_symbol> symbols;
    for (std::size_t i = 0; i < native_names.size(); ++i) {
        native[i].pc = 0x1000 + i;
        symbols.push_back(named(native_names[i]));
    }
    return cpython::merge_stacks(native, symbols, py);
}

// The merged stack of a thread in triage-pystack's JSON: "C:function" or "py:function".
std::vector<std::string> shape(const json& thread) {
    std::vector<std::string> out;
    for (const auto& f : thread["native"]) {
        const bool py = f["kind"] == "python";
        out.push_back((py ? "py:" : "C:") + (f["function"].is_null() ? std::string{"?"} : f["function"].get<std::string>()));
    }
    return out;
}

json pystack_json(const std::string& arguments) {
    auto r = run_pystack(arguments + " --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
}

const json* thread_running(const json& report, const std::string& innermost_python) {
    for (const auto& t : report["threads"])
        if (!t["frames"].empty() && t["frames"][0]["function"] == innermost_python) return &t;
    return nullptr;
}

// What must hold of any merged stack: every Python frame once, in order;
// no evaluation-loop frame left unpaired; the outermost frame native (the
// thread's start), not Python frames left over.
void check_merged(const json& thread) {
    INFO(thread.dump(1));
    std::vector<std::string> python_in_merged, python_alone;
    for (const auto& f : thread["native"])
        if (f["kind"] == "python") python_in_merged.push_back(f["function"]);
    for (const auto& f : thread["frames"]) python_alone.push_back(f["function"]);
    CHECK(python_in_merged == python_alone);
    for (const auto& f : thread["native"])
        if (f["kind"] == "native") CHECK_FALSE(f["eval_loop_unmatched"].get<bool>());
    REQUIRE_FALSE(thread["native"].empty());
    CHECK(thread["native"].back()["kind"] == "native");
    CHECK(thread["native_error"].is_null());
}

} // namespace

TEST_CASE("merge_stacks puts each run of Python frames where its evaluation-loop frame was") {
    // park ← helper (inline) ← keyfunc [entry] ... ; the eval loop runs keyfunc+helper+park in one C call.
    std::vector<cpython::python_frame> py{python("park", false), python("helper", false), python("keyfunc", true),
                                          python("main", true)};
    SUBCASE("as many runs as evaluation-loop frames") {
        auto m = merge({"nanosleep", "time_sleep", "_PyEval_EvalFrameDefault", "list_sort", "_PyEval_EvalFrameDefault",
                        "Py_RunMain", "_start"},
                       py);
        CHECK(shape(m) == std::vector<std::string>{"C:nanosleep", "C:time_sleep", "py:park", "py:helper", "py:keyfunc",
                                                   "C:list_sort", "py:main", "C:Py_RunMain", "C:_start"});
        CHECK(m.unmatched_eval_frames == 0);
        CHECK(m.unmatched_python_frames == 0);
    }
    SUBCASE("the Python walk ended early: outer evaluation-loop frames stay, marked") {
        auto m = merge({"_PyEval_EvalFrameDefault.cold", "_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault", "_start"},
                       {python("park", true)});
        CHECK(shape(m) == std::vector<std::string>{"py:park", "C:_PyEval_EvalFrameDefault", "C:_PyEval_EvalFrameDefault",
                                                   "C:_start"});
        CHECK(m.unmatched_eval_frames == 2);
        CHECK(m.frames[1].eval_loop);
        CHECK_FALSE(m.frames[3].eval_loop);
    }
    SUBCASE("the native walk ended early: the outer Python frames follow the last native frame") {
        auto m = merge({"nanosleep", "_PyEval_EvalFrameDefault"}, py);
        CHECK(shape(m) ==
              std::vector<std::string>{"C:nanosleep", "py:park", "py:helper", "py:keyfunc", "py:main"});
        CHECK(m.unmatched_python_frames == 1);
    }
    SUBCASE("2.7's loop is PyEval_EvalFrameEx; 3.6+'s PyEval_EvalFrameEx only calls _PyEval_EvalFrameDefault") {
        auto old = merge({"select", "PyEval_EvalFrameEx", "PyEval_EvalFrameEx", "main"}, {python("a", true), python("b", true)});
        CHECK(shape(old) == std::vector<std::string>{"C:select", "py:a", "py:b", "C:main"});
        auto v36 = merge({"_PyEval_EvalFrameDefault", "PyEval_EvalFrameEx", "main"}, {python("a", true)});
        CHECK(shape(v36) == std::vector<std::string>{"py:a", "C:PyEval_EvalFrameEx", "C:main"});
    }
    SUBCASE("no Python frames: the native stack as it is") {
        auto m = merge({"epoll_wait", "start_thread", "__clone3"}, {});
        CHECK(shape(m) == std::vector<std::string>{"C:epoll_wait", "C:start_thread", "C:__clone3"});
    }
}

TEST_CASE("triage-pystack --native merges the stacks of every interpreter, live and from a core") {
    for (const python_interpreter& python : machine_interpreters()) {
        CAPTURE(python.label);
        scratch_dir dir;
        python_process victim(python, {source_dir() + "/tests/cpython/py_entry_frames.py", dir.path() + "/ready"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        const std::string pid = std::to_string(victim.pid());
        json live = pystack_json(pid + " --native --cpu-window 0");
        CHECK(live["stopped_ms"].is_number());
        const json* parked = thread_running(live, "park");
        REQUIRE(parked != nullptr);
        check_merged(*parked);
        // Blocked in a sleep: the innermost frames are libc's and the interpreter's.
        REQUIRE((*parked)["native"].size() > 3);
        CHECK((*parked)["native"][0]["kind"] == "native");
        CHECK((*parked)["native"][0]["object"].get<std::string>().find("libc") != std::string::npos);

        const std::string core = dir.path() + "/victim.core";
        auto dump = run_tool(std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore", pid + " -o " + core);
        INFO(dump.err);
        REQUIRE(dump.exit_code == 0);
        // A lab interpreter's objects and debug files are in its root.
        json dead = pystack_json("--core " + core + " --native" + (python.launcher.empty() ? "" : " --sysroot " + triage::test_support::lab_root().string()));
        const json* parked_in_core = thread_running(dead, "park");
        REQUIRE(parked_in_core != nullptr);
        check_merged(*parked_in_core);
        CHECK(shape(*parked_in_core) == shape(*parked));
    }
}

TEST_CASE("triage-pystack --native on Debian's python3.11: file:line from python3.11-dbg, names without it, and C-only threads") {
    python_interpreter debian{"/usr/bin/python3.11", "/usr/bin/python3.11", 3, 11};
    scratch_dir dir;
    const std::string script = dir.path() + "/victim.py";
    {
        std::ofstream{script} << "import faulthandler, os, sys, time\n"
                                 "faulthandler.dump_traceback_later(3600)  # a C thread without Python\n"
                                 "def park():\n"
                                 "    open(sys.argv[1], 'w').close()\n"
                                 "    while True: time.sleep(1000)\n"
                                 "sorted([1], key=lambda x: park())\n";
    }
    SUBCASE("with python3.11-dbg") {
        python_process victim(debian, {script, dir.path() + "/ready"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        json report = pystack_json(std::to_string(victim.pid()) + " --native --cpu-window 0");
        const json* main = thread_running(report, "park");
        REQUIRE(main != nullptr);
        check_merged(*main);
        bool sorted_with_line = false;
        for (const auto& f : (*main)["native"])
            if (f["function"] == "list_sort_impl.lto_priv.0" || f["function"] == "list_sort_impl")
                sorted_with_line = !f["file"].is_null() && f["line"].is_number();
        CHECK(sorted_with_line);
        const json* watchdog = nullptr;
        for (const auto& t : report["threads"])
            if (t["python_ident"] == 0 && t["frames"].empty()) watchdog = &t;
        REQUIRE(watchdog != nullptr);
        bool in_faulthandler = false;
        for (const auto& f : (*watchdog)["native"]) in_faulthandler |= f["function"] == "faulthandler_thread";
        CHECK(in_faulthandler);

        auto text = run_pystack(std::to_string(victim.pid()) + " --native --cpu-window 0");
        CHECK(text.out.find(" (no Python)\n    [C] ") != std::string::npos);
        CHECK(text.out.find("    park (" + script + ":5)\n") != std::string::npos);
    }
    SUBCASE("without its debug files (hidden by a mount namespace): exported names only, merged all the same") {
        // The victim and triage-pystack share a mount namespace where /usr/lib/debug is empty.
        const std::string pystack = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-pystack";
        auto r = triage::test_support::run_command(
            {"unshare", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs tmpfs /usr/lib/debug && (/usr/bin/python3.11 " + script + " " + dir.path() +
                 "/ready & pid=$!; while [ ! -e " + dir.path() + "/ready ]; do sleep 0.05; done; " + pystack +
                 " $pid --native --cpu-window 0 --json; kill -9 $pid)"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        json report = json::parse(r.out);
        const json* main = thread_running(report, "park");
        REQUIRE(main != nullptr);
        check_merged(*main);
        for (const auto& f : (*main)["native"])
            if (f["kind"] == "native") CHECK(f["file"].is_null());  // no DWARF anywhere
    }
    SUBCASE("with a line cache: the second run loads what the first saved, also where the debug files are gone") {
        const std::string cache = dir.path() + "/cache";
        const std::string pystack = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-pystack";
        python_process victim(debian, {script, dir.path() + "/ready"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        // The main thread's native frames as file:line (the same code parked in the same place: the same lines).
        auto native_lines = [](const std::string& out) {
            json report = json::parse(out);
            const json* main = thread_running(report, "park");
            REQUIRE(main != nullptr);
            std::vector<std::string> lines;
            for (const auto& f : (*main)["native"])
                if (f["kind"] == "native")
                    lines.push_back(f["file"].is_null() ? "none" : f["file"].get<std::string>() + ":" + f["line"].dump());
            return lines;
        };
        auto first = triage::test_support::run_command(
            {"env", "TRIAGE_CACHE_DIR=" + cache, pystack, std::to_string(victim.pid()), "--native", "--cpu-window", "0",
             "--json"});
        INFO(first.err);
        REQUIRE(first.exit_code == 0);
        const auto lines = native_lines(first.out);
        CHECK(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& l) { return l.find("listobject.c:") != std::string::npos; }) == 1);
        std::size_t saved = 0;
        for (const auto& entry : std::filesystem::directory_iterator(cache + "/lines"))
            saved += entry.path().extension() == ".lines";
        CHECK(saved >= 1);
        // The same interpreter (same build-id) started where /usr/lib/debug is empty: its lines come from the cache.
        auto hidden = triage::test_support::run_command(
            {"unshare", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs tmpfs /usr/lib/debug && (/usr/bin/python3.11 " + script + " " + dir.path() +
                 "/ready2 & pid=$!; while [ ! -e " + dir.path() + "/ready2 ]; do sleep 0.05; done; TRIAGE_CACHE_DIR=" +
                 cache + " " + pystack + " $pid --native --cpu-window 0 --json; kill -9 $pid)"});
        INFO(hidden.err);
        REQUIRE(hidden.exit_code == 0);
        CHECK(native_lines(hidden.out) == lines);
    }
}

TEST_CASE("the kernel's core of a crash: the signal, its code, the faulting address, and the crashed thread first") {
    const std::string pattern = triage::read_file("/proc/sys/kernel/core_pattern").value_or("|");
    if (!pattern.starts_with("core")) {
        MESSAGE("kernel core_pattern is '" << pattern << "': kernel cores go elsewhere; not checked");
        return;
    }
    scratch_dir dir;
    const std::string script = dir.path() + "/crash.py";
    {
        std::ofstream{script} << "import ctypes, sys, threading, time\n"
                                 "def crash():\n"
                                 "    open(sys.argv[1], 'w').close()\n"
                                 "    time.sleep(0.5)\n"
                                 "    ctypes.string_at(0)  # reads address 0\n"
                                 "threading.Thread(target=crash, name='crasher').start()\n"
                                 "time.sleep(1000)\n";
    }
    python_interpreter shell{"/bin/sh", "sh", 0, 0};
    python_process victim(shell, {"-c", "cd " + dir.path() + " && ulimit -c unlimited && exec /usr/bin/python3.11 " +
                                            script + " " + dir.path() + "/ready"});
    REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
    const pid_t pid = victim.pid();
    // Returns once the victim has crashed, dumped and been reaped.
    CHECK(!victim.wait_for_file(dir.path() + "/never", std::chrono::seconds(30)));
    std::string core = dir.path() + "/core";
    if (!std::filesystem::exists(core)) core += "." + std::to_string(pid);
    REQUIRE(std::filesystem::exists(core));

    json report = pystack_json("--core " + core + " --native");
    INFO(report.dump(1));
    REQUIRE(report["crash"].is_object());
    CHECK(report["crash"]["signal_name"] == "SIGSEGV");
    CHECK(report["crash"]["code"].get<std::string>().starts_with("SEGV_MAPERR"));
    CHECK(report["crash"]["address"] == 0);
    const json& first = report["threads"][0];
    CHECK(first["tid"] == report["crash"]["tid"]);
    CHECK(first["python_name"] == "crasher");
    CHECK(first["frames"][0]["function"] == "string_at");  // ctypes/__init__.py
    CHECK(first["frames"][1]["function"] == "crash");
    check_merged(first);

    auto text = run_pystack("--core " + core + " --native");
    CHECK(text.out.find("Crashed: SIGSEGV, SEGV_MAPERR (address not mapped to object) at 0x0, in thread " +
                        std::to_string(first["tid"].get<int>()) + " (first below)\n") != std::string::npos);
}
