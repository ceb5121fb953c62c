// triage/cpython/native_stacks.hpp — native stacks added to a Python stacks
// report: each thread's C frames, with its Python frames in place of the
// evaluation-loop frames that run them, and the threads that run no Python.
//
// Offers:
//  - `native_stack_of(modules, memory, registers, python_frames, options)`
//    → `thread_native_stack`: one thread's merged stack, and why its walk
//    could not start or ended early.
//  - `add_native_stacks(report, modules, memory, threads, options)`: for
//    each {tid, registers} of `threads`, unwinds over `memory`
//    (unwind/unwinder.hpp: a stack copy taken while the target was stopped,
//    or a core), symbolises every frame (unwind/symbolize.hpp) and merges
//    it with the thread's Python frames (merged_stack.hpp) into
//    thread_stack::native; a walk that ended early keeps its frames and says
//    why in native_failure. A thread of `threads` with no Python stack in
//    the report is appended (python_ident 0, no Python frames), named from
//    /proc for a live report. Sets report.native.
//  - `debug_file_locator_hook(root)`: the unwinder's debug-file hook served
//    by elf::locate_debug_info under `root` (/proc/PID/root for a live
//    process: its own container's debug files first), without debuginfod
//    (asking servers is triage-debuginfo's explicit job).
// Errors: none: a thread whose unwind could not start has native_failure.
// Thread-safe: as unwind::module_set (one thread at a time per set).
// Signal-safe: no. Target process: none (reads `memory` and files; /proc
// names for native-only threads of a live report).
//
//   auto copy = TRIAGE_TRY(triage::unwind::copy_stacks(session, memory));  // while stopped
//   ... session.release() ...
//   std::vector<triage::cpython::thread_registers> regs;
//   for (auto& t : copy.threads) regs.push_back({t.tid, t.registers});
//   triage::cpython::add_native_stacks(report, modules, copy.memory, regs);
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/cpython/merged_stack.hpp"
#include "triage/cpython/python_stacks_report.hpp"
#include "triage/memory/memory_source.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/symbolize.hpp"
#include "triage/unwind/unwinder.hpp"

namespace triage::cpython {

struct thread_registers {
    pid_t tid = 0;
    user_regs_struct registers{};
};

namespace detail {
// The report's thread for `tid`, appended (native only) when it has none.
[[nodiscard]] TRIAGE_DECL thread_stack& thread_for(python_stacks_report& report, pid_t tid);
} // namespace detail

struct thread_native_stack {
    std::vector<merged_frame> frames;  // innermost first
    std::optional<error> failure;      // the walk could not start, or ended early: why
};

template <memory::memory_source M>
[[nodiscard]] thread_native_stack native_stack_of(unwind::module_set& modules, M& memory, const user_regs_struct& registers,
                                                  std::span<const python_frame> python,
                                                  const unwind::unwind_options& options = {}) {
    auto stack = unwind::unwind_thread(modules, memory, registers, options);
    if (!stack) return {{}, std::move(stack.error())};
    std::vector<unwind::native_symbol> symbols;
    symbols.reserve(stack->frames.size());
    for (const auto& frame : stack->frames) symbols.push_back(unwind::symbolize(modules, frame));
    return {merge_stacks(stack->frames, symbols, python).frames, std::move(stack->failure)};
}

template <memory::memory_source M>
void add_native_stacks(python_stacks_report& report, unwind::module_set& modules, M& memory,
                       std::span<const thread_registers> threads, const unwind::unwind_options& options = {}) {
    report.native = true;
    for (const thread_registers& t : threads) {
        thread_stack& thread = detail::thread_for(report, t.tid);
        auto stack = native_stack_of(modules, memory, t.registers, thread.frames, options);
        thread.native = std::move(stack.frames);
        thread.native_failure = std::move(stack.failure);
    }
}

[[nodiscard]] TRIAGE_DECL unwind::debug_file_hook debug_file_locator_hook(std::string root);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/native_stacks.ipp"
#endif
