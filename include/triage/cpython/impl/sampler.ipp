// triage/cpython/impl/sampler.ipp — the definitions of
// triage/cpython/sampler.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "triage/cpython/native_stacks.hpp"
#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/sampler.hpp"
#include "triage/cpython/stopped_snapshot.hpp"
#include "triage/cpython/thread_names.hpp"
#include "triage/procfs/comm.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/kept_file.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/stack_copy.hpp"

namespace triage::cpython {

namespace detail::sampling {

[[nodiscard]] TRIAGE_DECL std::chrono::nanoseconds monotonic_now() noexcept { return procfs::detail::clock_now(CLOCK_MONOTONIC); }

// Consecutive failed snapshots, none succeeding before, after which the
// process is taken as one that cannot be sampled.
inline constexpr std::uint64_t failures_before_giving_up = 10;

// How far behind its due time a tick is still taken (late): a virtual CPU
// halted between ticks wakes milliseconds late, and at 1,000 Hz dropping
// the ticks due meanwhile would lose a fifth of them. Further behind (the
// process or we were descheduled, or ticks cost more than the period),
// they are missed.
[[nodiscard]] constexpr std::chrono::nanoseconds backlog(std::chrono::nanoseconds period) noexcept {
    return std::max(2 * period, std::chrono::nanoseconds{std::chrono::milliseconds{10}});
}

// How close a late tick may follow the one before: ticks taken back to back
// would sample nearly one moment of the target twice (a burst weighs
// whatever ran after our own stall double); half a period apart they stay
// spread and still catch up, at twice the rate.
[[nodiscard]] constexpr std::chrono::nanoseconds least_gap(std::chrono::nanoseconds period) noexcept { return period / 2; }

// Native frames stop the process at every tick: at 100 Hz and ≈1 ms a
// stop, it is held a tenth of the time.
inline constexpr double max_native_rate = 100;

// When a thread's name or (before 3.11) tid is sought, until found: at
// each of its first 8 ticks, then ever more rarely (the gap doubling), so
// that a thread that starts slowly under load is still named, and one
// that has none (started from C) costs a lookup per doubling of its life.
// A thread just started is in threading's table, and its TCB holds its
// tid, only once it runs.
struct lookup_schedule {
    static constexpr int eager = 8;
    int done = 0;
    std::uint64_t gap = 1;
    std::uint64_t next = 0;  // the tick index of the next lookup

    [[nodiscard]] bool due(std::uint64_t tick) const noexcept { return tick >= next; }
    void looked(std::uint64_t tick) noexcept {
        if (++done >= eager) gap *= 2;
        next = tick + gap;
    }
};

// What is kept about each thread from tick to tick.
struct known_thread {
    std::optional<pid_t> tid;
    std::string name;
    lookup_schedule name_lookups, tid_lookups;
    std::uint64_t seen = 0;  // the last tick it was in

    [[nodiscard]] bool name_sought(std::uint64_t tick) const noexcept { return !name.empty() || !name_lookups.due(tick); }
    [[nodiscard]] bool tid_sought(std::uint64_t tick) const noexcept { return tid || !tid_lookups.due(tick); }
};

// A thread's schedstat and stat, kept open from tick to tick (one pread
// each instead of openat, read and close), its run time at the last tick,
// and when it last ran or began a time slice (on the monotonic clock).
struct cpu_files {
    std::optional<procfs::kept_file> schedstat, stat;
    std::optional<procfs::schedstat> last;  // at the previous tick
    std::optional<procfs::schedstat> now;   // at this tick (nullopt: the thread is gone)
    bool was_running = true;                // at the previous tick (true: not known)
    std::chrono::nanoseconds progressed_at{0};
    std::uint64_t seen = 0;                 // the last tick it was read at
    bool read = false;                      // read at least once (`seen` is meaningful)
};

// How long a thread in state R may go without its run time growing and
// without beginning a time slice before it is taken as not running: the
// kernel brings a running thread's run time up to date at every scheduler
// tick, at most 10 ms apart (CONFIG_HZ >= 100), so after two of them it
// waits for a CPU (preempted), or its virtual CPU is held by the
// hypervisor (steal). Counted on a CPU, such a thread would weigh the one
// line it stopped at by how long it waits: beside a sanitizer build a 3:1
// split read 69%. (A CPU with its tick off, nohz_full, updates a lone
// thread's run time about once a second: such a thread is sampled in
// bursts there.)
inline constexpr std::chrono::nanoseconds stalled_after = std::chrono::milliseconds{20};

// The file, opened if it is not; a read that fails closes it (its thread
// exited: a thread that reuses its tid is opened anew next time).
[[nodiscard]] TRIAGE_DECL std::optional<std::string_view> read_kept(const procfs::proc_dir& dir, pid_t tid, const char* name,
                                                                    std::optional<procfs::kept_file>& file, std::span<char> buffer) {
    if (!file) {
        auto opened = procfs::kept_file::open(dir, tid, name);
        if (!opened) return std::nullopt;
        file = std::move(*opened);
    }
    auto text = file->read(buffer);
    if (!text) {
        file.reset();
        return std::nullopt;
    }
    return *text;
}

// The thread's schedstat at this tick, read once a tick (the first ask
// reads it: a thread's liveness is asked before its CPU state); nullopt
// when it cannot be read (the thread is gone).
[[nodiscard]] TRIAGE_DECL const std::optional<procfs::schedstat>& schedstat_at(const procfs::proc_dir& dir, pid_t tid,
                                                                               cpu_files& files, std::uint64_t tick) {
    if (files.read && files.seen == tick) return files.now;
    char buffer[1024];
    files.last = files.read ? files.now : std::nullopt;
    files.now.reset();
    if (auto text = read_kept(dir, tid, "schedstat", files.schedstat, buffer)) {
        if (auto parsed = procfs::parse_schedstat(*text)) files.now = *parsed;
    }
    files.read = true;
    files.seen = tick;
    return files.now;
}

// Whether the thread ran since the last tick or is running now (`at`: the
// tick's time; its schedstat read by schedstat_at). Its run time grew: it
// ran. Else it may be on a CPU still in the slice it had at the last tick
// (the kernel adds a running thread's time only at scheduler ticks), or in
// one it got since: its state says, read only then (a thread that was not
// running at the last tick and has had no slice since, its slice count
// unchanged, is not running: the parked threads of a service cost one read
// a tick instead of two), unless it has stalled (stalled_after).
[[nodiscard]] TRIAGE_DECL bool on_cpu(const procfs::proc_dir& dir, pid_t tid, cpu_files& files, std::chrono::nanoseconds at) {
    const auto& now = files.now;
    const bool ran = now && files.last && now->run_time > files.last->run_time;
    const bool new_slice = !now || !files.last || now->timeslices != files.last->timeslices;
    if (ran || new_slice) files.progressed_at = at;
    if (ran) {
        files.was_running = true;  // it may run on: the next tick reads its state
        return true;
    }
    if (!files.was_running && !new_slice) return false;
    files.was_running = false;
    if (at - files.progressed_at > stalled_after) return false;
    char buffer[1024];
    if (auto text = read_kept(dir, tid, "stat", files.stat, buffer)) {
        if (auto parsed = procfs::parse_stat(*text)) files.was_running = parsed->state == 'R';
    }
    return files.was_running;
}

// The native stacks of a tick: each copied thread unwound and merged with
// the Python frames of its sample; a thread with no sample (it runs no
// Python) gets one of its own in `native_only` (ident 0, named from /proc
// once). `natives` and `native_only` hold what the samples' spans and
// pointers refer to until the next tick.
template <class Known>
void add_native(live_python& py, unwind::module_set& modules, unwind::stack_copy& copy, std::vector<thread_sample>& samples,
                std::vector<thread_native_stack>& natives, std::vector<python_thread>& native_only, Known& known,
                std::uint64_t tick) {
    natives.clear();
    natives.reserve(copy.threads.size());
    native_only.clear();
    native_only.reserve(copy.threads.size());
    const std::size_t python_samples = samples.size();
    for (const unwind::copied_thread& t : copy.threads) {
        auto sample = std::find_if(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(python_samples),
                                   [&](const thread_sample& s) { return s.tid == t.tid; });
        const python_thread* thread = sample != samples.begin() + static_cast<std::ptrdiff_t>(python_samples)
                                          ? sample->thread
                                          : nullptr;
        natives.push_back(native_stack_of(modules, copy.memory, t.registers,
                                          thread != nullptr ? std::span{thread->frames} : std::span<const python_frame>{}));
        if (thread != nullptr) {
            sample->native = natives.back().frames;
            continue;
        }
        python_thread& own = native_only.emplace_back();
        own.tid = t.tid;
        auto& k = known[{0, static_cast<std::uint64_t>(t.tid)}];
        k.seen = tick;
        if (!k.name_sought(tick)) {
            k.name_lookups.looked(tick);
            if (auto comm = procfs::read_comm(py.dir, t.tid)) k.name = std::string{comm->view()};
        }
        thread_sample& added = samples.emplace_back();
        added.thread = &own;
        added.tid = t.tid;
        added.name = k.name;
        added.native = natives.back().frames;
    }
}

// Native sampling: every stop wakes each thread for a few microseconds (a
// blocked system call is interrupted, then restarted), so a thread is on a
// CPU when its run time grew by more than `least` since the last tick. Its
// state is not needed: at 100 Hz or less each period spans scheduler
// ticks, at which a running thread's time is added. (Its schedstat read
// by schedstat_at.)
[[nodiscard]] constexpr bool ran_more_than(const cpu_files& files, std::chrono::nanoseconds least) noexcept {
    return files.now && files.last && files.now->run_time > files.last->run_time + least;
}

// A hundredth of the period, at least 100 µs: far more than a stop's
// restarted system call costs, far less than any thread at work.
[[nodiscard]] constexpr std::chrono::nanoseconds least_run(std::chrono::nanoseconds period) noexcept {
    return std::max(period / 100, std::chrono::nanoseconds{std::chrono::microseconds{100}});
}

// Forgets the threads a tick did not see once they outnumber those it did
// (a process that churns threads must not grow a recording's memory).
template <class Map>
void forget_gone(Map& map, std::size_t present, std::uint64_t tick) {
    if (map.size() <= 2 * present + 16) return;
    std::erase_if(map, [&](const auto& entry) { return entry.second.seen != tick; });
}

} // namespace detail::sampling

[[nodiscard]] TRIAGE_DECL result<sampling_summary> sample_stacks(live_python& py, const sampling_options& options,
                                                                 const std::function<void(const sampling_tick&)>& on_tick) {
    namespace d = detail::sampling;
    const double max_rate = options.native ? d::max_native_rate : 100'000;
    if (!(options.rate_hz >= 0.1 && options.rate_hz <= max_rate)) {
        return fail(errc::invalid_argument,
                    "sampling at " + std::to_string(options.rate_hz) + " Hz" + (options.native ? " with native frames" : ""),
                    options.native ? "native frames stop the process at every tick: give a rate from 0.1 to 100 Hz"
                                   : "give a rate from 0.1 to 100000 Hz");
    }
    const pid_t pid = py.dir.pid();
    // The objects to unwind with, opened before the first stop.
    std::optional<unwind::module_set> modules;
    if (options.native)
        modules = TRIAGE_TRY(unwind::module_set::of_process(
            pid, {debug_file_locator_hook("/proc/" + std::to_string(pid) + "/root"), options.line_cache_directory}));
    std::vector<thread_native_stack> natives;   // this tick's, by copied thread
    std::vector<python_thread> native_only;     // this tick's threads that run no Python
    const auto period = std::chrono::nanoseconds{static_cast<std::int64_t>(1e9 / options.rate_hz)};
    auto walker = make_walker(py.memory, py.target, options.limits);
    thread_namer namer{py.memory, py.target.layout};
    std::map<std::pair<std::uint64_t, std::uint64_t>, d::known_thread> known;  // by thread state and ident
    std::unordered_map<pid_t, d::cpu_files> cpu;
    std::vector<thread_sample> samples;
    sampling_summary summary;
    summary.rate_hz = options.rate_hz;
    std::optional<error> first_failure;

    const auto start = d::monotonic_now();
    auto schedule = start;  // tick i is due at schedule + i × period
    auto began = start;     // when the tick before began
    for (std::uint64_t index = 0;;) {
        const auto due = schedule + period * static_cast<std::int64_t>(index);
        if (options.duration.count() > 0 && due - start >= options.duration) break;
        const auto wake = index == 0 ? due : std::max(due, began + d::least_gap(period));
        if (d::monotonic_now() < wake && !procfs::sleep_until(wake, options.stop_requested)) break;
        began = d::monotonic_now();

        std::optional<result<unwind::stack_copy>> copy;
        result<stack_snapshot> snapshot = fail(errc::inconsistent, "no snapshot");
        if (options.native) {
            std::optional<std::chrono::nanoseconds> stopped_for;
            snapshot = stopped_snapshot(walker, pid, stopped_for, py.memory, &copy);
            if (stopped_for) {
                summary.stopped += *stopped_for;
                summary.longest_stop = std::max(summary.longest_stop, *stopped_for);
            }
        } else {
            snapshot = walker.snapshot();
            if (snapshot) {
                if (auto rechecked = walker.recheck(*snapshot); !rechecked) snapshot = fail(std::move(rechecked.error()));
            }
        }
        if (!snapshot) {
            if (snapshot.error().code == errc::no_such_process) {
                summary.process_exited = true;
                break;
            }
            ++summary.failed_ticks;
            if (!first_failure) first_failure = snapshot.error();
            if (summary.ticks == 0 && summary.failed_ticks >= d::failures_before_giving_up) break;
        } else {
            // Names and (before 3.11) tids of threads not seen before.
            bool unnamed = false, untided = false;
            for (const python_thread& t : snapshot->threads) {
                auto& k = known[{t.thread_state, t.python_ident}];
                // A thread that reuses a gone one's thread state and
                // pthread is a new thread: 3.11+ tell by its tid; before
                // (and for a 3.11+ thread not yet bound to its thread
                // state) the tid found for the gone one is gone too.
                if (t.tid ? k.tid && *t.tid != *k.tid : k.tid && !d::schedstat_at(py.dir, *k.tid, cpu[*k.tid], index)) k = {};
                if (t.tid) k.tid = t.tid;
                k.seen = index;
                unnamed |= !k.name_sought(index);
                untided |= !t.tid && !k.tid_sought(index);
            }
            d::forget_gone(known, snapshot->threads.size(), index);
            if (unnamed) {
                namer.name_threads(*snapshot);
                for (const python_thread& t : snapshot->threads) {
                    auto& k = known[{t.thread_state, t.python_ident}];
                    if (!k.name_sought(index)) {
                        k.name = t.python_name;
                        k.name_lookups.looked(index);
                    }
                }
            }
            if (untided) {
                auto tids = procfs::task_ids(py.dir.pid());
                if (tids) (void)assign_tids(py.memory, *snapshot, *tids);
                for (const python_thread& t : snapshot->threads) {
                    auto& k = known[{t.thread_state, t.python_ident}];
                    if (k.tid_sought(index)) continue;
                    k.tid_lookups.looked(index);
                    if (t.tid) k.tid = t.tid;
                }
            }
            samples.clear();
            for (const python_thread& t : snapshot->threads) {
                const auto& k = known[{t.thread_state, t.python_ident}];
                thread_sample s;
                s.thread = &t;
                s.tid = t.tid ? t.tid : k.tid;
                s.name = k.name;
                s.holds_gil = t.holds_gil;
                s.torn = !t.consistent;
                summary.torn_stacks += s.torn;
                samples.push_back(s);
            }
            if (copy && *copy) d::add_native(py, *modules, **copy, samples, natives, native_only, known, index);
            for (thread_sample& sample : samples) {
                if (!sample.tid) continue;
                d::cpu_files& files = cpu[*sample.tid];
                (void)d::schedstat_at(py.dir, *sample.tid, files, index);
                sample.on_cpu = options.native ? d::ran_more_than(files, d::least_run(period))
                                               : d::on_cpu(py.dir, *sample.tid, files, began - start);
            }
            d::forget_gone(cpu, samples.size(), index);
            summary.thread_samples += samples.size();
            ++summary.ticks;
            on_tick(sampling_tick{index, began - start, samples});
        }
        const auto ended = d::monotonic_now();
        summary.elapsed = ended - start;
        if (options.stop_requested && options.stop_requested()) break;
        // The first native tick reads each object's unwind and symbol
        // tables (tenths of a second with debug files): the schedule starts
        // after it, tick 1 at once.
        if (options.native && summary.ticks == 1 && index == 0) schedule = ended - period;
        if (began - due >= period) ++summary.late;
        // The next due time within the backlog; those before it are missed.
        std::uint64_t next = index + 1;
        if (const auto behind = ended - schedule - d::backlog(period); behind.count() > 0) {
            const auto oldest = static_cast<std::uint64_t>((behind + period - std::chrono::nanoseconds{1}) / period);
            if (oldest > next) {
                summary.missed += oldest - next;
                next = oldest;
            }
        }
        index = next;
    }
    summary.elapsed = d::monotonic_now() - start;
    if (summary.ticks == 0 && first_failure && !summary.process_exited) return fail(std::move(*first_failure));
    return summary;
}

} // namespace triage::cpython
