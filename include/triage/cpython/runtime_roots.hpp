// triage/cpython/runtime_roots.hpp — where a CPython stack walk starts, as
// target addresses (found by runtime_locator.hpp, used by stack_walker.hpp).
//
// Offers: `runtime_roots`: the address of the pointer to the first
// interpreter state, and where the GIL holder is recorded (0 where the
// version has no such thing; 3.12+ keeps its GIL behind the interpreter);
// `located_runtime`: those roots with _PyRuntime's address and how it was
// found.
// Errors: none. Thread-safe and signal-safe: a value. Target process: none.
//
//   triage::cpython::runtime_roots roots{.interpreters_head = runtime + 40};
#pragma once

#include <cstdint>
#include <string>

namespace triage::cpython {

struct runtime_roots {
    std::uint64_t interpreters_head = 0;  // address of the PyInterpreterState * of the first interpreter
    std::uint64_t current_thread = 0;     // address of the PyThreadState * holding the GIL (≤3.11)
    std::uint64_t gil_locked = 0;         // address of the GIL's `locked` int (3.6–3.11)
    std::uint64_t gil_last_holder = 0;    // address of the GIL's last holder pointer (3.6–3.11)
};

// Where the roots came from: what runtime_locator.hpp found.
struct located_runtime {
    runtime_roots roots;
    std::uint64_t runtime = 0;  // _PyRuntime (3.7+), else 0
    std::string method;         // "_PyRuntime symbol", ".PyRuntime section", "interp_head symbol", ...
};

} // namespace triage::cpython
