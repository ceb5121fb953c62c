// triage/cpython/impl/runtime_locator.ipp — the definitions of
// triage/cpython/runtime_locator.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/runtime_locator.hpp"

namespace triage::cpython::detail::locator {

[[nodiscard]] TRIAGE_DECL located_runtime roots_for(const layout& l, const interpreter_image& image, std::uint64_t runtime,
                                                    std::uint64_t head, std::string method) {
    located_runtime out;
    out.runtime = runtime;
    out.method = std::move(method);
    out.roots.interpreters_head = head;
    if (l.runtime.current_thread_from == current_thread_root::runtime && runtime != 0) {
        out.roots.current_thread = runtime + l.runtime.tstate_current;
    } else if (l.runtime.current_thread_from == current_thread_root::thread_state_current_symbol) {
        out.roots.current_thread = image.symbol(symbol_thread_state_current).value_or(0);
    }
    if (l.runtime.gil_from == gil_root::runtime && runtime != 0) {
        out.roots.gil_locked = runtime + l.runtime.gil + l.gil.locked;
        out.roots.gil_last_holder = runtime + l.runtime.gil + l.gil.last_holder;
    } else if (l.runtime.gil_from == gil_root::static_symbols) {
        out.roots.gil_locked = image.symbol(symbol_gil_locked).value_or(0);
        out.roots.gil_last_holder = image.symbol(symbol_gil_last_holder).value_or(0);
        if (out.roots.gil_locked == 0 || out.roots.gil_last_holder == 0) out.roots.gil_locked = out.roots.gil_last_holder = 0;
    }
    return out;
}

} // namespace triage::cpython::detail::locator
