// triage/cpython/stack_snapshot.hpp — what a walk of the Python stacks
// produces, as plain values, and the bounds it respects: no layouts, no
// memory sources (stack_walker.hpp reads them; python_stacks_report.hpp
// joins them with what /proc says).
//
// Offers:
//  - `walk_limits`: the bounds every walk respects (interpreters, threads,
//    frames per thread, string length, line-table size).
//  - `python_frame`, `python_thread`, `stack_snapshot`: plain values that
//    compare with == ({fmt} formatters: report/python_format.hpp).
// Thread-safe: plain values. Signal-safe: no (they allocate). Target
// process: none.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "triage/base/error.hpp"

namespace triage::cpython {

struct walk_limits {
    std::size_t max_interpreters = 256;
    std::size_t max_threads = 4096;
    std::size_t max_frames = 4096;                  // per thread
    std::size_t max_string_chars = 1024;            // names and file names
    std::size_t max_line_table_bytes = 4u << 20;    // a code object's line table
};

struct python_frame {
    std::string function;       // co_qualname (3.11+) or co_name
    std::string name;           // co_name (what faulthandler prints)
    std::string file;           // co_filename
    std::optional<int> line;    // the instruction's line (or, when it has none, that of the
                                // nearest instruction before it); nullopt: none found
    std::uint64_t code = 0;     // address of the code object
    std::uint64_t address = 0;  // of the frame: PyFrameObject (≤3.10) or _PyInterpreterFrame (3.11+)
    std::int64_t instruction = -1;  // what the line table is asked about: f_lasti (bytes, ≤3.9),
                                    // else the instruction's index in 2-byte code units; -1: not started
    std::uint32_t flags = 0;    // co_flags (generator, coroutine...)
    // An entry frame: the first (outermost) Python frame that one C call of
    // the evaluation loop runs (_PyEval_EvalFrameDefault; PyEval_EvalFrameEx
    // on 2.7), so that a native stack shows one eval-loop frame per entry
    // frame, and each eval-loop frame runs its entry frame and the frames
    // inner to it up to the next entry frame. Per version:
    //  - 2.7, 3.6–3.10: every frame (each Python call is its own C call of
    //    the loop, generators and coroutines resumed by send/next too);
    //  - 3.11: the frame's is_entry flag (Python-to-Python calls run inline
    //    in the caller's C call and are not entry frames);
    //  - 3.12+: a frame whose `previous` is a frame the loop pushed on the C
    //    stack (owner FRAME_OWNED_BY_CSTACK on 3.12 and 3.13,
    //    FRAME_OWNED_BY_INTERPRETER or CSTACK on 3.14, INTERPRETER on 3.15;
    //    the frames the walker skips as shims), or whose `previous` is null.
    // A frame whose walk stopped at it (an error, the frame limit) is not
    // marked. An entry frame the walker leaves out (incomplete: its C call
    // has not run its first instruction yet) leaves its C call without one.
    bool entry = false;

    friend bool operator==(const python_frame&, const python_frame&) = default;
};

struct python_thread {
    std::uint64_t thread_state = 0;         // address of the PyThreadState
    std::uint64_t interpreter = 0;          // address of its PyInterpreterState
    std::int64_t interpreter_id = 0;        // 0 for the main interpreter (and on 2.7/3.6)
    std::uint64_t python_ident = 0;         // threading.get_ident(): the pthread_t, not a tid
    std::string python_name;                // threading.Thread.name; "" unknown (set by thread_names.hpp,
                                            // not by the walker)
    std::optional<pid_t> tid;               // kernel tid, when the version records it (3.11+) and no other thread state claims it
    bool holds_gil = false;
    std::uint64_t gil = 0;                  // address of the struct _gil_runtime_state its interpreter
                                            // runs under (3.7+; 0: not known; see gil_wait.hpp)
    bool consistent = true;                 // false: a second read of its stack disagreed with the first
    std::vector<python_frame> frames;       // innermost first
    std::optional<error> failure;           // the walk stopped early; frames hold what was read

    friend bool operator==(const python_thread&, const python_thread&) = default;
};

struct stack_snapshot {
    std::size_t interpreters = 0;
    std::vector<python_thread> threads;
    // false: the thread list ended early when it was read (a thread state
    // published before its link was set: a recheck found it linking on, or
    // holding another thread; 3.14+: the walk missed the main thread), so
    // threads may be missing; `consistent_snapshot` then takes it again.
    bool thread_list_complete = true;
    [[nodiscard]] bool consistent() const noexcept {
        return thread_list_complete &&
               std::ranges::all_of(threads, [](const python_thread& t) { return t.consistent && !t.failure; });
    }
};

} // namespace triage::cpython
