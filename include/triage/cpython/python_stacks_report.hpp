// triage/cpython/python_stacks_report.hpp — the Python stacks of a process
// or a core, with what the OS says of each thread, as plain values.
//
// Offers: `python_stacks_report` (pid, command line, program, interpreter,
// version, whether free-threaded, how it was read, how long the target was stopped, and one
// `thread_stack` per Python thread: kernel tid, its tid inside the
// target's PID namespace, threading.get_ident(), Python and OS names, state letter,
// CPU%, GIL held or waited for, consistency, frames, the walk's error, and
// with native stacks the merged stack; with locals, each frame's
// `frame_variables`: its arguments and locals, or why they could not be
// read; `locals_of(thread, frame)` finds a frame's; with greenlets, the
// thread's greenlets), `greenlets_read` (the greenlet census's version and
// the greenlets of no thread shown, or why none were read), `crash_info` (a crashed process's
// core: the signal, its code, the faulting address, the thread),
// `unmatched_file` (a core's code object missing here or another build)
// and `stacks_source`.
// All compare with ==. Made by python_stacks.hpp; printed by
// report/pystack_text.hpp and report/pystack_json.hpp; {fmt} formatters in
// report/python_format.hpp.
// Thread-safe: values only. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::cpython::python_stacks(pid));
//   for (const auto& t : r.threads)
//       if (!t.frames.empty()) fmt::print("{} {}\n", t.tid.value_or(0), t.frames.front().function);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/error.hpp"
#include "triage/cpython/asyncio_census.hpp"
#include "triage/cpython/frame_locals.hpp"
#include "triage/cpython/greenlet_census.hpp"
#include "triage/cpython/merged_stack.hpp"
#include "triage/cpython/stack_snapshot.hpp"

namespace triage::cpython {

enum class stacks_source : std::uint8_t {
    blocking,     // every thread stopped for one consistent read
    nonblocking,  // read while the target ran; moving stacks re-read
    core,         // read from a core file
};

[[nodiscard]] constexpr std::string_view to_string(stacks_source s) noexcept {
    switch (s) {
    case stacks_source::blocking: return "blocking";
    case stacks_source::nonblocking: return "nonblocking";
    case stacks_source::core: return "core";
    }
    return "unknown";
}

// A frame's arguments and locals (frame_locals.hpp), or why its code
// object could not be read.
struct frame_variables {
    std::vector<frame_local> values;  // parameters first, then locals and cells, in slot order
    std::optional<error> failure;

    friend bool operator==(const frame_variables&, const frame_variables&) = default;
};

struct thread_stack {
    std::optional<pid_t> tid;           // kernel tid as this machine's /proc shows it; nullopt: unknown
    std::optional<pid_t> ns_tid;        // its tid inside the target's PID namespace, when that is another one
    std::uint64_t python_ident = 0;     // threading.get_ident() (the pthread_t): not a tid
    std::string python_name;            // threading.Thread.name ("" unknown, or not a threading thread)
    std::string name;                   // the OS thread name, as the target set it ("" unknown)
    char state = '?';                   // kernel state letter as the CPU window ended ('?' unknown, cores)
    std::optional<double> cpu_percent;  // of one core, 0–100; nullopt: not measured
    bool holds_gil = false;
    bool waits_for_gil = false;         // blocked in futex() on its interpreter's GIL (live, 3.7+:
                                        // see gil_wait.hpp); false also when not known
    bool consistent = true;             // false: its stack moved while it was read (nonblocking)
    std::vector<python_frame> frames;   // innermost first
    std::optional<error> failure;       // the walk stopped early; frames hold what was read
    std::vector<merged_frame> native;   // with native stacks: C frames, Python frames in place of the
                                        // evaluation loop's (merged_stack.hpp); innermost first
    std::optional<error> native_failure;  // the native walk ended before the thread's first frame
    std::vector<frame_variables> locals;  // with locals: one per entry of `frames`
    std::vector<greenlet_stack> greenlets;  // with greenlets: this thread's, its main greenlet first (the
                                            // running one's stack is `frames`)
    std::vector<asyncio_task> tasks;        // with tasks: the asyncio tasks of the loop this thread runs (a
                                            // running one's stack is `frames`)

    friend bool operator==(const thread_stack&, const thread_stack&) = default;
};

// The locals read for `frame` (one of t.frames, or the Python frame of one
// of t.native), nullptr when none were.
[[nodiscard]] inline const frame_variables* locals_of(const thread_stack& t, const python_frame& frame) noexcept {
    for (std::size_t i = 0; i < t.frames.size() && i < t.locals.size(); ++i) {
        if (t.frames[i].address == frame.address && t.frames[i].code == frame.code) return &t.locals[i];
    }
    return nullptr;
}

// The signal that ended the process a core was written for (a crash).
struct crash_info {
    int signal = 0;
    std::string signal_name;  // "SIGSEGV"
    std::string code;         // "SEGV_MAPERR (address not mapped to object)"
    std::optional<std::uint64_t> address;  // the faulting address, for a fault
    std::optional<pid_t> tid;              // the thread that received it

    friend bool operator==(const crash_info&, const crash_info&) = default;
};

// A code object a core names whose local file could not be used: missing,
// or another build than the one the process ran (their build-ids differ).
// Bytes the core did not hold for it are not read, and its native frames
// are not symbolised from it.
struct unmatched_file {
    std::string path;   // as the core names it
    std::string local;  // the file found here (another build); empty: none found
    std::string why;    // "build-id differs: another build of the file", "cannot be opened"

    friend bool operator==(const unmatched_file&, const unmatched_file&) = default;
};

// With greenlets: what the census (greenlets.hpp) found beyond each
// thread's own (thread_stack::greenlets), or why it found nothing.
struct greenlets_read {
    std::string version;                  // greenlet.__version__ in the target
    std::uint64_t objects_scanned = 0;    // objects the GC walk visited
    std::vector<greenlet_stack> elsewhere;  // greenlets of no thread shown (not started, or their thread gone)
    std::optional<error> failure;         // none read: not imported, an unsupported greenlet, the walk failed

    friend bool operator==(const greenlets_read&, const greenlets_read&) = default;
};

// With tasks: what the census (asyncio_tasks.hpp) found beyond each
// thread's own (thread_stack::tasks), or why it found nothing.
struct tasks_read {
    std::string found_in;                 // where the tasks were found (asyncio_census::found_in)
    std::uint64_t objects_scanned = 0;    // registry entries or GC-tracked objects looked at
    std::uint64_t not_c_tasks = 0;        // registry entries left out (asyncio_census::not_c_tasks)
    std::vector<asyncio_task> elsewhere;  // tasks of no thread shown (their loop is not running)
    std::optional<error> failure;         // none read: asyncio not imported, an unsupported version

    friend bool operator==(const tasks_read&, const tasks_read&) = default;
};

struct python_stacks_report {
    pid_t pid = 0;                      // as this machine's /proc shows it (cores: as the core records it)
    std::string command_line;           // arguments joined by spaces (cores: the first 79 bytes)
    std::string executable;             // the program file; " (deleted)" when replaced on disk
    std::string interpreter;            // the file holding the interpreter (libpython or the program)
    std::string python_version;         // "3.11.2"
    bool free_threaded = false;         // a free-threaded build (3.13t+): no GIL unless re-enabled
    stacks_source source = stacks_source::blocking;
    std::optional<std::chrono::nanoseconds> stopped_for;  // how long the target was stopped; nullopt: not stopped
    std::string core;                   // the core file read ("" for a live process)
    std::vector<thread_stack> threads;  // live: hottest first; core: the interpreter's order
    bool native = false;                // native stacks were read (threads without Python included)
    bool locals = false;                // each frame's arguments and locals were read (thread_stack::locals)
    std::optional<greenlets_read> greenlets;  // greenlets were asked for (thread_stack::greenlets)
    std::optional<tasks_read> tasks;          // asyncio tasks were asked for (thread_stack::tasks)
    std::optional<crash_info> crash;    // cores of a process a core-dumping signal ended; its thread first
    std::vector<unmatched_file> unmatched_files;  // cores: code objects not found here as the build that ran
    bool thread_list_complete = true;   // false: read while it ran, the interpreter's thread list
                                        // kept changing under every walk; threads may be missing

    friend bool operator==(const python_stacks_report&, const python_stacks_report&) = default;
};

} // namespace triage::cpython
