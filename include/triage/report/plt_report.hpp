// triage/report/plt_report.hpp — how often a live process's threads call
// each library function over a window: the investigation triage-plt runs
// (ltrace -c for a running process, without stopping it), in one call.
//
// Offers: `count_library_calls(pid, options)` → `plt_report`:
//   1. with `hot`, the hottest thread over `hot_window` (procfs CPU samples)
//      becomes the one thread counted; `tid` names it instead;
//   2. the call sites `filter` selects in every mapped object
//      (plt/probe_plan.hpp), and what was skipped and why;
//   3. one uprobe per call site and thread (plt/uprobe_counter.hpp), when
//      closing them afterwards fits `teardown_budget` (the kernel removes
//      uprobes one at a time, each after a grace period: the cost of one is
//      measured first, and P probes × T threads must fit), then a
//      counted window of `duration`, during which threads that start are
//      added within `poll` (their calls before that are not counted; the
//      report gives how many threads were added late); `stop_requested`,
//      polled as often, ends the window early (Ctrl+C: `interrupted`), and
//      so does the process exiting (`target_exited`: the counts stand);
//   4. per function (most calls first) the calls of each thread, and per
//      thread its total, CPU% and kernel time over the window.
// `kernel_ns_per_call` is the counted threads' kernel time in the window
// divided by their calls: an upper bound of what one counted call costs
// the target (it includes their system calls), given when there were calls
// enough to measure (1000).
// Backends (`backend`; the report's `backend` and `backend_reason` say
// which was used and why):
//  - `perf`: uprobes through perf_event_open (plt/uprobe_counter.hpp): the
//    target is never stopped and never written by us; the kernel removes
//    the probes when they are closed or we die. Step 3 above.
//  - `int3`: breakpoints written into the target's text by a guardian
//    process that holds a ptrace session (plt/int3_guardian.hpp): needs only
//    ptrace permission; stops each thread at each hit (`target_stopped`,
//    and `world_stops` for calls counted at a function: -fno-plt); its
//    teardown is quick whatever the number of probes and threads. With
//    `hot`/`tid` every thread still traps; only the chosen one is counted.
//  - `automatic` (the default): perf when the kernel lets us open uprobes and
//    their removal fits `teardown_budget`; otherwise int3, and the reason
//    says what perf lacked. With `trace`, int3 (perf cannot read them).
// Tracing (`trace` > 0; int3): the arguments of the first `trace` calls of
// the counted threads, read while the thread is stopped at the call, and
// written as C would (plt/call_arguments.hpp). How to print each argument:
// a pattern of `filter.functions` that says so (`strchr(s,c)`); else the
// DWARF prototype of the function (elf/function_prototypes.hpp) from the
// probed object (a caller's debug info declares what it calls) or its
// separate debug file (/usr/lib/debug/.build-id/); else the six integer
// argument registers in hex. `types_from` says which. `called_from` is the
// function holding the call's return address (the word at rsp at the hit),
// from the calling object's symbol table, else OBJECT+offset.
// Errors: proc_dir / read_maps errors (no_such_process, permission_denied);
// uprobe_counter's (unsupported: no uprobes; permission_denied;
// already_traced with int3: another tracer, named;
// limit_exceeded: too many probes × threads for the open-file limit or for
// the teardown budget, the hint says how many and what to narrow); errc::not_found when the filter selects no call
// site (the message lists what was skipped).
// Thread-safe: yes. Signal-safe: no. Target process, perf: never stopped
// and never written by us; the kernel places a breakpoint on every probed
// instruction while the counter is open (from opening the probes to the
// report's return: `setup` then the window), and removes them when it
// closes or our process dies, SIGKILL included. int3: the guardian process
// writes the breakpoints when the window opens and the original bytes back
// when it closes, when we exit or die (SIGKILL included), or when it is
// sent SIGTERM; each thread stops at each hit.
//
//   auto r = TRIAGE_TRY(triage::report::count_library_calls(pid, {.filter = {.functions = {"str*"}}}));
//   for (const auto& f : r.functions) fmt::print("{} {}\n", f.function, f.calls);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/plt/call_sites.hpp"
#include "triage/plt/probe_plan.hpp"

namespace triage::report {

enum class plt_backend : std::uint8_t { automatic, perf, int3 };

struct plt_options {
    plt_backend backend = plt_backend::automatic;
    std::chrono::milliseconds duration{1000};  // the counted window
    plt::call_filter filter;
    std::optional<pid_t> tid;                   // count only this thread
    bool hot = false;                           // count only the hottest thread
    std::chrono::milliseconds hot_window{200};  // over which the hottest thread is chosen
    std::chrono::milliseconds poll{10};         // new threads and stop_requested, this often
    std::function<bool()> stop_requested;       // true: end the window now
    // Refuse when removing the probes afterwards would take longer (see plt::teardown_cost).
    std::chrono::milliseconds teardown_budget{5000};
    // Trace the first `trace` calls (0: none): arguments read at each call
    // (int3 backend), C strings up to `max_string` bytes; the window ends then.
    std::size_t trace = 0;
    std::size_t max_string = 64;
    // Called as the window begins: how many call sites and threads are counted.
    std::function<void(std::size_t probes, std::size_t threads)> started;
};

struct plt_thread_calls {
    pid_t tid = 0;
    std::uint64_t calls = 0;
};

struct plt_function {
    std::string function;
    std::string caller;         // the calling object's path; empty: counted at the function, every caller
    std::string probed_object;  // where the probe sits (the caller, or the function's object)
    plt::stub_kind kind = plt::stub_kind::plt;
    std::uint64_t address = 0;  // the probed instruction in the process
    std::uint64_t calls = 0;
    std::vector<plt_thread_calls> threads;  // threads that made calls, most first
};

struct plt_thread {
    pid_t tid = 0;
    std::string name;                   // comm
    std::uint64_t calls = 0;
    std::optional<double> cpu_percent;  // over the window, of one core
    std::chrono::nanoseconds kernel_time{0};
    bool added_late = false;  // started during the window: counted from when it was found
};

// One traced call.
struct plt_call {
    pid_t tid = 0;
    std::chrono::nanoseconds at{0};  // since the window opened
    std::string function;
    std::string caller;      // the calling object's path; empty: counted at the function
    std::string call;        // as C writes it: strchr("O|O:enumerate", ':')
    std::string called_from;  // the function the call returns to: "vgetargskeywords+0x62 in libpython2.7.so.1.0"
    std::string types_from;  // where the argument types came from; empty: unknown (registers in hex)
};

struct plt_report {
    pid_t pid = 0;
    std::string command;
    std::string backend = "perf";
    std::string backend_reason;
    std::optional<pid_t> only_thread;     // --tid or --hot
    std::optional<double> hot_cpu_percent;  // with --hot: the chosen thread's CPU% before counting
    std::chrono::nanoseconds setup{0};   // placing the probes (the target already runs them)
    std::chrono::nanoseconds window{0};  // counted, as it happened
    std::chrono::nanoseconds teardown_estimate{0};  // measured cost of closing one probe × probes × threads
    std::chrono::nanoseconds teardown{0};  // closing the probes: the target ran them until then
    std::chrono::nanoseconds target_stopped{0};  // int3: the threads' stops, summed (perf: never stopped)
    std::uint64_t world_stops = 0;               // int3: hits stepped with the whole process stopped
    std::size_t children_cleaned = 0;            // int3: forked children whose copy of the breakpoints was removed
    bool interrupted = false;            // stop_requested ended the window
    bool target_exited = false;          // the process exited during the window, which ended then
    std::size_t probes = 0;
    std::size_t objects_searched = 0;
    std::vector<plt::skipped_object> skipped;
    std::vector<plt_function> functions;  // called at least once, most calls first
    std::vector<plt_thread> threads;      // every counted thread, most calls first
    std::uint64_t total_calls = 0;
    std::optional<double> kernel_ns_per_call;
    std::vector<plt_call> trace;  // with options.trace: the calls traced, in order
    bool trace_full = false;      // options.trace calls were traced, which ended the window
};

[[nodiscard]] TRIAGE_DECL result<plt_report> count_library_calls(pid_t pid, const plt_options& options = {});

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/plt_report.ipp"
#endif
