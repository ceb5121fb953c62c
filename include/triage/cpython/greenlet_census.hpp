// triage/cpython/greenlet_census.hpp — the greenlets of a process as
// plain values: each one's state, thread, parent and (switched out) Python
// stack. Made by greenlets.hpp; printed with the Python stacks
// (python_stacks_report.hpp, report/).
// All compare with ==. Thread-safe: values only. Signal-safe: no.
// Target process: none touched.
//
//   for (const auto& g : census.greenlets)
//       if (g.state == triage::cpython::greenlet_state::suspended) show(g.type, g.frames);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/error.hpp"
#include "triage/cpython/stack_snapshot.hpp"

namespace triage::cpython {

enum class greenlet_state : std::uint8_t {
    running,      // its thread's current greenlet
    suspended,    // started and switched out: `frames` is where it waits
    not_started,  // created, never switched to
    dead,         // finished (or its thread is gone)
};

[[nodiscard]] constexpr std::string_view to_string(greenlet_state s) noexcept {
    switch (s) {
    case greenlet_state::running: return "running";
    case greenlet_state::suspended: return "suspended";
    case greenlet_state::not_started: return "not started";
    case greenlet_state::dead: return "dead";
    }
    return "unknown";
}

struct greenlet_stack {
    std::uint64_t address = 0;         // the greenlet object (its id() in the target)
    std::string type;                  // its type's name: "greenlet.greenlet", "GreenThread", "Hub"...
    greenlet_state state = greenlet_state::dead;
    bool main = false;                 // a thread's main greenlet (the thread's own stack)
    std::uint64_t parent = 0;          // the greenlet it returns to when it ends (0: none, a main greenlet)
    std::uint64_t thread = 0;          // python_ident (pthread_t) of its thread; 0: not known (not started
                                       // yet, or its thread is gone)
    std::vector<python_frame> frames;  // suspended: its stack, innermost first; running: empty (it is the
                                       // thread's stack)
    std::optional<error> failure;      // its state or frames could not (all) be read

    friend bool operator==(const greenlet_stack&, const greenlet_stack&) = default;
};

struct greenlet_census {
    std::string version;                    // greenlet.__version__ in the target ("2.0.2")
    std::vector<greenlet_stack> greenlets;  // by thread, each thread's main greenlet first, then GC order;
                                            // those of no known thread last
    std::uint64_t objects_scanned = 0;      // objects the GC walk visited

    friend bool operator==(const greenlet_census&, const greenlet_census&) = default;
};

} // namespace triage::cpython
