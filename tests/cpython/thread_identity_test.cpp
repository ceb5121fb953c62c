// Each Python thread keeps its identity (kernel tid, name, state, CPU%) in
// triage-pystack's report when the tids Python and glibc record are not
// this machine's (a process in another PID namespace, live and from a
// core), and when threads start while triage-pystack measures CPU.
// Interpreters: Debian's python3.11 (tids recorded by Python) and a pyenv
// 3.10 (tids found in glibc's thread control blocks).
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/procfs/task_ids.hpp"

using triage::test_support::failure_text;

namespace {

using namespace triage::testing;

// Debian's python3.11 and the newest pyenv build before 3.11, when there.
std::vector<python_interpreter> identity_pythons() {
    std::vector<python_interpreter> out;
    std::optional<python_interpreter> before_311;
    for (const auto& p : machine_interpreters()) {
        if (p.path == "/usr/bin/python3.11") out.push_back(p);
        if (p.path != "/usr/bin/python3.11" && (p.major == 2 || (p.major == 3 && p.minor <= 10))) before_311 = p;
    }
    if (before_311) out.push_back(*before_311);
    REQUIRE_MESSAGE(out.size() == 2, "needs /usr/bin/python3.11 and a pyenv build of 2.7-3.10");
    return out;
}

// The thread ids of `pid` as this /proc shows them → as its own PID
// namespace does (the last NSpid field), read without our parsers.
std::map<pid_t, pid_t> inner_tids(pid_t pid) {
    std::map<pid_t, pid_t> out;
    for (pid_t tid : triage::procfs::task_ids(pid).value_or(std::vector<pid_t>{})) {
        std::ifstream status("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.starts_with("NSpid:")) out[tid] = std::stoi(line.substr(line.find_last_of('\t') + 1));
        }
    }
    return out;
}

// A victim run as `unshare -fp --mount-proc --kill-child PYTHON ARGS...`:
// the Python process is pid 1 of a new PID namespace. Both are killed at
// the end.
class namespaced_python {
public:
    namespaced_python(const python_interpreter& python, std::vector<std::string> args)
        : unshare_{python_interpreter{"/usr/bin/unshare", "unshare", 0, 0},
                   [&] {
                       args.insert(args.begin(), {"-fp", "--mount-proc", "--kill-child", python.path});
                       return args;
                   }()} {
        for (int k = 0; k < 500 && pid_ <= 0; ++k) {
            std::ifstream children("/proc/" + std::to_string(unshare_.pid()) + "/task/" +
                                   std::to_string(unshare_.pid()) + "/children");
            children >> pid_;
            if (pid_ <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        REQUIRE(pid_ > 0);
    }
    ~namespaced_python() {
        ::kill(pid_, SIGKILL);  // unshare reaps it
    }
    namespaced_python(const namespaced_python&) = delete;
    namespaced_python& operator=(const namespaced_python&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    python_process& unshare() { return unshare_; }

private:
    python_process unshare_;
    pid_t pid_ = 0;
};

nlohmann::json pystack_json(const std::string& arguments) {
    auto r = run_pystack(arguments + " --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
}

} // namespace

TEST_CASE("a process in another PID namespace: outer tids, names, states and CPU%, the inner tid as ns_tid; live and core") {
    // Before: tids as the namespace sees them (1, 42: other processes out
    // here) with empty names, state unknown, null CPU; or null tids on
    // 2.7-3.10 (issue 8.6).
    for (const auto& python : identity_pythons()) {
        CAPTURE(python.label);
        scratch_dir dir;
        const std::string script = victim_script("py_stuck_service.py");
        const int main_line = *marker_lines(read_markers(script), "park", "main").begin();
        namespaced_python victim(python, {script, dir.path() + "/ready"});
        REQUIRE(victim.unshare().wait_for_file(dir.path() + "/ready"));
        const std::string pid = std::to_string(victim.pid());
        bool settled = false;
        for (int attempt = 0; attempt < 100 && !settled; ++attempt) {
            settled = stuck_service_settled(pystack_json(pid + " --nonblocking --cpu-window 0"));
            if (!settled) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        REQUIRE(settled);
        const auto inside = inner_tids(victim.pid());
        REQUIRE(inside.size() == 26);
        REQUIRE(inside.at(victim.pid()) == 1);

        nlohmann::json live;
        for (const std::string mode : {"--nonblocking", ""}) {
            CAPTURE(mode);
            live = pystack_json(pid + " " + mode);
            REQUIRE(live["threads"].size() == 26);
            int main_thread = 0;
            for (const auto& t : live["threads"]) {
                INFO(t.dump());
                REQUIRE(t["tid"].is_number());
                const pid_t tid = t["tid"].get<pid_t>();
                REQUIRE(inside.contains(tid));
                CHECK(t["ns_tid"] == inside.at(tid));
                CHECK(t["name"].get<std::string>().starts_with("python"));
                CHECK(t["state"] != "unknown");
                CHECK(t["cpu_percent"].is_number());
                if (t["frames"].back()["line"] == main_line) {
                    ++main_thread;
                    CHECK(tid == victim.pid());
                    CHECK(t["ns_tid"] == 1);
                }
            }
            CHECK(main_thread == 1);
        }
        // The library call says the same.
        auto stacks = triage::cpython::python_stacks(victim.pid(), {.nonblocking = true});
        REQUIRE_MESSAGE(stacks, failure_text(stacks));
        for (const auto& t : stacks->threads) {
            REQUIRE(t.tid);
            CHECK(t.ns_tid == inside.at(*t.tid));
        }

        // A core written from out here records the outer tids; a thread is
        // matched to its core thread by its pthread_t (fs_base), so the core
        // gives the same tids, and the inner ones where Python records them.
        const std::string core = dir.path() + "/core";
        auto gcore = triage::test_support::run_command({std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", pid, "-o", core});
        INFO(gcore.err);
        REQUIRE(gcore.exit_code == 0);
        auto from_core = pystack_json("--core " + core);
        REQUIRE(from_core["threads"].size() == 26);
        for (const auto& t : from_core["threads"]) {
            INFO(t.dump());
            REQUIRE(t["tid"].is_number());
            const pid_t tid = t["tid"].get<pid_t>();
            REQUIRE(inside.contains(tid));
            if (python.minor >= 11) CHECK(t["ns_tid"] == inside.at(tid));
            else CHECK(t["ns_tid"].is_null());  // the TCB's inner tid is not read from a core
        }
    }
}

TEST_CASE("threads started while triage-pystack measures CPU keep their tid, name, state and CPU%") {
    // /proc/PID/task was listed once, before the CPU window: a thread born
    // in the window came back with a null tid (2.7-3.10) or an empty name,
    // state unknown and null CPU (3.11+) (issue 8.9).
    for (const auto& python : identity_pythons()) {
        CAPTURE(python.label);
        scratch_dir dir;
        const std::string script = victim_script("py_thread_churn.py");
        const int park_line = *marker_lines(read_markers(script), "park", "long-lived").begin();
        python_process victim(python, {script, dir.path() + "/ready"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        std::size_t long_lived = 0;
        for (int run = 0; run < 16; ++run) {
            auto doc = pystack_json(std::to_string(victim.pid()) + (run % 2 == 0 ? " --nonblocking" : ""));
            for (const auto& t : doc["threads"]) {
                const auto& frames = t["frames"];
                bool parked_long = std::any_of(frames.begin(), frames.end(), [&](const nlohmann::json& f) {
                    return f["function"] == "long_lived" && f["line"] == park_line;
                });
                if (!parked_long) continue;  // short-lived threads may be gone by the time we look
                ++long_lived;
                INFO(t.dump());
                // Whether the row's tid is a thread of the victim now, when a check fails
                // (CI's ASan pass once saw a parked thread with a tid but no /proc facts).
                const auto live_now = [&] {
                    return t["tid"].is_number() && std::ifstream{"/proc/" + std::to_string(victim.pid()) + "/task/" +
                                                                 std::to_string(t["tid"].get<pid_t>()) + "/stat"}
                                                       .good();
                };
                INFO("its tid is a thread of the victim after the run: " << live_now());
                CHECK(t["tid"].is_number());
                CHECK(!t["name"].get<std::string>().empty());
                CHECK(t["state"] != "unknown");
                CHECK(t["cpu_percent"].is_number());
            }
        }
        MESSAGE(python.label << ": " << long_lived << " long-lived threads checked");
        CHECK(long_lived > 0);
        CHECK(victim.state() != "t");
    }
}
