// triage/cpython/runtime_roots.hpp — where a CPython stack walk starts, as
// target addresses (found by runtime_locator.hpp, used by stack_walker.hpp).
//
// Offers: `runtime_roots`: the address of the pointer to the first
// interpreter state, and where the GIL holder is recorded (0 where the
// version has no such thing; 3.12+ keeps its GIL behind the interpreter).
// Errors: none. Thread-safe and signal-safe: a value. Target process: none.
//
//   triage::cpython::runtime_roots roots{.interpreters_head = runtime + 40};
#pragma once

#include <cstdint>

namespace triage::cpython {

struct runtime_roots {
    std::uint64_t interpreters_head = 0;  // address of the PyInterpreterState * of the first interpreter
    std::uint64_t current_thread = 0;     // address of the PyThreadState * holding the GIL (≤3.11)
    std::uint64_t gil_locked = 0;         // address of the GIL's `locked` int (3.6–3.11)
    std::uint64_t gil_last_holder = 0;    // address of the GIL's last holder pointer (3.6–3.11)
};

} // namespace triage::cpython
