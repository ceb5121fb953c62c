// The shared-memory layout of tests/victims/ptrace_syscalls.c (kept in step
// with the C struct there).
#pragma once

#include <cstdint>

namespace ptrace_test {

struct syscalls_shared {
    std::uint64_t spins;
    std::uint64_t getppid_calls;
    std::int32_t spinner_tid;
    std::int32_t caller_tid;
    std::int32_t main_tid;
    std::int32_t pad;
};

} // namespace ptrace_test
