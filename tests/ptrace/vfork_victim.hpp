// The shared-memory layout of tests/victims/ptrace_vfork.c (kept in step
// with the C struct there), and a guard that ends its vfork child.
#pragma once

#include <signal.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include "support/child_process.hpp"
#include "triage/base/scope_exit.hpp"

namespace ptrace_test {

struct vfork_shared {
    std::uint64_t progress;
    std::uint64_t vfork_returns;
    std::uint64_t after_vfork;
    std::int32_t vforker_tid;
    std::int32_t child_pid;
    std::int32_t counter_tid;
    std::int32_t main_tid;
};

[[nodiscard]] inline std::int32_t load(const std::int32_t& value) { return __atomic_load_n(&value, __ATOMIC_SEQ_CST); }

// The vfork child is not a thread of the victim: killing the victim does
// not end it. This kills it when the test ends, however it ends (if that
// pid is still a copy of the victim's program).
[[nodiscard]] inline auto kill_vfork_child_at_exit(const vfork_shared& shared) {
    return triage::scope_exit{[&shared] {
        const std::int32_t child = load(shared.child_pid);
        std::error_code ec;
        const auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(child) + "/exe", ec);
        if (child > 0 && !ec && std::filesystem::equivalent(exe, triage::test_support::victim_path("ptrace_vfork"), ec))
            ::kill(child, SIGKILL);
    }};
}

} // namespace ptrace_test
