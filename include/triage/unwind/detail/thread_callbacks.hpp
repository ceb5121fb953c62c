// triage/unwind/detail/thread_callbacks.hpp — the Dwfl_Thread_Callbacks
// through which libdwfl sees a thread: the registers and the memory we give
// it, never the process itself (no ptrace, no /proc/PID/mem).
//
// Offers (internal to unwind/): `word_reader` (a memory source erased to
// "read 8 bytes at an address"), `thread_context` (one walk's registers and
// reader, the last word it failed to read, and an exception it threw, kept
// until libdwfl has returned: none may cross its C frames), `current_thread` (the
// context of the walk running on this thread: libdwfl calls back only
// inside dwfl_getthread_frames, on the caller's thread) and
// `thread_callbacks()`, what module_set attaches to its Dwfl once.
// Thread-safe: the context is thread_local. Signal-safe: no.
// Target process: none (reads go to the caller's memory source).
//
//   triage::unwind::detail::thread_context context{reader, &registers};
//   triage::unwind::detail::current_thread = &context;  // then dwfl_getthread_frames(...)
#pragma once

#include <elfutils/libdwfl.h>
#include <sys/user.h>

#include <cstdint>
#include <exception>
#include <optional>

#include "triage/base/config.hpp"

namespace triage::unwind::detail {

struct word_reader {
    void* source = nullptr;
    bool (*read)(void* source, std::uint64_t address, std::uint64_t& word) = nullptr;  // may throw (bad_alloc)
};

struct thread_context {
    word_reader memory;
    const user_regs_struct* registers = nullptr;
    std::optional<std::uint64_t> failed_read;  // the last word the reader refused, since the caller reset it
    std::exception_ptr thrown;                 // what the reader threw: rethrown once libdwfl has returned
};

inline thread_local thread_context* current_thread = nullptr;

[[nodiscard]] TRIAGE_DECL const Dwfl_Thread_Callbacks& thread_callbacks() noexcept;

} // namespace triage::unwind::detail

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/unwind/detail/impl/thread_callbacks.ipp"
#endif
