// triage/cpython/impl/sampler.ipp — the definitions of
// triage/cpython/sampler.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/sampler.hpp"
#include "triage/cpython/thread_names.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/kept_file.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/task_ids.hpp"

namespace triage::cpython {

namespace detail::sampling {

[[nodiscard]] TRIAGE_DECL std::chrono::nanoseconds monotonic_now() noexcept { return procfs::detail::clock_now(CLOCK_MONOTONIC); }

// Consecutive failed snapshots, none succeeding before, after which the
// process is taken as one that cannot be sampled.
inline constexpr std::uint64_t failures_before_giving_up = 10;

// What is kept about each thread from tick to tick.
// Ticks at which a thread's name or (before 3.11) tid is sought before it
// is taken as one that has none: a thread just started is in threading's
// table, and its TCB holds its tid, only once it runs.
inline constexpr int lookups_per_thread = 8;

struct known_thread {
    std::optional<pid_t> tid;
    std::string name;
    int name_lookups = 0;
    int tid_lookups = 0;
    std::uint64_t seen = 0;  // the last tick it was in

    [[nodiscard]] bool name_sought() const noexcept { return !name.empty() || name_lookups >= lookups_per_thread; }
    [[nodiscard]] bool tid_sought() const noexcept { return tid || tid_lookups >= lookups_per_thread; }
};

// A thread's schedstat and stat, kept open from tick to tick (one pread
// each instead of openat, read and close), and its run time at the last.
struct cpu_files {
    std::optional<procfs::kept_file> schedstat, stat;
    std::optional<procfs::schedstat> last;  // at the previous tick
    bool was_running = true;                // at the previous tick (true: not known)
    std::uint64_t seen = 0;
};

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

// Whether the thread ran since the last tick or is running now. Its run
// time grew: it ran. Else it may be on a CPU still in the slice it had at
// the last tick (the kernel adds a running thread's time only at scheduler
// ticks), or in one it got since: its state says, read only then (a thread
// that was not running at the last tick and has had no slice since, its
// slice count unchanged, is not running: the parked threads of a service
// cost one read a tick instead of two).
[[nodiscard]] TRIAGE_DECL bool on_cpu(const procfs::proc_dir& dir, pid_t tid, cpu_files& files) {
    char buffer[1024];
    std::optional<procfs::schedstat> now;
    if (auto text = read_kept(dir, tid, "schedstat", files.schedstat, buffer)) {
        if (auto parsed = procfs::parse_schedstat(*text)) now = *parsed;
    }
    const bool ran = now && files.last && now->run_time > files.last->run_time;
    const bool new_slice = !now || !files.last || now->timeslices != files.last->timeslices;
    files.last = now;
    if (ran) {
        files.was_running = true;  // it may run on: the next tick reads its state
        return true;
    }
    if (!files.was_running && !new_slice) return false;
    files.was_running = true;  // unless its state says otherwise
    if (auto text = read_kept(dir, tid, "stat", files.stat, buffer)) {
        if (auto parsed = procfs::parse_stat(*text)) files.was_running = parsed->state == 'R';
        else return false;
        return files.was_running;
    }
    return false;
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
    if (!(options.rate_hz >= 0.1 && options.rate_hz <= 100'000)) {
        return fail(errc::invalid_argument, "sampling at " + std::to_string(options.rate_hz) + " Hz",
                    "give a rate from 0.1 to 100000 Hz");
    }
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
    for (std::uint64_t index = 0;;) {
        const auto due = start + period * static_cast<std::int64_t>(index);
        if (options.duration.count() > 0 && due - start >= options.duration) break;
        if (d::monotonic_now() < due && !procfs::sleep_until(due, options.stop_requested)) break;
        const auto began = d::monotonic_now();

        auto snapshot = walker.snapshot();
        if (snapshot) {
            if (auto rechecked = walker.recheck(*snapshot); !rechecked) snapshot = fail(std::move(rechecked.error()));
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
                k.seen = index;
                unnamed |= !k.name_sought();
                untided |= !t.tid && !k.tid_sought();
            }
            d::forget_gone(known, snapshot->threads.size(), index);
            if (unnamed) {
                namer.name_threads(*snapshot);
                for (const python_thread& t : snapshot->threads) {
                    auto& k = known[{t.thread_state, t.python_ident}];
                    if (!k.name_sought()) {
                        k.name = t.python_name;
                        ++k.name_lookups;
                    }
                }
            }
            if (untided) {
                auto tids = procfs::task_ids(py.dir.pid());
                if (tids) (void)assign_tids(py.memory, *snapshot, *tids);
                for (const python_thread& t : snapshot->threads) {
                    auto& k = known[{t.thread_state, t.python_ident}];
                    if (k.tid_sought()) continue;
                    ++k.tid_lookups;
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
                if (s.tid) {
                    d::cpu_files& files = cpu[*s.tid];
                    files.seen = index;
                    s.on_cpu = d::on_cpu(py.dir, *s.tid, files);
                }
                summary.torn_stacks += s.torn;
                samples.push_back(s);
            }
            d::forget_gone(cpu, samples.size(), index);
            summary.thread_samples += samples.size();
            ++summary.ticks;
            on_tick(sampling_tick{index, began - start, samples});
        }
        const auto ended = d::monotonic_now();
        summary.elapsed = ended - start;
        if (options.stop_requested && options.stop_requested()) break;
        // The next due time not yet passed; those passed meanwhile are missed.
        if (ended - began > period) ++summary.late;
        std::uint64_t next = index + 1;
        if (const auto passed = static_cast<std::uint64_t>((ended - start) / period); passed >= next) {
            summary.missed += passed - next + 1;
            next = passed + 1;
        }
        index = next;
    }
    summary.elapsed = d::monotonic_now() - start;
    if (summary.ticks == 0 && first_failure && !summary.process_exited) return fail(std::move(*first_failure));
    return summary;
}

} // namespace triage::cpython
