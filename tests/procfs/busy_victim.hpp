// The procfs_busy victim started and parsed: the tid of each named thread.
#pragma once

#include <unistd.h>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "procfs/victim_process.hpp"

namespace triage_test {

struct busy_victim {
    victim_process process{{victim_path("procfs_busy")}};
    std::map<std::string, pid_t> tids;  // "spinner", "waiter-0", ..., "a) b (c", "main"

    busy_victim() {
        for (const std::string& line : process.read_until("ready")) {
            auto space = line.rfind(' ');
            tids[line.substr(0, space)] = static_cast<pid_t>(std::stoi(line.substr(space + 1)));
        }
        // "ready" comes after the threads start, not after they block: wait
        // (bounded) until every thread but the spinner sleeps.
        for (int attempt = 0; attempt < 500 && !parked(); ++attempt) ::usleep(10'000);
        if (!parked()) throw std::runtime_error("procfs_busy threads did not block");
    }

    // Every thread but the spinner in state S, read with std::ifstream.
    [[nodiscard]] bool parked() const {
        for (const auto& [name, tid] : tids) {
            if (name == "spinner") continue;
            std::ifstream stat("/proc/" + std::to_string(pid()) + "/task/" + std::to_string(tid) + "/status");
            std::string line;
            while (std::getline(stat, line) && line.rfind("State:", 0) != 0) {
            }
            if (line.size() < 8 || line[7] != 'S') return false;
        }
        return true;
    }
    [[nodiscard]] pid_t pid() const noexcept { return process.pid(); }
    [[nodiscard]] pid_t tid(const std::string& name) const { return tids.at(name); }
};

} // namespace triage_test
