// plt_loop_VARIANT (tests/victims/plt/plt_loop.c) as a test's victim: four
// threads that call strlen, memset, strchr, malloc and free exactly
// (k + 1) * 1000 times each when told to, and its thread ids; shared by
// the plt tests.
//
// Errors: REQUIRE failures (a victim that does not start or answer). What
// it does to the victim: SIGUSR1 to drive it, SIGKILL and reap at the end.
//
//   loop_victim v("classic");
//   ... attach a counter ...
//   const auto tids = v.run();  // k -> tid, after every call was made
#pragma once

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "triage/base/read_file.hpp"

namespace {

// `path` exists within `seconds` (the int3 backend stops the whole victim at each of its -fno-plt calls: slow
// under a sanitizer or a loaded machine).
bool wait_for(const std::string& path, int seconds = 10) {
    for (int k = 0; k < seconds * 100; ++k) {
        if (::access(path.c_str(), F_OK) == 0) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// plt_loop_VARIANT, started with its ready and done files; killed at the end.
struct loop_victim {
    std::string program;
    std::string dir;
    pid_t pid = -1;

    // late: the threads are born only on the first SIGUSR1 (start_threads()).
    explicit loop_victim(const std::string& variant, bool late = false)
        : program{std::string(TRIAGE_VICTIM_DIR) + "/plt_loop_" + variant} {
        std::string pattern = "/tmp/triage-plt-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const std::string ready = dir + "/ready";
            const std::string done = dir + "/done";
            const std::string started = dir + "/started";
            ::execl(program.c_str(), program.c_str(), ready.c_str(), done.c_str(), late ? started.c_str() : nullptr,
                    nullptr);
            ::_exit(127);
        }
        REQUIRE(wait_for(dir + "/ready"));
    }
    ~loop_victim() {
        end();
        std::filesystem::remove_all(dir);
    }
    // SIGKILL and reap (once).
    void end() {
        if (pid <= 0) return;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = 0;
    }
    loop_victim(const loop_victim&) = delete;
    loop_victim& operator=(const loop_victim&) = delete;

    void start_threads() {
        REQUIRE(::kill(pid, SIGUSR1) == 0);
        REQUIRE(wait_for(dir + "/started"));
    }

    // Tells the threads to make their calls; returns thread k's tid by k.
    std::map<int, pid_t> run() {
        REQUIRE(::kill(pid, SIGUSR1) == 0);
        REQUIRE(wait_for(dir + "/done", 120));
        std::map<int, pid_t> tids;
        std::ifstream in(dir + "/done");
        for (int k = 0, tid = 0; in >> k >> tid;) tids[k] = tid;
        REQUIRE(tids.size() == 4);
        return tids;
    }

    // "R", "S", ...: /proc/PID/status State ("" when gone).
    [[nodiscard]] std::string state() const {
        auto text = triage::read_file("/proc/" + std::to_string(pid) + "/status");
        if (!text) return "";
        auto at = text->find("State:\t");
        return at == std::string::npos ? "" : text->substr(at + 7, 1);
    }
};

} // namespace
