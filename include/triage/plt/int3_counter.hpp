// triage/plt/int3_counter.hpp — exact per-thread counts of how often a
// process's threads execute given instructions, through int3 breakpoints
// written into its text under a ptrace session: the backend for where the
// kernel's uprobes cannot be used (no CAP_PERFMON, perf_event_paranoid, a
// kernel without uprobes), and the one whose teardown is cheap.
//
// Offers: `breakpoint{address, slot}`, `open_text_writer(pid)` (the
// target's /proc/PID/mem, read-write) and `count_int3_hits(session,
// memory_fd, breakpoints, options)` → `int3_counts`, on a session the caller
// holds (one stop, many readers), which holds the target stopped again on
// return.
//
// How a hit is served, without ever lifting a breakpoint while a thread runs:
//  - a PLT stub (`slot` ≠ 0: `[endbr64] [bnd] jmp *slot(%rip)` in .plt,
//    .plt.sec, .plt.got, or a static executable's IRELATIVE stub): the jump
//    is emulated: the thread's RIP becomes the value of the GOT slot, read
//    from the target at the hit (a lazy slot points back into .plt, to the
//    resolver: the same as the jump would do). The stub is never executed,
//    so its breakpoint stays.
//  - any other instruction (`slot` = 0: a function's entry, for a -fno-plt
//    caller): stop the world — every other thread of the process is
//    interrupted and waited for — then the original byte is put back, the
//    thread single-steps that one instruction, the int3 is written again,
//    and everyone runs on. No thread can run past a missing trap or see a
//    half-written instruction (each write is one byte, with every thread
//    stopped). A signal that arrives during the step is delivered after it.
// Threads born in the window are followed (PTRACE_O_TRACECLONE) and share
// the breakpoints. A child the target forks (fork, or vfork/posix_spawn)
// inherits the breakpoints: a fork child's copy of each original byte is put
// back before it runs a single instruction and it is let go; a vfork child
// shares our text, so it is served like a thread until it execs or exits.
// An exec in the target replaces its text: the window ends, and nothing is
// written back (the breakpoints went with the old image).
// The window ends at `window`, at `stop_requested()` (polled every
// `poll`), or when the process exits; then every thread is stopped, hits
// still queued are served, every original byte is written back, and reports
// that arrived meanwhile are served too, so no thread is left at a
// breakpoint. With `only`, every thread still traps (the text is shared),
// but only that thread's hits are counted. With `trace`, the arguments of
// the first `max_calls` counted hits are read at the hit (see int3_trace).
//
// What it does to the target: writes one 0xCC byte per breakpoint (through
// /proc/PID/mem: the text page becomes a private copy of the process's,
// which stays after the original byte is back) and stops each thread for
// every hit: ~3 system calls of ours per stub hit, a whole-process stop per
// function-entry hit. `stopped` sums, per thread, the time from our seeing
// a stop to resuming it (a lower bound of the stop time: the kernel's own
// trap-and-report time is not in it). Safety on our side: this runs on the
// session's tracer thread, and if our process died with the breakpoints in
// place the target would die of SIGTRAP at its next hit: call it from a
// process that cannot be killed by the user's Ctrl+C (plt/int3_guardian.hpp
// runs it in such a process, and writes the bytes back when the tool dies).
// Errors: invalid_argument (a released session; an address given twice);
// bad_address (an address that cannot be read or written); inconsistent (a
// byte there is already 0xCC: another debugger's breakpoint; nothing is
// written then); the session's errors when the threads cannot be stopped
// again (everything is written back first).
// Thread-safety: one call per session at a time.
//
//   auto s = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto text = TRIAGE_TRY(triage::plt::open_text_writer(pid));
//   std::vector<triage::plt::breakpoint> at{{stub, slot}};
//   auto n = TRIAGE_TRY(triage::plt::count_int3_hits(s, text.get(), at, {.window = 500ms}));
//   for (const auto& c : n.calls) fmt::print("{} {}\n", c.tid, c.calls);
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <span>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/plt/uprobe_counter.hpp"
#include "triage/ptrace/session.hpp"

namespace triage::plt {

struct breakpoint {
    std::uint64_t address = 0;  // the first byte of the instruction, in the process
    std::uint64_t slot = 0;     // a stub: the GOT slot it jumps through; 0: single-step the instruction
};

// Tracing (`int3_options::trace`): each counted hit's first six integer
// arguments (rdi, rsi, rdx, rcx, r8, r9: the System V calling convention
// at a call's first instruction) and the C strings some of them point to,
// read while the thread is stopped at the hit, until `max_calls` calls are
// traced; the window then ends.
struct int3_trace {
    std::size_t max_calls = 100;
    std::size_t max_string = 64;        // bytes read of a C string (one more tells it is longer)
    std::vector<std::uint8_t> strings{};  // per breakpoint: bit i set, argument i is a C string to read
};

struct traced_call {
    pid_t tid = 0;
    std::size_t probe = 0;                 // index into the breakpoints given
    std::chrono::nanoseconds at{0};        // since the window opened
    std::array<std::uint64_t, 6> args{};  // rdi, rsi, rdx, rcx, r8, r9
    std::uint64_t return_address = 0;     // the word at rsp: where the call returns to (0: unreadable)
    // The strings read at the hit, without their NUL (max_string + 1 bytes: longer than that);
    // nullopt: not asked for, or unreadable.
    std::array<std::optional<std::string>, 6> strings{};
};

struct int3_options {
    std::chrono::milliseconds window{1000};
    std::optional<pid_t> only{};         // count only this thread's hits
    std::chrono::milliseconds poll{1};   // stop_requested, this often
    std::function<bool()> stop_requested{};
    // Called once the breakpoints are in and the threads run: how many threads.
    std::function<void(std::size_t threads)> started{};
    std::optional<int3_trace> trace{};
};

struct int3_counts {
    std::vector<thread_calls> calls;  // per thread and breakpoint (index into the breakpoints given)
    std::set<pid_t> threads;          // every thread seen in the window (exited ones included)
    std::set<pid_t> added_late;       // born during the window
    std::chrono::nanoseconds window{0};
    std::chrono::nanoseconds stopped{0};  // summed over threads: our handling of each stop
    std::uint64_t hits = 0;               // every hit served, counted or not
    std::uint64_t world_stops = 0;        // single steps, each with the whole process stopped
    std::size_t children_cleaned = 0;     // fork children whose copy of the breakpoints was removed
    bool interrupted = false;             // stop_requested ended the window
    bool target_exited = false;           // every thread exited
    bool target_execed = false;           // an exec replaced the text (nothing was written back)
    std::vector<traced_call> traced;      // with options.trace, in the order of the hits
    bool trace_full = false;              // max_calls were traced, which ended the window
};

// A writable view of the target's memory: /proc/PID/mem opened read-write.
[[nodiscard]] TRIAGE_DECL result<unique_fd> open_text_writer(pid_t pid);

[[nodiscard]] TRIAGE_DECL result<int3_counts> count_int3_hits(ptrace::session& session, int memory_fd,
                                                              std::span<const breakpoint> breakpoints,
                                                              const int3_options& options = {});

} // namespace triage::plt

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/plt/impl/int3_counter.ipp"
#endif
