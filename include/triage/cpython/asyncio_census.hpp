// triage/cpython/asyncio_census.hpp — the asyncio tasks of a process as
// plain values: each pending task's name, state, loop, thread, the chain
// of coroutines it is suspended in, and which tasks it awaits. Made by
// asyncio_tasks.hpp; printed with the Python stacks
// (python_stacks_report.hpp, report/).
// All compare with ==. Thread-safe: values only. Signal-safe: no.
// Target process: none touched.
//
//   for (const auto& t : census.tasks)
//       if (t.state == triage::cpython::task_state::waiting) show(t.name, t.frames, t.awaits);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/error.hpp"
#include "triage/cpython/stack_snapshot.hpp"

namespace triage::cpython {

enum class task_state : std::uint8_t {
    running,  // its coroutine is executing: its frames are its thread's stack
    waiting,  // suspended on a future (`awaiting`)
    ready,    // suspended, awaiting nothing: scheduled to run at its loop's next turn
};

[[nodiscard]] constexpr std::string_view to_string(task_state s) noexcept {
    switch (s) {
    case task_state::running: return "running";
    case task_state::waiting: return "waiting";
    case task_state::ready: return "ready";
    }
    return "unknown";
}

struct asyncio_task {
    std::uint64_t address = 0;          // the task object (its id() in the target)
    std::string name;                   // Task.get_name() ("Task-3" when unnamed); empty on 3.7 (no names)
    std::string type;                   // "_asyncio.Task", or a subclass's name
    task_state state = task_state::ready;
    std::uint64_t loop = 0;             // its event loop
    std::uint64_t thread = 0;           // python_ident of the thread running its loop (loop._thread_id);
                                        // 0: not known (the loop is not running, or keeps no _thread_id)
    std::vector<python_frame> frames;   // waiting/ready: the coroutine chain it is suspended in, innermost
                                        // first (one frame per coroutine); running: empty (the thread's stack)
    std::uint64_t awaiting = 0;         // the future it waits on (Task._fut_waiter), 0: none
    std::string awaiting_type;          // that future's type ("_asyncio.Future", "_GatheringFuture"...)
    std::vector<std::uint64_t> awaits;  // the tasks it waits for (by address): the task it awaits, a
                                        // gather's children; 3.14+ also what CPython records (TaskGroup)
    std::optional<error> failure;       // its chain or edges could not (all) be read

    friend bool operator==(const asyncio_task&, const asyncio_task&) = default;
};

struct asyncio_census {
    std::vector<asyncio_task> tasks;     // by thread (those of no known thread last), then running, waiting,
                                         // ready, each by name
    std::string found_in;                // where the tasks were found: "asyncio.tasks._all_tasks",
                                         // "_scheduled_tasks and _eager_tasks", "the GC's lists"
    std::uint64_t objects_scanned = 0;   // registry entries or GC-tracked objects looked at
    std::uint64_t not_c_tasks = 0;       // registry entries left out: not C tasks (pure-Python tasks,
                                         // objects given to _register_task)

    friend bool operator==(const asyncio_census&, const asyncio_census&) = default;
};

} // namespace triage::cpython
