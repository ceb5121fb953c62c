// triage/unwind/impl/unwinder.ipp — the definitions of
// triage/unwind/unwinder.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "triage/base/text.hpp"
#include "triage/unwind/unwinder.hpp"

namespace triage::unwind::detail {

// The CFI row libdwfl unwinds the frame at `lookup_pc` with: from an FDE
// of the object's .eh_frame, else its .debug_frame; null when none covers
// the address, where libdwfl falls back to the frame pointer
// (libdwfl/frame_unwind.c).
[[nodiscard]] TRIAGE_DECL std::unique_ptr<Dwarf_Frame, void (*)(void*)> cfi_row(Dwfl* dwfl, std::uint64_t lookup_pc) {
    std::unique_ptr<Dwarf_Frame, void (*)(void*)> row{nullptr, &std::free};
    Dwfl_Module* module = ::dwfl_addrmodule(dwfl, lookup_pc);
    if (module == nullptr) return row;
    auto find = [&](Dwarf_CFI* cfi, Dwarf_Addr bias) {
        Dwarf_Frame* frame = nullptr;
        if (cfi != nullptr && ::dwarf_cfi_addrframe(cfi, lookup_pc - bias, &frame) == 0) row.reset(frame);
        return row != nullptr;
    };
    Dwarf_Addr bias = 0;
    if (Dwarf_CFI* eh = ::dwfl_module_eh_cfi(module, &bias); find(eh, bias)) return row;
    Dwarf_CFI* dwarf = ::dwfl_module_dwarf_cfi(module, &bias);
    find(dwarf, bias);
    return row;
}

// Whether the CFI of the frame at `lookup_pc` marks its return address
// undefined: the outermost frame of a thread (_start, clone3). libdwfl ends
// a walk the same way when the return address it computes is 0.
[[nodiscard]] TRIAGE_DECL bool return_address_undefined(Dwfl* dwfl, std::uint64_t lookup_pc) {
    auto row = cfi_row(dwfl, lookup_pc);
    if (!row) return false;
    Dwarf_Op ops_storage[3];
    Dwarf_Op* ops = nullptr;
    std::size_t count = 0;
    if (::dwarf_frame_register(row.get(), 16, ops_storage, &ops, &count) != 0) return false;
    return count == 0 && ops == ops_storage;
}

// One walk's bookkeeping, seen by the frame callback.
struct walk_state {
    Dwfl* dwfl = nullptr;
    std::size_t max_frames = 0;
    native_stack stack;
    bool ended = false;                             // the callback stopped the walk (stack.stopped says why)
    frame_source next_source = frame_source::initial_registers;  // how the next frame will be found
    std::optional<std::uint64_t> last_rbp;          // rbp of the last listed frame, when known
    thread_context* context = nullptr;
    std::exception_ptr thrown;                      // bad_alloc in the callback

    void end(stop_reason why, errc code, std::string context_text) {
        ended = true;
        stack.stopped = why;
        stack.failure = error{code, 0, std::move(context_text), {}};
    }
};

[[nodiscard]] TRIAGE_DECL std::string frame_words(const native_stack& stack) {
    if (stack.frames.empty()) return "the initial registers";
    const native_frame& last = stack.frames.back();
    return "frame #" + std::to_string(stack.frames.size() - 1) + " (pc " + hex(last.pc) + ")";
}

TRIAGE_DECL int on_frame(Dwfl_Frame* state, void* arg) noexcept {
    auto& w = *static_cast<walk_state*>(arg);
    try {
        // Reads from here on belong to unwinding this frame's caller
        // (dwfl_frame_pc's activation question already unwinds it).
        w.context->failed_read.reset();
        if (w.stack.frames.size() >= w.max_frames) {
            w.end(stop_reason::depth_limit, errc::limit_exceeded,
                  "unwinding past " + std::to_string(w.max_frames) + " frames (unwind_options::max_frames)");
            return DWARF_CB_ABORT;
        }
        Dwarf_Addr pc = 0;
        bool activation = false;
        if (!::dwfl_frame_pc(state, &pc, &activation)) {
            w.end(stop_reason::no_unwind_info, errc::not_found,
                  dwfl_message("reading the pc of the caller of " + frame_words(w.stack)));
            return DWARF_CB_ABORT;
        }
        Dwarf_Word sp = 0, rbp = 0;
        if (::dwfl_frame_reg(state, 7, &sp) != 0) sp = 0;
        const bool rbp_known = ::dwfl_frame_reg(state, 6, &rbp) == 0;
        native_frame frame{pc, activation, sp, w.next_source};
        if (!w.stack.frames.empty()) {
            const native_frame& callee = w.stack.frames.back();
            if (pc == 0) {
                w.end(stop_reason::zero_pc, errc::not_found,
                      "unwinding past " + frame_words(w.stack) + ": its return address is 0");
                return DWARF_CB_ABORT;
            }
            // A signal frame's interrupted context may be on another stack (sigaltstack).
            if (!activation && sp != 0 && callee.stack_pointer != 0 && sp <= callee.stack_pointer) {
                w.end(stop_reason::stack_not_increasing, errc::inconsistent,
                      "unwinding past " + frame_words(w.stack) + ": the caller's stack pointer " + hex(sp) +
                          " is not above " + hex(callee.stack_pointer));
                return DWARF_CB_ABORT;
            }
        }
        w.stack.frames.push_back(frame);
        w.last_rbp = rbp_known ? std::optional<std::uint64_t>{rbp} : std::nullopt;
        w.next_source = cfi_row(w.dwfl, frame.lookup_pc()) ? frame_source::cfi : frame_source::frame_pointer;
        return DWARF_CB_OK;
    } catch (...) {
        w.thrown = std::current_exception();  // rethrown once libdwfl has returned
        return DWARF_CB_ABORT;
    }
}

[[nodiscard]] TRIAGE_DECL result<native_stack> unwind_with(module_set& modules, word_reader memory,
                                                           const user_regs_struct& registers,
                                                           const unwind_options& options) {
    thread_context context{memory, &registers, std::nullopt, nullptr};
    walk_state w;
    w.dwfl = modules.handle();
    w.max_frames = options.max_frames;
    w.context = &context;

    thread_context* outer = std::exchange(current_thread, &context);
    (void)::dwfl_errno();  // forget an earlier failure, so that the message is this walk's
    const pid_t tid = modules.pid() > 0 ? modules.pid() : 1;  // any: the callbacks serve one thread
    const int rc = ::dwfl_getthread_frames(w.dwfl, tid, on_frame, &w);
    current_thread = outer;
    if (w.thrown) std::rethrow_exception(w.thrown);
    if (context.thrown) std::rethrow_exception(context.thrown);

    if (w.ended) return std::move(w.stack);
    if (rc != 0 && w.stack.frames.empty())
        return fail(errc::system, dwfl_message("starting to unwind from pc " + hex(registers.rip)));

    const std::string past = "unwinding past " + frame_words(w.stack);
    if (context.failed_read) {
        w.end(stop_reason::unreadable_memory, errc::bad_address,
              past + ": the stack word at " + hex(*context.failed_read) + " is not in the memory source");
    } else if (rc == 0) {
        if (return_address_undefined(w.dwfl, w.stack.frames.back().lookup_pc()))
            w.stack.stopped = stop_reason::outermost;
        else
            w.end(stop_reason::zero_pc, errc::not_found, past + ": its CFI gives a return address of 0");
    } else if (w.next_source == frame_source::frame_pointer) {
        // elfutils' x86-64 fallback gives up when rbp is 0 or when rbp + 16
        // (the caller's rsp) would not be above the callee's rsp.
        const native_frame& last = w.stack.frames.back();
        const std::string where = ::dwfl_addrmodule(w.dwfl, last.lookup_pc()) != nullptr
                                      ? "no CFI covers its pc"
                                      : "its pc is in no reported object";
        if (!w.last_rbp || *w.last_rbp == 0) {
            w.end(stop_reason::no_unwind_info, errc::not_found, past + ": " + where + " and rbp is 0");
        } else if (last.stack_pointer != 0 && *w.last_rbp + 16 <= last.stack_pointer) {
            w.end(stop_reason::stack_not_increasing, errc::inconsistent,
                  past + ": " + where + " and the frame pointer " + hex(*w.last_rbp) + " is below the stack pointer " +
                      hex(last.stack_pointer));
        } else {
            w.end(stop_reason::no_unwind_info, errc::not_found, dwfl_message(past + ": " + where));
        }
    } else {
        w.end(stop_reason::no_unwind_info, errc::not_found, dwfl_message(past));
    }
    return std::move(w.stack);
}

} // namespace triage::unwind::detail
