// triage/unwind/native_frame.hpp — the words of native unwinding: a frame,
// how it was found, why a walk ended, and a frame's symbolic form.
//
// Offers:
//  - `native_frame`: a pc, whether it is an activation (the thread was at
//    that very instruction: the innermost frame, or a frame a signal
//    interrupted; otherwise pc is a return address, and `lookup_pc()`,
//    pc - 1, is the call instruction's byte to look symbols and lines up
//    with), the stack pointer of the frame (rsp in that frame, as unwound;
//    0 when the rules left it unknown), and `found_by`: the initial
//    registers, call frame information (.eh_frame / .debug_frame), or the
//    frame-pointer chain (rbp), the fallback where the pc has no CFI.
//  - `stop_reason` and `native_stack`: the frames of one walk, innermost
//    first, why the walk ended, and, unless it reached the thread's
//    outermost frame, an error saying where and why.
//  - `native_symbol`: the object (path as mapped), function (demangled when
//    it is C++), offset of pc in it, and source file:line when DWARF lines
//    are present.
// All are plain values that compare with ==.
// Thread-safe: values only. Signal-safe: no (strings). Target process: none.
//
//   for (const triage::unwind::native_frame& f : stack.frames)
//       std::printf("%#llx%s\n", (unsigned long long)f.pc, f.activation ? "" : " (return address)");
//   if (!stack.complete()) std::puts(stack.failure->message().c_str());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/error.hpp"

namespace triage::unwind {

enum class frame_source : std::uint8_t {
    initial_registers,  // the thread's own registers: the innermost frame
    cfi,                // the callee's call frame information (.eh_frame, else .debug_frame)
    frame_pointer,      // the callee had no CFI: its rbp chain (saved rbp at [rbp], return address at [rbp+8])
};

[[nodiscard]] constexpr std::string_view to_string(frame_source s) noexcept {
    switch (s) {
    case frame_source::initial_registers: return "registers";
    case frame_source::cfi: return "cfi";
    case frame_source::frame_pointer: return "frame pointer";
    }
    return "?";
}

struct native_frame {
    std::uint64_t pc = 0;
    bool activation = false;            // pc is where the thread was, not a return address
    std::uint64_t stack_pointer = 0;    // rsp in this frame; 0 when unknown
    frame_source found_by = frame_source::initial_registers;

    // The address that belongs to the frame's function and line: a return
    // address may be the first byte of the next function or line.
    [[nodiscard]] std::uint64_t lookup_pc() const noexcept { return activation || pc == 0 ? pc : pc - 1; }

    friend bool operator==(const native_frame&, const native_frame&) = default;
};

enum class stop_reason : std::uint8_t {
    outermost,             // the CFI says the frame has no caller (_start, a thread's start): the whole stack
    depth_limit,           // unwind_options::max_frames frames were found
    zero_pc,               // a caller's pc was 0
    stack_not_increasing,  // a caller's stack pointer was not above its callee's: garbage or a loop
    unreadable_memory,     // a stack word the rules needed could not be read from the memory source
    no_unwind_info,        // no CFI for the pc and no usable frame pointer (rbp 0, or the pc in no module)
};

[[nodiscard]] constexpr std::string_view to_string(stop_reason r) noexcept {
    switch (r) {
    case stop_reason::outermost: return "outermost frame";
    case stop_reason::depth_limit: return "depth limit";
    case stop_reason::zero_pc: return "zero pc";
    case stop_reason::stack_not_increasing: return "stack pointer not increasing";
    case stop_reason::unreadable_memory: return "unreadable memory";
    case stop_reason::no_unwind_info: return "no unwind information";
    }
    return "?";
}

struct native_stack {
    std::vector<native_frame> frames;     // innermost first
    stop_reason stopped = stop_reason::outermost;
    std::optional<error> failure;         // set unless stopped == outermost: where and why it ended

    [[nodiscard]] bool complete() const noexcept { return stopped == stop_reason::outermost; }

    friend bool operator==(const native_stack&, const native_stack&) = default;
};

struct native_symbol {
    std::string object;        // the mapped object's path; empty: the pc is in no reported object
    std::string function;      // demangled when C++; empty: no symbol covers the pc
    std::uint64_t offset = 0;  // pc - the function's start
    std::string file;          // source file from DWARF lines; empty when there are none
    int line = 0;              // 0 when unknown

    friend bool operator==(const native_symbol&, const native_symbol&) = default;
};

} // namespace triage::unwind
