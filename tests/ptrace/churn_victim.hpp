// The shared-memory layout of tests/victims/ptrace_churn.c (kept in step
// with the C struct there).
#pragma once

#include <cstdint>

namespace ptrace_test {

struct churn_shared {
    std::uint64_t batches;
    std::uint64_t sent;
    std::uint64_t received;
};

} // namespace ptrace_test
