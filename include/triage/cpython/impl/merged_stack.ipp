// triage/cpython/impl/merged_stack.ipp — the definitions of
// triage/cpython/merged_stack.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include "triage/cpython/merged_stack.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL bool is_eval_loop(std::string_view function, std::string_view name) {
    if (!function.starts_with(name)) return false;
    return function.size() == name.size() || function[name.size()] == '.';  // "_PyEval_EvalFrameDefault.cold"
}

[[nodiscard]] TRIAGE_DECL std::string_view eval_loop_function(std::span<const unwind::native_symbol> symbols) {
    constexpr std::string_view modern = "_PyEval_EvalFrameDefault";
    for (const auto& s : symbols)
        if (is_eval_loop(s.function, modern)) return modern;
    return "PyEval_EvalFrameEx";
}

[[nodiscard]] TRIAGE_DECL merged_stack merge_stacks(std::span<const unwind::native_frame> native,
                                                    std::span<const unwind::native_symbol> symbols,
                                                    std::span<const python_frame> python) {
    // Runs of Python frames, innermost first: [begin, end) each ending with an entry frame.
    struct run {
        std::size_t begin, end;
    };
    std::vector<run> runs;
    for (std::size_t begin = 0; begin < python.size();) {
        std::size_t end = begin;
        while (end < python.size() && !python[end].entry) ++end;
        end = end < python.size() ? end + 1 : end;  // the entry frame closes its run
        runs.push_back({begin, end});
        begin = end;
    }
    const std::string_view loop = eval_loop_function(symbols);
    merged_stack out;
    std::size_t next_run = 0;
    auto add_python = [&](const run& r) {
        for (std::size_t i = r.begin; i < r.end; ++i) {
            merged_frame f;
            f.python = true;
            f.py = python[i];
            out.frames.push_back(std::move(f));
        }
    };
    for (std::size_t i = 0; i < native.size(); ++i) {
        const unwind::native_symbol* symbol = i < symbols.size() ? &symbols[i] : nullptr;
        if (symbol != nullptr && is_eval_loop(symbol->function, loop) && next_run < runs.size()) {
            add_python(runs[next_run++]);
            continue;
        }
        merged_frame f;
        f.native = native[i];
        if (symbol != nullptr) f.symbol = *symbol;
        f.eval_loop = symbol != nullptr && is_eval_loop(symbol->function, loop);
        if (f.eval_loop) ++out.unmatched_eval_frames;
        out.frames.push_back(std::move(f));
    }
    for (; next_run < runs.size(); ++next_run) {
        out.unmatched_python_frames += runs[next_run].end - runs[next_run].begin;
        add_python(runs[next_run]);
    }
    return out;
}

} // namespace triage::cpython
