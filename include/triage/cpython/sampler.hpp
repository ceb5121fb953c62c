// triage/cpython/sampler.hpp — a sampling profiler's loop over a live Python
// process: every thread's Python stack at a fixed rate, never stopping it.
//
// Offers: `sample_stacks(py, options, on_tick)` → `sampling_summary`.
// Timing: tick i is due at start + i × period, whatever the ticks before it
// took (no drift). A tick taken a period or more after its due time (the
// wake-up came late, or the ticks before it took longer than the period)
// is counted `late`; it is still taken while it is at most max(2 periods,
// 10 ms) behind (a virtual CPU halted between ticks may wake milliseconds
// late), half a period after the tick before at the earliest (catching up
// at twice the rate, never in a burst that samples one moment twice). Due
// times further behind are counted `missed` and skipped; the summary gives
// the achieved rate.
// Each tick: one warm snapshot (stack_walker.hpp: a handful of system calls
// for a parked process) and one recheck: a thread whose stack changed
// between the two reads is `torn` (kept, flagged and counted: a profile
// that dropped them would under-count the threads that change most). Then,
// per thread: its kernel tid (3.11+ from its thread state; older versions
// from its pthread's TCB, native_thread_ids.hpp), its name (threading's;
// both sought until found: at its first 8 ticks, then with a gap that
// doubles; a thread just started has neither yet; a new thread on the
// thread state and pthread of a gone one is told from it by its tid, or,
// where the tid was found in the TCB, by the gone one's tid being gone, and
// sought anew), whether it holds the GIL, and `on_cpu`: its schedstat run
// time grew since the previous tick, or it is running now (state R: the
// kernel adds a running thread's run time only at scheduler ticks, 1-10 ms
// apart, so at higher rates the number alone would call a spinning thread
// idle between two of them; the state is read only for a thread that was
// running at the previous tick or has had a time slice since, by its
// schedstat slice count), unless its run time has not grown and it has
// begun no slice for 20 ms (two scheduler ticks at the slowest, 100 Hz):
// a thread in state R for that long without running waits for a CPU, or
// its virtual CPU is held by the hypervisor, and is not on a CPU; both
// files are kept open (kept_file.hpp).
// What is kept about threads no longer seen is dropped once they outnumber
// the live ones (a process that churns threads).
// The tick is handed to `on_tick` (which must not keep references past the
// call), then `options.stop_requested` is asked (and when a signal wakes the
// wait for a tick); the loop also ends after
// `options.duration` (0: no limit) and when the process exits (summary's
// `process_exited`: what was sampled until then stands).
// Native frames (`options.native`): blocking, at up to 100 Hz. Each tick
// stops every thread with a ptrace::session of its own for the snapshot
// and a copy of every thread's registers and stack bytes
// (stopped_snapshot.hpp: ≈0.3 ms for 26 threads plus the copy), releases
// it, then unwinds and symbolises each thread's copy over the objects
// mapped when sampling began (an object loaded later is unwound through by
// frame pointer, or not at all) and merges it with its Python frames
// (native_stacks.hpp): `thread_sample::native`. Threads that run no Python
// are sampled too (no Python frames, named from /proc). The summary adds
// how long the target was held in all and at most. A tick whose stack copy
// failed keeps its Python stacks, without native frames. The first tick
// reads each object's unwind and symbol tables (tenths of a second with
// debug files); the schedule starts when it ends.
// Errors: invalid_argument for a rate outside 0.1-100,000 Hz (native:
// 0.1-100 Hz); with native, those of unwind::module_set; the first
// snapshot's error when the first 10 all fail (a process that cannot be
// read; native: cannot be attached). A snapshot that fails later is
// counted in `failed_ticks`, and the loop goes on.
// Thread-safe: one call per live_python at a time. Signal-safe: no.
// Target process: reads its memory (process_vm_readv) and /proc files;
// never attaches to it, never stops it, unless `native`: then it is stopped
// and released once a tick.
//
//   auto py = TRIAGE_TRY(triage::cpython::open_live_python(pid));
//   auto summary = TRIAGE_TRY(triage::cpython::sample_stacks(py, {.rate_hz = 100, .duration = 5s},
//       [&](const triage::cpython::sampling_tick& tick) { profile.add(tick); }));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/merged_stack.hpp"
#include "triage/cpython/stack_snapshot.hpp"

namespace triage::cpython {

struct sampling_options {
    double rate_hz = 100;                    // ticks per second
    std::chrono::nanoseconds duration{0};    // 0: until stop_requested or the process exits
    std::function<bool()> stop_requested;    // asked after every tick and when a signal wakes the wait: true ends the loop
    walk_limits limits{};
    bool native = false;                     // blocking: native frames too (see above)
    std::string line_cache_directory{};      // native frames' line tables kept across runs (elf/line_cache.hpp)
};

// One thread at one tick.
struct thread_sample {
    const python_thread* thread = nullptr;  // the tick's snapshot's: frames (innermost first), ident
    std::optional<pid_t> tid;
    std::string_view name;                  // threading's name; "" unknown
    bool on_cpu = false;                    // ran since the previous tick, or runnable now
    bool holds_gil = false;
    bool torn = false;                      // its stack changed between the walk and the recheck
    std::span<const merged_frame> native;   // with options.native: its merged stack, innermost first
};

struct sampling_tick {
    std::uint64_t index = 0;                  // of its due time: start + index × period (native: from tick 0's end)
    std::chrono::nanoseconds at{0};           // when it was taken, from the first tick's start
    std::span<const thread_sample> threads;
};

struct sampling_summary {
    std::uint64_t ticks = 0;          // taken and handed to on_tick
    std::uint64_t late = 0;           // ticks taken a period or more after their due time
    std::uint64_t missed = 0;         // due times left too far behind (not taken)
    std::uint64_t failed_ticks = 0;   // snapshots that failed (memory changing under the walk)
    std::uint64_t torn_stacks = 0;    // thread stacks flagged torn
    std::uint64_t thread_samples = 0; // thread stacks handed to on_tick
    std::chrono::nanoseconds elapsed{0};
    double rate_hz = 0;               // asked
    bool process_exited = false;
    std::chrono::nanoseconds stopped{0};       // native: how long the target was held, in all
    std::chrono::nanoseconds longest_stop{0};  // native: the longest of those holds

    [[nodiscard]] double achieved_rate() const noexcept {
        return elapsed.count() > 0 ? static_cast<double>(ticks) * 1e9 / static_cast<double>(elapsed.count()) : 0;
    }
};

[[nodiscard]] TRIAGE_DECL result<sampling_summary> sample_stacks(live_python& py, const sampling_options& options,
                                                                 const std::function<void(const sampling_tick&)>& on_tick);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/sampler.ipp"
#endif
