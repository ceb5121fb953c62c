// examples/triage-top --syscalls, run as a user would, on the victim whose
// threads make known system calls: the spinner is measured at 0 calls, the
// caller's getppid calls are named, the document says how long the target
// was stopped, and the victim runs on.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ptrace/victim_process.hpp"

using namespace ptrace_test;

namespace {
// Mirrors tests/victims/ptrace_syscalls.c.
struct syscalls_shared {
    std::uint64_t spins;
    std::uint64_t getppid_calls;
    std::int32_t spinner_tid;
    std::int32_t caller_tid;
    std::int32_t main_tid;
    std::int32_t pad;
};

// Runs a command, returns its stdout and sets `status` to its exit code.
std::string run(const std::string& command, int& status) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buf{};
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
    int raw = ::pclose(pipe);
    status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    return out;
}

const nlohmann::json* thread_with(const nlohmann::json& doc, std::int32_t tid) {
    for (const auto& t : doc["threads"])
        if (t["tid"] == tid) return &t;
    return nullptr;
}
} // namespace

TEST_CASE("triage-top --syscalls --json: counts per thread, stopped_ms, and the target runs on") {
    victim_process victim{"ptrace_syscalls", sizeof(syscalls_shared)};
    auto* shared = victim.shared<syscalls_shared>();
    int status = -1;
    std::string out = run(std::string{TRIAGE_EXAMPLE_DIR} + "/triage-top " + std::to_string(victim.pid()) +
                              " --interval 100 --syscalls 300 --json",
                          status);
    REQUIRE(status == 0);
    auto doc = nlohmann::json::parse(out);
    REQUIRE(doc.contains("stopped_ms"));
    CHECK(doc["stopped_ms"].get<double>() > 0);

    const auto* spinner = thread_with(doc, shared->spinner_tid);
    REQUIRE(spinner != nullptr);
    CHECK((*spinner)["syscall_count"] == 0);
    CHECK((*spinner)["syscalls"].empty());
    CHECK((*spinner)["in_user_space"] == true);

    const auto* caller = thread_with(doc, shared->caller_tid);
    REQUIRE(caller != nullptr);
    CHECK((*caller)["syscall_count"].get<std::uint64_t>() > 0);
    CHECK((*caller)["syscalls"]["getppid"].get<std::uint64_t>() > 0);

    check_runs_on(victim, shared->spins);
    check_runs_on(victim, shared->getppid_calls);
}

TEST_CASE("triage-top without --syscalls attaches nothing and prints no counts") {
    victim_process victim{"ptrace_syscalls", sizeof(syscalls_shared)};
    int status = -1;
    std::string out = run(std::string{TRIAGE_EXAMPLE_DIR} + "/triage-top " + std::to_string(victim.pid()) +
                              " --interval 50 --json",
                          status);
    REQUIRE(status == 0);
    auto doc = nlohmann::json::parse(out);
    CHECK_FALSE(doc.contains("stopped_ms"));
    for (const auto& t : doc["threads"]) CHECK_FALSE(t.contains("syscall_count"));
}
