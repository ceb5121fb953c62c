// triage/unwind/unwinder.hpp — the native (C) stack of one thread, from its
// registers and any memory source: a live process, a core file, a copy of
// the stacks taken while the target was stopped (unwind/stack_copy.hpp).
//
// Offers `unwind_thread(modules, memory, registers, options)` →
// result<native_stack>: libdwfl (dwfl_getthread_frames over the module
// set's Dwfl) unwinds from `registers` (user_regs_struct: from
// ptrace::thread_registers::general or coredump::core_thread::general),
// reading stack words only through `memory`. Per frame it uses the CFI of
// the pc's object (.eh_frame, else .debug_frame, which may come from the
// debug file); where there is none (or the pc is in no object) elfutils'
// x86-64 backend follows the frame-pointer chain, and refuses a caller
// whose stack pointer would not be above the callee's. Each frame records
// which of the two produced it (cfi when an FDE covers the callee's
// lookup_pc(), exactly the test libdwfl makes before it falls back).
// The walk is bounded and ends, with the reason in native_stack::stopped
// and the error in native_stack::failure:
//   outermost (complete), depth_limit (options.max_frames frames, default
//   256), zero_pc (a caller at pc 0: not listed), stack_not_increasing (a
//   caller's rsp not above its callee's, except across a signal frame,
//   whose interrupted context may be on another stack: not listed),
//   unreadable_memory (the word is named; libdwfl reads a failed return
//   address under CFI as "no caller", which is reported as this, not as
//   outermost), no_unwind_info.
// The innermost frame is listed whatever its pc (a call through a null
// pointer leaves the thread at pc 0, which is worth seeing).
// Errors: errc::system when libdwfl cannot even start the walk (the module
// set's thread state is missing); everything about the target's stack is
// a native_stack with a failure, not an error. An exception thrown by the
// memory source, or bad_alloc, is held while libdwfl runs (none crosses
// its C frames) and rethrown when it has returned.
// Cost: nothing is re-reported per call; libdwfl's CFI and module caches
// live in the module set; one walk allocates its frames and libdwfl's
// per-frame state only.
// Thread-safe: as module_set (one thread at a time per set). Signal-safe:
// no. Target process: only what `memory` does (reads).
//
//   auto modules = TRIAGE_TRY(triage::unwind::module_set::of_process(pid));
//   auto session = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto memory = TRIAGE_TRY(triage::memory::live_process::open(pid));
//   auto regs = TRIAGE_TRY(session.registers(tid));
//   auto stack = TRIAGE_TRY(triage::unwind::unwind_thread(modules, memory, regs.general));
//   for (const auto& frame : stack.frames)
//       std::puts(triage::unwind::symbolize(modules, frame).function.c_str());
#pragma once

#include <sys/user.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/memory/memory_source.hpp"
#include "triage/unwind/detail/thread_callbacks.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/native_frame.hpp"

namespace triage::unwind {

struct unwind_options {
    std::size_t max_frames = 256;
};

namespace detail {
template <class M>
bool read_word(void* source, std::uint64_t address, std::uint64_t& word) {
    std::array<std::byte, sizeof word> bytes{};
    auto n = static_cast<M*>(source)->read(address, bytes);
    if (!n || *n != bytes.size()) return false;
    std::memcpy(&word, bytes.data(), sizeof word);
    return true;
}

[[nodiscard]] TRIAGE_DECL result<native_stack> unwind_with(module_set& modules, word_reader memory,
                                                           const user_regs_struct& registers,
                                                           const unwind_options& options);
} // namespace detail

template <memory::memory_source M>
[[nodiscard]] result<native_stack> unwind_thread(module_set& modules, M& memory, const user_regs_struct& registers,
                                                 const unwind_options& options = {}) {
    void* source = const_cast<void*>(static_cast<const void*>(std::addressof(memory)));
    return detail::unwind_with(modules, detail::word_reader{source, &detail::read_word<M>}, registers, options);
}

} // namespace triage::unwind

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/unwind/impl/unwinder.ipp"
#endif
