// The procfs_busy victim started and parsed: the tid of each named thread.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <map>
#include <stdexcept>
#include <string>

#include "support/child_process.hpp"
#include "support/victim.hpp"

namespace triage_test {

struct busy_victim {
    triage::test_support::victim process{{triage::test_support::victim_path("procfs_busy")}};
    std::map<std::string, pid_t> tids;  // "spinner", "waiter-0", ..., "a) b (c", "main"

    busy_victim() {
        // "<thread name> <tid>": names may hold spaces, the tid is the last word.
        for (const std::string& line : process.announced()) {
            auto space = line.rfind(' ');
            tids[line.substr(0, space)] = static_cast<pid_t>(std::stoi(line.substr(space + 1)));
        }
        // "ready" comes after the threads start, not after they block: wait
        // (bounded) until every thread but the spinner sleeps.
        for (int attempt = 0; attempt < 500 && !parked(); ++attempt) ::usleep(10'000);
        if (!parked()) throw std::runtime_error("procfs_busy threads did not block");
    }

    // Every thread but the spinner in state S.
    [[nodiscard]] bool parked() const {
        for (const auto& [name, tid] : tids)
            if (name != "spinner" && triage::test_support::thread_state(pid(), tid) != 'S') return false;
        return true;
    }
    [[nodiscard]] pid_t pid() const noexcept { return process.pid(); }
    [[nodiscard]] pid_t tid(const std::string& name) const { return tids.at(name); }
};

} // namespace triage_test
