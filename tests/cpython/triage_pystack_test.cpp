// examples/triage-pystack as a user runs it: on the 26-thread stuck service
// (tests/victims/py_stuck_service.py), in text and JSON, blocking and not;
// and its one-line errors and exit codes.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/child_process.hpp"
#include "support/run_command.hpp"
#include "triage/procfs/task_ids.hpp"

using namespace triage::testing;

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
        // Hottest first needs the spinner to have run in the 10 ms window:
        // on a loaded machine it may have waited for a core. Ask again.
        nlohmann::json doc;
        for (int attempt = 0; attempt < 5; ++attempt) {
            auto r = run_pystack(pid + " --json " + mode);
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            doc = nlohmann::json::parse(r.out);
            const auto& hottest = doc["threads"][0];
            if (!hottest["frames"].empty() && hottest["frames"][0]["function"] == "find_anchor") break;
        }
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
            CHECK(t["ns_tid"].is_null());
            CHECK(t["python_ident"] == t["thread_id"]);
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

    // One thread is at most one core, however short the window (issue 8.10:
    // 115% was seen with one timestamp per sweep).
    for (int run = 0; run < 20; ++run) {
        auto r = run_pystack(pid + " --json" + (run % 2 == 0 ? " --nonblocking" : ""));
        REQUIRE(r.exit_code == 0);
        const auto doc = nlohmann::json::parse(r.out);
        for (const auto& t : doc["threads"]) CHECK(t["cpu_percent"].get<double>() <= 100.0);
    }

    // Hottest first again: on a loaded machine the spinner may have waited
    // for a core during the 10 ms window. Ask again, as above.
    auto text = run_pystack(pid);
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto first = text.out.find("\nThread ");
        const auto anchor = text.out.find("    find_anchor (" + script + ":", first);
        if (first != std::string::npos && anchor < text.out.find("\nThread ", first + 1)) break;
        text = run_pystack(pid);
    }
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

}

TEST_CASE("triage-pystack usage errors: exit 2, one line prefixed with the program, one pid parser") {
    struct usage_case {
        std::vector<std::string> args;
        const char* says;
    };
    // " 5" and "0x10" were read as pids 5 and 16, and "abc" gave CLI11's
    // "pid: Value abc not in range 0.000000 to 1797693..." (issue 8.11).
    for (const auto& c : {usage_case{{}, "pid or --core"}, usage_case{{"abc"}, "'abc' is not a process id"},
                          usage_case{{" 5"}, "' 5' is not a process id"}, usage_case{{"0x10"}, "'0x10' is not a process id"},
                          usage_case{{"0"}, "'0' is not a process id"}, usage_case{{"12", "--no-such-option"}, "--no-such-option"},
                          usage_case{{"12", "--cpu-window", "soon"}, "--cpu-window"},
                          usage_case{{"12", "--core", "x"}, "--core"}}) {
        std::vector<std::string> argv{std::string(TRIAGE_EXAMPLE_DIR) + "/triage-pystack"};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        auto r = triage::test_support::run_command(argv);
        CAPTURE(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.starts_with("triage-pystack: "));
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK(r.err.find(c.says) != std::string::npos);
    }
}

TEST_CASE("triage-pystack on a zombie, or on a Python whose main thread has exited, says so") {
    // Both read as "not a Python process" before (issue 8.11): /proc/PID/maps
    // of an exited main thread is empty.
    python_interpreter python = service_python();
    python_process zombie(python, {"-c", "pass"});
    for (int k = 0; k < 500 && zombie.state() != "Z"; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(zombie.state() == "Z");
    auto r = run_pystack(std::to_string(zombie.pid()));
    CAPTURE(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("it is a zombie") != std::string::npos);
    CHECK(r.err.find("not a Python process") == std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

    python_process headless(python, {"-c", "import ctypes, threading, time\n"
                                           "threading.Thread(target=time.sleep, args=(600,)).start()\n"
                                           "ctypes.CDLL(None).pthread_exit(None)\n"});
    auto tasks = [&] { return triage::procfs::task_ids(headless.pid()).value_or(std::vector<pid_t>{}).size(); };
    for (int k = 0; k < 500 && (headless.state() != "Z" || tasks() != 2); ++k)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(headless.state() == "Z");
    REQUIRE(tasks() == 2);
    r = run_pystack(std::to_string(headless.pid()));
    CAPTURE(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("its main thread has exited while 1 other threads still run") != std::string::npos);
    CHECK(r.err.find("not a Python process") == std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("target-supplied names reach the terminal escaped: no control byte in triage-pystack's or triage-top's text") {
    // Thread names, a function name and a file name full of ESC sequences
    // and CR/LF went out raw (issue 8.7).
    scratch_dir dir;
    python_interpreter python = service_python();
    REQUIRE(python.minor >= 8);
    python_process victim(python, {victim_script("py_hostile_names.py"), dir.path() + "/ready"});
    REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
    auto no_c0 = [](const std::string& text) {
        return std::none_of(text.begin(), text.end(), [](char c) {
            auto b = static_cast<unsigned char>(c);
            return (b < 0x20 && b != '\n') || b == 0x7f;
        });
    };
    // No C1 control either (U+009B is the 8-bit CSI): text escapes it, and
    // JSON is written ASCII-only, every non-ASCII character as \uXXXX.
    auto only_printable = [&](const std::string& text) { return no_c0(text) && text.find("\xC2\x9B") == std::string::npos; };
    const std::string pid = std::to_string(victim.pid());
    auto text = run_pystack(pid);
    REQUIRE(text.exit_code == 0);
    INFO(text.out);
    CHECK(only_printable(text.out));
    // Three threads, three thread lines: no line was faked.
    std::size_t thread_lines = 0;
    for (std::size_t at = text.out.find("\nThread "); at != std::string::npos; at = text.out.find("\nThread ", at + 1))
        ++thread_lines;
    CHECK(thread_lines == 3);
    CHECK(text.out.find("\"\\x1b[2J\\r\\nx\\x1b]0;t\"") != std::string::npos);
    CHECK(text.out.find("    \\x1b]0;owned\\x07\\x1b[2J\\r\\nThread 1 \"fake\" running 100.0%\\n    \\u009b31mred (") !=
          std::string::npos);

    auto json = run_pystack(pid + " --json");
    REQUIRE(json.exit_code == 0);
    CHECK(only_printable(json.out));
    auto doc = nlohmann::json::parse(json.out);
    for (const auto& t : doc["threads"]) {
        CHECK(t["name"] == "\x1b[2J\r\nx\x1b]0;t");
        CHECK(t["python_name"] == "\x1b[2J\r\nx\x1b]0;t");
    }

    auto top = triage::test_support::run_command({std::string(TRIAGE_EXAMPLE_DIR) + "/triage-top", pid, "--interval", "50"});
    REQUIRE(top.exit_code == 0);
    INFO(top.out);
    CHECK(only_printable(top.out));
    CHECK(top.out.find("\\x1b[2J\\r\\nx\\x1b]0;t") != std::string::npos);
}

TEST_CASE("triage-pystack on a Python whose main thread sits in vfork (state D): one truthful line in budget, "
          "nothing held, --nonblocking reads the stacks") {
    // Issue 8.1. posix_spawn vforks; the child blocks opening a FIFO before
    // its exec, so the main thread waits in vfork (TASK_KILLABLE, state D),
    // where no ptrace interrupt can stop it, until someone opens the FIFO.
    scratch_dir dir;
    const std::string fifo = dir.path() + "/gate";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    python_interpreter python = service_python();
    python_process victim(python, {"-c",
                                   "import os, sys, threading\n"
                                   "def spin_beside_vfork():\n"
                                   "    while True: pass\n"
                                   "threading.Thread(target=spin_beside_vfork, daemon=True).start()\n"
                                   "os.posix_spawn('/bin/true', ['true'], os.environ,\n"
                                   "               file_actions=[(os.POSIX_SPAWN_OPEN, 3, sys.argv[1], os.O_RDONLY, 0)])\n"
                                   "threading.Event().wait()\n",
                                   fifo});
    for (int k = 0; k < 500 && victim.state() != "D"; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(victim.state() == "D");
    const std::string pid = std::to_string(victim.pid());

    const auto started = std::chrono::steady_clock::now();
    auto r = run_pystack(pid);
    const auto took = std::chrono::steady_clock::now() - started;
    CAPTURE(r.err);
    CHECK(r.exit_code == 1);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    // glibc's posix_spawn vforks through clone3 (CLONE_VFORK); the message names the call.
    CHECK(r.err.find("thread " + pid + " is in uninterruptible sleep (state D, in clone") != std::string::npos);
    CHECK(r.err.find("the other thread was released") != std::string::npos);
    // The attach budget (2 s) bounds the stop; the rest is start-up.
    CHECK(took < std::chrono::seconds(5));
    // Nothing is left traced or stopped.
    for (pid_t tid : triage::procfs::task_ids(victim.pid()).value_or(std::vector<pid_t>{})) {
        CHECK(triage::test_support::tracer_pid(tid) == 0);
        const char state = triage::test_support::thread_state(victim.pid(), tid);
        CHECK((state != 't' && state != 'T'));
    }

    r = run_pystack("--nonblocking " + pid);
    CAPTURE(r.out);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("spin_beside_vfork") != std::string::npos);

    // The child opens the FIFO once a writer does; the main thread leaves vfork.
    const int writer = ::open(fifo.c_str(), O_WRONLY);
    REQUIRE(writer >= 0);
    ::close(writer);
    for (int k = 0; k < 500 && victim.state() == "D"; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(victim.state() != "D");
    r = run_pystack(pid);
    CAPTURE(r.err);
    CHECK(r.exit_code == 0);
}
