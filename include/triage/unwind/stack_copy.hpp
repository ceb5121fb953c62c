// triage/unwind/stack_copy.hpp — the registers and stack bytes of every
// thread, copied while a ptrace::session holds the target stopped, so that
// unwinding and symbolising run after the target was let go.
//
// Offers:
//  - `stack_range(rsp, maps, options)`, pure: what to copy of a thread's
//    stack: from rsp minus the red zone (128 bytes below rsp that a leaf
//    function may use without moving rsp) to the end of the mapping that
//    holds rsp, at most `max_stack_bytes` (512 KiB by default); clipped to
//    that mapping; empty when rsp is in no mapping (garbage registers).
//  - `prepare_stack_copy(pid, options)`, before the stop, the target
//    running: reads /proc/PID/maps and reserves the copy's storage
//    (`reserve_per_thread` per thread, faulted in now: a fresh page costs
//    more than copying it), so that the stop only copies.
//  - `copy_stacks(session, memory, options[, prepared])`, while the CALLER
//    holds the target stopped with `session` (borrowed: neither attached
//    nor released here): reads every held thread's general registers in
//    one trip to the tracer thread, /proc/PID/maps (unless prepared; again
//    when a thread's stack pointer is in no mapping prepared: a stack
//    mapped since), and copies
//    each thread's stack_range from `memory` (normally a
//    memory::live_process of the same pid) into one memory::snapshot
//    (overlapping ranges merged). Unwinding a `copied_thread` with the
//    snapshot as its memory source gives the frames a walk of the stopped
//    process gives, as far as the copied range reaches: a stack deeper than
//    max_stack_bytes ends with stop_reason::unreadable_memory, and frames
//    on another stack (a handler on a sigaltstack interrupted the thread)
//    are cut at the jump.
// Errors: read_maps' errors (no_such_process); session.registers' errors
// (invalid_argument: the session is not held); snapshot errors (ENOMEM as
// errc::system; errc::interrupted when options.capture.cancel was set).
// Thread-safe: call it from the thread that uses the session, as any
// session member. Signal-safe: no.
// Target process: reads registers, /proc/PID/maps and memory while the
// caller holds it stopped (the stop is the caller's: session.stopped_for());
// nothing is written.
//
//   auto modules = TRIAGE_TRY(triage::unwind::module_set::of_process(pid));   // target running
//   auto memory = TRIAGE_TRY(triage::memory::live_process::open(pid));
//   auto session = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto copy = TRIAGE_TRY(triage::unwind::copy_stacks(session, memory));
//   TRIAGE_TRY(session.release());                                             // runs again
//   for (const auto& t : copy.threads) {
//       auto stack = TRIAGE_TRY(triage::unwind::unwind_thread(modules, copy.memory, t.registers));
//   }
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/memory/memory_source.hpp"
#include "triage/memory/snapshot.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/ptrace/session.hpp"

namespace triage::unwind {

struct stack_copy_options {
    std::uint64_t red_zone = 128;
    std::uint64_t max_stack_bytes = std::uint64_t{512} << 10;
    std::uint64_t reserve_per_thread = std::uint64_t{64} << 10;  // prepare_stack_copy's estimate
    memory::capture_options capture;  // chunking and the cancel flag of the copy
};

struct copied_thread {
    pid_t tid = 0;
    user_regs_struct registers{};
    memory::address_range stack;  // what was asked for; size 0 when rsp was in no mapping
};

struct stack_copy {
    std::vector<copied_thread> threads;  // in session.threads() order
    memory::snapshot memory;             // every thread's stack range
};

[[nodiscard]] TRIAGE_DECL memory::address_range stack_range(std::uint64_t rsp, std::span<const procfs::mapping> maps,
                                                            const stack_copy_options& options = {}) noexcept;

namespace detail {
// `ranges` sorted by address, overlapping or touching ones merged.
[[nodiscard]] TRIAGE_DECL std::vector<memory::address_range> merged(std::vector<memory::address_range> ranges);
} // namespace detail

// What prepare_stack_copy makes: the mappings and the storage, before the stop.
struct stack_copy_preparation {
    std::vector<procfs::mapping> maps;
    memory::snapshot storage;
};

[[nodiscard]] TRIAGE_DECL result<stack_copy_preparation> prepare_stack_copy(pid_t pid,
                                                                            const stack_copy_options& options = {});

template <memory::memory_source Source>
[[nodiscard]] result<stack_copy> copy_stacks(const ptrace::session& session, Source& memory,
                                             const stack_copy_options& options, stack_copy_preparation prepared) {
    const auto registers = TRIAGE_TRY(session.general_registers());
    bool maps_read_now = false;
    stack_copy out;
    std::vector<memory::address_range> ranges;
    for (const auto& [tid, general] : registers) {
        memory::address_range range = stack_range(general.rsp, prepared.maps, options);
        if (range.size == 0 && !maps_read_now) {
            prepared.maps = TRIAGE_TRY(procfs::read_maps(session.pid()));
            maps_read_now = true;
            range = stack_range(general.rsp, prepared.maps, options);
        }
        out.threads.push_back(copied_thread{tid, general, range});
        if (range.size > 0) ranges.push_back(range);
    }
    const auto to_copy = detail::merged(std::move(ranges));
    TRIAGE_TRY(prepared.storage.take(memory, to_copy, options.capture));
    out.memory = std::move(prepared.storage);
    return out;
}

template <memory::memory_source Source>
[[nodiscard]] result<stack_copy> copy_stacks(const ptrace::session& session, Source& memory,
                                             const stack_copy_options& options = {}) {
    stack_copy_preparation now;
    now.maps = TRIAGE_TRY(procfs::read_maps(session.pid()));
    return copy_stacks(session, memory, options, std::move(now));
}

} // namespace triage::unwind

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/unwind/impl/stack_copy.ipp"
#endif
