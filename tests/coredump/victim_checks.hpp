// Checks the core-file tests run on their victims and their oracles: a victim
// still runs after a dump (alive, not stopped, not traced, and for one that
// spins, still getting CPU), eu-stack's output read as frames per thread,
// a tool's error being one line, and a progress callback that kills the
// victim mid-dump.
// Spawning, readiness, reaping and running the oracles come from
// tests/support.
//
// Errors: none (a victim that is gone is not running). Thread safety: reads
// /proc and text only. What it does to the victim: nothing (reads /proc).
//
//   triage::test_support::victim v{{triage::test_support::victim_path("core_threads")}};
//   ... dump it ...
//   CHECK(coredump_test::running_freely(v));
#pragma once

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/syscall.hpp"

namespace coredump_test {

// CPU ticks (utime + stime, fields 14 and 15 of /proc/PID/stat) of the whole process; 0 when gone.
inline std::uint64_t cpu_ticks(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string text{std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
    const auto paren = text.rfind(')');
    if (paren == std::string::npos || paren + 2 > text.size()) return 0;
    std::string_view rest = std::string_view{text}.substr(paren + 2);
    std::uint64_t ticks = 0;
    for (int field = 3; field <= 15; ++field) {
        std::string_view value = triage::next_token(rest, ' ');
        if (field == 14 || field == 15) ticks += triage::parse_unsigned<std::uint64_t>(value).value_or(0);
    }
    return ticks;
}

// Alive, not stopped, not traced (for victims that do not spin).
inline bool running_unstopped(const triage::test_support::child_process& victim) {
    const char s = triage::test_support::process_state(victim.pid());
    return s != '?' && s != 't' && s != 'T' && s != 'Z' && triage::test_support::tracer_pid(victim.pid()) == 0;
}

// Alive, not stopped, not traced, and its spinning thread still gets CPU
// (polled for up to 2 s: a bound against hanging, not a timing assertion).
inline bool running_freely(const triage::test_support::child_process& victim) {
    if (!running_unstopped(victim)) return false;
    const std::uint64_t before = cpu_ticks(victim.pid());
    for (int i = 0; i < 100; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (cpu_ticks(victim.pid()) > before) return true;
    }
    return false;
}

// A progress callback that SIGKILLs `pid` at the first chunk written and
// waits (up to 5 s) until every thread has left its memory (zombie or
// gone): on a loaded machine the rest of the dump could otherwise be read
// before the kill takes effect.
inline auto kill_at_first_chunk(pid_t pid) {
    return [pid, killed = false](std::uint64_t, std::uint64_t) mutable {
        if (std::exchange(killed, true)) return;
        ::kill(pid, SIGKILL);
        for (int k = 0; k < 5000; ++k) {
            const auto states = triage::test_support::thread_states(pid);
            if (std::ranges::all_of(states, [](char s) { return s == 'Z' || s == '?'; })) return;
            ::usleep(1000);
        }
    };
}

// The argv of a victim whose memory stays still between two dumps: the
// sparse-core victim without rseq (the kernel rewrites a thread's rseq area,
// cpu_id, when it runs on another CPU).
inline std::vector<std::string> still_victim() {
    return {"env", "GLIBC_TUNABLES=glibc.pthread.rseq=0", triage::test_support::victim_path("core_sparse")};
}

// Waits (up to 5 s) until `pid` is parked in pause(), past the lazy binding
// of its first call (which writes the GOT) that follows its "ready".
inline bool parked_in_pause(pid_t pid) {
    for (int i = 0; i < 5000; ++i) {
        auto call = triage::procfs::read_syscall(pid);
        if (call && call->name() == "pause") return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    return false;
}

// A tool's error output: one line, ending with its newline.
inline bool one_line(const std::string& text) {
    return !text.empty() && text.back() == '\n' && std::count(text.begin(), text.end(), '\n') == 1;
}

// eu-stack output → frames (function names, "??" when unknown) per TID.
inline std::map<long, std::vector<std::string>> eu_stack_frames(std::string_view text) {
    std::map<long, std::vector<std::string>> out;
    long tid = -1;
    while (!text.empty()) {
        std::string_view line = triage::next_token(text, '\n');
        if (line.starts_with("TID ")) {
            line.remove_prefix(4);
            tid = static_cast<long>(triage::parse_unsigned<std::uint64_t>(triage::next_token(line, ':')).value_or(0));
            out[tid];
        } else if (line.starts_with("#") && tid >= 0) {
            (void)triage::next_token(line, ' ');  // #N
            (void)triage::next_token(line, ' ');  // address
            std::string_view name = triage::trim(line);
            out[tid].emplace_back(name.empty() ? "??" : std::string{triage::next_token(name, ' ')});
        }
    }
    return out;
}

} // namespace coredump_test
