// triage/unwind/detail/impl/thread_callbacks.ipp — the definitions of
// triage/unwind/detail/thread_callbacks.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/unwind/detail/thread_callbacks.hpp"

namespace triage::unwind::detail {

[[nodiscard]] TRIAGE_DECL const Dwfl_Thread_Callbacks& thread_callbacks() noexcept {
    // Threads are not listed: a walk names its one thread (get_thread).
    static constexpr auto next_thread = [](Dwfl*, void*, void**) -> pid_t { return 0; };
    static constexpr auto get_thread = [](Dwfl*, pid_t, void*, void** thread_arg) -> bool {
        *thread_arg = current_thread;
        return current_thread != nullptr;
    };
    static constexpr auto memory_read = [](Dwfl*, Dwarf_Addr address, Dwarf_Word* word, void*) noexcept -> bool {
        thread_context* context = current_thread;
        if (context == nullptr) return false;
        std::uint64_t value = 0;
        bool read = false;
        try {
            read = context->memory.read(context->memory.source, address, value);
        } catch (...) {
            if (!context->thrown) context->thrown = std::current_exception();
        }
        if (!read) {
            context->failed_read = address;
            return false;
        }
        *word = value;
        return true;
    };
    // x86-64 DWARF register numbers: rax rdx rcx rbx rsi rdi rbp rsp r8..r15, rip (16).
    static constexpr auto set_initial_registers = [](Dwfl_Thread* thread, void* thread_arg) -> bool {
        const user_regs_struct& r = *static_cast<thread_context*>(thread_arg)->registers;
        const Dwarf_Word regs[17] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
                                     r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
        if (!dwfl_thread_state_registers(thread, 0, 17, regs)) return false;
        dwfl_thread_state_register_pc(thread, r.rip);
        return true;
    };
    static const Dwfl_Thread_Callbacks callbacks{
        .next_thread = next_thread,
        .get_thread = get_thread,
        .memory_read = memory_read,
        .set_initial_registers = set_initial_registers,
        .detach = nullptr,
        .thread_detach = nullptr,
    };
    return callbacks;
}

} // namespace triage::unwind::detail
