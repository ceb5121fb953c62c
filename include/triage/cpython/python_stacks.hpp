// triage/cpython/python_stacks.hpp — "the Python stacks of this pid / this
// core" in one call, as plain values (python_stacks_report.hpp).
//
// Offers:
//  - `python_stacks(pid, options)`: CPU% of every thread over
//    `cpu_window` (procfs/cpu_sample.hpp; the target is not touched), then
//    one snapshot of every thread's stack: blocking (a ptrace::session
//    stops every thread only for the read, ≈1 ms for 26 threads, then
//    releases it) or `nonblocking` (never stopped; moving stacks re-read,
//    see consistent_snapshot). Threads hottest first.
//  - `python_stacks(held, options)`: the caller's ptrace::session already
//    holds the target (one stop serving a snapshot, registers, a core
//    copy): the stacks are read while it holds it; nothing is attached or
//    released here. CPU%, names and states come from `options.cpu`,
//    measured by the caller before its stop (without it, states are
//    unknown: read now they would only say "stopped by a tracer");
//    `stopped_for` is how long the session had held the target when the
//    snapshot was read. `python_stacks(opened, held,
//    options)` takes the process opened beforehand by `open_live_python`,
//    so the stop lasts only for the snapshot.
//  - `python_stacks(core_path, options)`: the same report from a core
//    file (ours, gdb's gcore, the kernel's); CPU% null, states unknown,
//    names only for the main thread (the core records the process's comm).
//    A core of a crash (NT_SIGINFO holds a signal that dumps core) also
//    gives `crash`: the signal, its code, the faulting address, and the
//    thread that received it, whose stack comes first. The files the core
//    names are found under `sysroot` (a copy of the machine the core comes
//    from; paths already under it are taken as they are), else by file
//    name in the directories of `lib_search_path` (a relocated
//    application), each matched by build-id (coredump/core_file.hpp); the
//    interpreter's own file can be given as `exe`. Code objects found only
//    as another build, or not at all, are listed in `unmatched_files`.
//    With `native`, debug files are looked for under `sysroot` too.
//  - `native` (live blocking, and cores): each thread's native stack too,
//    with its Python frames in place of the evaluation-loop frames
//    (native_stacks.hpp), and the threads that run no Python. Live, the
//    objects are opened before the stop, every thread's registers and
//    stack bytes are copied in the same stop as the Python snapshot
//    (unwind/stack_copy.hpp), and the unwinding and symbols come after the
//    release: the stop grows by the copy only. Debug files are found by
//    elf::locate_debug_info under /proc/PID/root.
//  - `locals` (every overload): each frame's arguments and local variables
//    with bounded reprs (frame_locals.hpp) in thread_stack::locals. Blocking,
//    they are read in the same stop as the stacks (the stop grows by their
//    reads); nonblocking, right after the snapshot, so a frame that moved on
//    meanwhile may show values of its next instant or "<unreadable>".
//  - `greenlets` (every overload): every greenlet of the process
//    (greenlets.hpp): each thread's in thread_stack::greenlets (state,
//    parent, a switched-out one's stack), the others and the census's
//    failure in report.greenlets (a process without greenlet is not an
//    error: the failure says so). Blocking, read in the same stop (the stop
//    grows by a walk of the GC's lists: ~1 ms per 20,000 objects);
//    nonblocking, right after the snapshot (lists that change are walked
//    again; a greenlet that moved reads torn or fails, and says so).
//  - `tasks` (every overload): every pending asyncio task (asyncio_tasks.hpp)
//    in thread_stack::tasks of the thread running its loop (name, state,
//    the coroutine chain it waits in, the tasks it awaits); those of loops
//    not running, and the census's failure, in report.tasks. Read like
//    greenlets: in the stop, or right after a nonblocking snapshot (3.14+
//    walks the GC's lists; 3.7–3.13 read asyncio's registry of tasks).
//  - `open_live_python(pid)` (live_python.hpp): the first stage (the
//    interpreter, its version and layout, the process's memory) — the
//    staged pipeline (open_python.hpp, stack_walker.hpp,
//    native_thread_ids.hpp, core_target.hpp) stays public underneath.
// Thread ids: every `tid` is this machine's view. For a process in another
// PID namespace (a container), the thread ids Python records (3.11+) and
// those in glibc's thread control blocks (2.7–3.10) are the inner ones;
// they are translated through NSpid (procfs/ns_tids.hpp) and kept as
// `ns_tid`. In a core, a thread is matched to the core's thread by its
// pthread_t (= fs_base, in NT_PRSTATUS), so a core written from outside the
// namespace (triage-gcore, gdb) gets the outer tids the same way. The
// thread list is read again after the snapshot, so threads started during
// the CPU window or the snapshot keep their tid, name and state (their CPU%
// is measured from their start).
// GIL waiters (live, 3.7+): a thread that does not hold the GIL is read
// once more in /proc/PID/task/TID/syscall after the snapshot; blocked in
// futex() on its interpreter's GIL, it `waits_for_gil` (gil_wait.hpp). A
// thread between two timed waits, running, is not counted as waiting.
// Errors: no_such_process (gone; or a zombie: "it has exited"), unsupported
// (its main thread has exited; not a supported version), not_found ("not a
// Python process"), those of session::attach (permission_denied,
// already_traced, interrupted) and of the walk; invalid_argument for a
// session that no longer holds its target, and for a core path or exe that
// is a directory. A thread whose walk failed is not an error: its
// `failure` says why.
// Thread-safe: distinct calls may run on distinct threads; the held-session
// overloads must run on the thread that attached (ptrace's rule).
// Signal-safe: no. Target process: reads /proc and its memory; the
// blocking overload stops every thread for the snapshot only and reports
// `stopped_for`; the others never stop it.
//
//   auto report = TRIAGE_TRY(triage::cpython::python_stacks(pid, {.nonblocking = true}));
//   for (const auto& t : report.threads)
//       fmt::print("{} {:.1f}% {}\n", t.tid.value_or(0), t.cpu_percent.value_or(0), t.frames.size());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/python_stacks_report.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/procfs/cpu_sample.hpp"

namespace triage::ptrace {
class session;
} // namespace triage::ptrace

namespace triage::cpython {

struct python_stacks_options {
    bool nonblocking = false;                  // never stop the target
    std::chrono::milliseconds cpu_window{10};  // CPU% measured over this, before the snapshot (0: none)
    walk_limits limits{};
    bool native = false;  // also native stacks (native_stacks.hpp): registers and stacks copied in the stop
    std::string line_cache_directory{};  // native frames' line tables kept across runs (elf/line_cache.hpp); "": not
    bool locals = false;  // also each frame's arguments and locals (frame_locals.hpp), read in the stop
    bool greenlets = false;  // also every greenlet (greenlets.hpp), read in the stop
    bool tasks = false;      // also every asyncio task (asyncio_tasks.hpp), read in the stop
};

struct held_stacks_options {
    std::span<const procfs::thread_cpu> cpu{};  // measured before the stop: CPU%, names, states
    walk_limits limits{};
    bool locals = false;  // also each frame's arguments and locals
    bool greenlets = false;  // also every greenlet
    bool tasks = false;      // also every asyncio task
};

struct core_stacks_options {
    std::optional<std::string> exe;  // read the interpreter from this file (core_target.hpp)
    walk_limits limits{};
    bool native = false;  // also native stacks, unwound from the core's registers and memory
    std::string sysroot{};  // the files the core names (and their debug files) are found under it
    std::vector<std::string> lib_search_path{};  // then by file name in these directories
    std::string line_cache_directory{};  // native frames' line tables kept across runs (elf/line_cache.hpp); "": not
    bool locals = false;  // also each frame's arguments and locals
    bool greenlets = false;  // also every greenlet
    bool tasks = false;      // also every asyncio task
};

struct live_python;  // live_python.hpp

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(live_python& py, const ptrace::session& held,
                                                                     const held_stacks_options& options = {});

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(const ptrace::session& held,
                                                                     const held_stacks_options& options = {});

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(pid_t pid, const python_stacks_options& options = {});

[[nodiscard]] TRIAGE_DECL result<python_stacks_report> python_stacks(const std::string& core_path,
                                                                     const core_stacks_options& options = {});

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/python_stacks.ipp"
#endif
