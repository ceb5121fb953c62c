// examples/triage-top --syscalls, run as a user would, on the victim whose
// threads make known system calls: the spinner is measured at 0 calls, the
// caller's getppid calls are named, the document says how long the target
// was stopped, and the victim runs on.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ptrace/shared_victim.hpp"
#include "ptrace/syscalls_victim.hpp"
#include "support/run_command.hpp"

using namespace ptrace_test;

namespace {
std::string triage_top() { return std::string{TRIAGE_EXAMPLE_DIR} + "/triage-top"; }

const nlohmann::json* thread_with(const nlohmann::json& doc, std::int32_t tid) {
    for (const auto& t : doc["threads"])
        if (t["tid"] == tid) return &t;
    return nullptr;
}
} // namespace

TEST_CASE("triage-top --syscalls --json: counts per thread, stopped_ms, and the target runs on") {
    shared_victim victim{"ptrace_syscalls", sizeof(syscalls_shared)};
    auto* shared = victim.shared<syscalls_shared>();
    auto run = triage::test_support::run_command({triage_top(), std::to_string(victim.pid()), "--interval", "100",
                                                  "--syscalls", "300", "--json"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    auto doc = nlohmann::json::parse(run.out);
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
    shared_victim victim{"ptrace_syscalls", sizeof(syscalls_shared)};
    auto run = triage::test_support::run_command({triage_top(), std::to_string(victim.pid()), "--interval", "50", "--json"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    auto doc = nlohmann::json::parse(run.out);
    CHECK_FALSE(doc.contains("stopped_ms"));
    for (const auto& t : doc["threads"]) CHECK_FALSE(t.contains("syscall_count"));
}
