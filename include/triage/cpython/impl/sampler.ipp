// triage/cpython/impl/sampler.ipp — the definitions of
// triage/cpython/sampler.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <cerrno>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/sampler.hpp"
#include "triage/cpython/thread_names.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/task_ids.hpp"

namespace triage::cpython {

namespace detail::sampling {

[[nodiscard]] TRIAGE_DECL std::chrono::nanoseconds monotonic_now() noexcept { return procfs::detail::clock_now(CLOCK_MONOTONIC); }

// Sleeps until `when` (CLOCK_MONOTONIC); false when a signal handler ran
// and `stop_requested` then says stop (a slow rate must not hold Ctrl+C
// back until the next tick).
[[nodiscard]] TRIAGE_DECL bool sleep_until(std::chrono::nanoseconds when, const std::function<bool()>& stop_requested) noexcept {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(when);
    const timespec at{static_cast<time_t>(seconds.count()), static_cast<long>((when - seconds).count())};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
        if (stop_requested && stop_requested()) return false;
    }
    return true;
}

// Consecutive failed snapshots, none succeeding before, after which the
// process is taken as one that cannot be sampled.
inline constexpr std::uint64_t failures_before_giving_up = 10;

// What is kept about each thread from tick to tick.
struct known_thread {
    std::optional<pid_t> tid;
    std::string name;
    bool named = false;      // threading was asked once
    bool tid_sought = false; // native_thread_ids was asked once
};

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
    std::unordered_map<pid_t, std::chrono::nanoseconds> run_time;
    std::vector<thread_sample> samples;
    sampling_summary summary;
    summary.rate_hz = options.rate_hz;
    std::optional<error> first_failure;

    const auto start = d::monotonic_now();
    for (std::uint64_t index = 0;;) {
        const auto due = start + period * static_cast<std::int64_t>(index);
        if (options.duration.count() > 0 && due - start >= options.duration) break;
        if (d::monotonic_now() < due && !d::sleep_until(due, options.stop_requested)) break;
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
                unnamed |= !k.named;
                untided |= !t.tid && !k.tid_sought;
            }
            if (unnamed) {
                namer.name_threads(*snapshot);
                for (const python_thread& t : snapshot->threads) {
                    auto& k = known[{t.thread_state, t.python_ident}];
                    if (!k.named) k.name = t.python_name, k.named = true;
                }
            }
            if (untided) {
                if (auto tids = procfs::task_ids(py.dir.pid()); tids && assign_tids(py.memory, *snapshot, *tids)) {
                    for (const python_thread& t : snapshot->threads) {
                        auto& k = known[{t.thread_state, t.python_ident}];
                        k.tid_sought = true;
                        if (t.tid) k.tid = t.tid;
                    }
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
                    if (auto ran = procfs::read_schedstat(py.dir, *s.tid)) {
                        auto [at, added] = run_time.try_emplace(*s.tid, ran->run_time);
                        s.on_cpu = !added && ran->run_time > at->second;
                        at->second = ran->run_time;
                    }
                    if (!s.on_cpu) {
                        auto stat = procfs::read_stat(py.dir, *s.tid);
                        s.on_cpu = stat && stat->state == 'R';
                    }
                }
                summary.torn_stacks += s.torn;
                samples.push_back(s);
            }
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
