// The shared-memory layout of tests/victims/ptrace_parked.c (kept in step
// with the C struct there).
#pragma once

#include <cstdint>

namespace ptrace_test {

struct parked_thread_record {
    std::int32_t tid;
    std::int32_t pad;
    std::uint64_t stack_lo;
    std::uint64_t stack_hi;
};

struct parked_shared {
    std::uint64_t progress;
    std::uint64_t usr1_calls;
    std::uint64_t rt_calls;
    std::uint64_t parked_frame;
    std::uint64_t parked_function;
    std::uint32_t spinner_mxcsr;
    std::int32_t spinner_tid;
    std::int32_t sleeper_tid;
    std::int32_t main_tid;
    parked_thread_record threads[3];
    std::uint32_t recorded;
};

} // namespace ptrace_test
