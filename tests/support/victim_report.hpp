// A victim's report file of "<counter> <value>" lines, which it writes on
// SIGUSR1 (tests/victims/fork_syscalls.c): asking for it, and reading one
// counter.
//
// Errors: a doctest failure when the file does not come within 5 s or
// lacks the counter. Thread safety: one caller per report file.
//
//   const std::string report = triage::test_support::ask_report(pid, dir / "report");
//   CHECK(triage::test_support::report_counter(report, "errors") == 0);
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>

#include <doctest/doctest.h>

#include "triage/base/text.hpp"

namespace triage::test_support {

// Asks `pid` for its report (SIGUSR1) and returns the file's text.
inline std::string ask_report(pid_t pid, const std::string& path) {
    std::filesystem::remove(path);
    REQUIRE(::kill(pid, SIGUSR1) == 0);
    for (int i = 0; i < 500 && !std::filesystem::exists(path); ++i) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
}

inline std::uint64_t report_counter(const std::string& report, std::string_view key) {
    std::string_view rest = report;
    while (!rest.empty()) {
        std::string_view line = next_line(rest);
        if (next_token(line, ' ') == key) return parse_unsigned<std::uint64_t>(trim(line)).value_or(0);
    }
    FAIL("no " << key << " in the report: " << report);
    return 0;
}

} // namespace triage::test_support
