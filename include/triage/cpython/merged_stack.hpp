// triage/cpython/merged_stack.hpp — one thread's native frames with its
// Python frames in place of the evaluation-loop frames that run them (what
// pystack --native and py-spy --native show).
//
// Offers:
//  - `merged_frame`: a native frame (pc, how it was unwound, its symbol) or
//    a Python frame; `eval_loop` marks a native evaluation-loop frame left
//    without Python frames (see below).
//  - `is_eval_loop(function, name)`: whether a native function is the
//    evaluation loop that `name` designates ("_PyEval_EvalFrameDefault",
//    also its compiler-split parts such as ".cold"; 2.7's
//    "PyEval_EvalFrameEx").
//  - `eval_loop_function(symbols)`: which name a stack's evaluation loop has:
//    _PyEval_EvalFrameDefault when any frame is in it (3.6+, where
//    PyEval_EvalFrameEx, when present, only calls it), else
//    PyEval_EvalFrameEx (2.7).
//  - `merge_stacks(native, symbols, python)` → `merged_stack`: Python
//    frames (innermost first, python_frame::entry set by the walker) are
//    cut into runs, each ending with an entry frame: the frames one C call
//    of the evaluation loop runs. Evaluation-loop native frames and runs
//    are paired from the innermost (where both stacks start: a native walk
//    or a Python walk that ends early loses outer frames, not inner ones),
//    each loop frame replaced by its run. Left over: outer loop frames stay
//    as native frames with `eval_loop` set (`unmatched_eval_frames`: a
//    Python walk that ended early, or a frame the walker could not read);
//    outer runs are appended after the last native frame
//    (`unmatched_python_frames`: the native walk ended early).
// Pure: nothing is read. Thread-safe: yes. Signal-safe: no (allocates).
//
//   auto merged = triage::cpython::merge_stacks(native.frames, symbols, thread.frames);
//   for (const auto& f : merged.frames)
//       std::puts(f.python ? f.py.function.c_str() : f.symbol.function.c_str());
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/unwind/native_frame.hpp"

namespace triage::cpython {

struct merged_frame {
    bool python = false;           // a Python frame (`py`); else a native one (`native`, `symbol`)
    python_frame py;
    unwind::native_frame native;
    unwind::native_symbol symbol;
    bool eval_loop = false;  // a native evaluation-loop frame no Python frames were paired with

    friend bool operator==(const merged_frame&, const merged_frame&) = default;
};

struct merged_stack {
    std::vector<merged_frame> frames;  // innermost first
    std::size_t unmatched_eval_frames = 0;
    std::size_t unmatched_python_frames = 0;

    friend bool operator==(const merged_stack&, const merged_stack&) = default;
};

[[nodiscard]] TRIAGE_DECL bool is_eval_loop(std::string_view function, std::string_view name);

[[nodiscard]] TRIAGE_DECL std::string_view eval_loop_function(std::span<const unwind::native_symbol> symbols);

// `symbols[i]` is the symbol of `native[i]`.
[[nodiscard]] TRIAGE_DECL merged_stack merge_stacks(std::span<const unwind::native_frame> native,
                                                    std::span<const unwind::native_symbol> symbols,
                                                    std::span<const python_frame> python);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/merged_stack.ipp"
#endif
