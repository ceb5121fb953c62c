// triage/plt/uprobe_counter.hpp — exact per-thread counts of how often a
// live process's threads execute given instructions (a PLT stub, a
// function's entry), through the kernel's uprobes, which the kernel removes
// when we close them or die.
//
// Offers:
//  - `probe_point{path, offset}`: a file and the file offset of the
//    instruction to count; `file_offset(segments, file_address)` turns a file
//    address (an elf::symbol's value, a plt::call_site's stub) into one.
//    Give `path` as elf::mapped_object::readable_path
//    (/proc/PID/map_files/…: the very inode the process mapped, even when the
//    file was replaced on disk or lives in a container).
//  - `uprobe_counter::open(pid, probes, only)`: one counting perf event (the
//    `uprobe` PMU, type from /sys/bus/event_source/devices/uprobe/type) per
//    probe and thread of `pid` (only thread `only` when given), the thread's events in one group, opened
//    stopped: the breakpoints are in place once open() returns, and nothing
//    is counted until `start()`; `stop()` ends the counted window (one ioctl
//    per thread each: every thread's window is the same to within
//    microseconds, however many probes);
//    `add_new_threads()` adds threads started since (counting at once while
//    started: calls a new thread makes before it is added are not counted,
//    and the number of threads added says so);
//    `read()`: {tid, probe, calls} for every thread and probe, threads that
//    have exited included (their final count); one read per thread.
//  - `teardown_cost(pid, probe)`: how long closing one uprobe event takes
//    on this kernel (opens one on a thread of `pid` and closes it). The
//    kernel waits for an RCU-tasks-trace grace period under a global mutex
//    for every event closed (a uprobe PMU event has its own trace event), so
//    closing P probes on T threads takes P × T times this, serially: about
//    55 ms on a 2-CPU VM with kernel 6.18, where opening one takes 10–75 µs.
//    A tool must keep P × T small (or use another backend).
// Safety: the target is never stopped and we never write into it. The
// kernel inserts the breakpoint when an event is opened and removes it when
// the last descriptor of the event is closed: when the counter is destroyed,
// and when our process dies in any way (SIGKILL included), the target's text
// is as it was.
// Errors: errc::unsupported (no uprobe PMU: a kernel without uprobes);
// errc::permission_denied (perf_event_open refused: needs CAP_PERFMON or
// CAP_SYS_ADMIN, or a low kernel.perf_event_paranoid; the hint says so);
// errc::no_such_process; errc::invalid_argument (an offset the kernel
// refuses: not an instruction in an executable mapping of the file);
// errc::limit_exceeded (out of file descriptors: one per probe and thread;
// open() raises our soft limit of open files to the hard one first).
// Thread-safe: no; one counter per thread. Signal-safe: no.
// Target process: never stopped; the kernel's uprobes trap on the probed
// instructions while the counter is open (about 1–3 µs per hit).
//
//   auto counter = TRIAGE_TRY(triage::plt::uprobe_counter::open(pid, {{libc_path, strlen_offset}}));
//   TRIAGE_TRY(counter.start());
//   std::this_thread::sleep_for(std::chrono::seconds(1));
//   TRIAGE_TRY(counter.stop());
//   for (const auto& c : TRIAGE_TRY(counter.read())) fmt::print("{} {}\n", c.tid, c.calls);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/elf/segment.hpp"

namespace triage::plt {

struct probe_point {
    std::string path;          // the file, as the kernel should open it
    std::uint64_t offset = 0;  // file offset of the probed instruction
};

// The file offset of `file_address` in the PT_LOAD segment that holds it
// with file bytes; nullopt when none does.
[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> file_offset(std::span<const elf::segment> segments,
                                                                   std::uint64_t file_address);

[[nodiscard]] TRIAGE_DECL result<std::chrono::nanoseconds> teardown_cost(pid_t pid, const probe_point& probe);

struct thread_calls {
    pid_t tid = 0;
    std::size_t probe = 0;  // index into the probes given to open()
    std::uint64_t calls = 0;

    friend bool operator==(const thread_calls&, const thread_calls&) = default;
};

class uprobe_counter {
public:
    [[nodiscard]] TRIAGE_DECL static result<uprobe_counter> open(pid_t pid, std::vector<probe_point> probes,
                                                                 std::optional<pid_t> only = std::nullopt);

    // Counting starts and stops for every thread at once (counts accumulate over several windows).
    [[nodiscard]] TRIAGE_DECL result<void> start();
    [[nodiscard]] TRIAGE_DECL result<void> stop();

    // Opens the events of threads started since; returns how many threads were added.
    [[nodiscard]] TRIAGE_DECL result<std::size_t> add_new_threads();

    // The threads whose events are open (exited ones included).
    [[nodiscard]] const std::set<pid_t>& thread_ids() const noexcept { return threads_; }
    [[nodiscard]] std::size_t probes() const noexcept { return probes_.size(); }

    [[nodiscard]] TRIAGE_DECL result<std::vector<thread_calls>> read() const;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    // One thread's events: a group whose leader is probe 0's event.
    struct thread_group {
        pid_t tid = 0;
        std::vector<unique_fd> events;  // by probe
    };
    uprobe_counter(pid_t pid, std::vector<probe_point> probes, std::optional<pid_t> only, int pmu_type)
        : pid_{pid}, probes_{std::move(probes)}, only_{only}, pmu_type_{pmu_type} {}
    [[nodiscard]] TRIAGE_DECL result<void> add_thread(pid_t tid);
    [[nodiscard]] TRIAGE_DECL result<void> switch_groups(unsigned long request, bool on);

    pid_t pid_ = 0;
    std::vector<probe_point> probes_;
    std::optional<pid_t> only_;
    int pmu_type_ = 0;
    bool counting_ = false;
    std::size_t open_events_ = 0;
    std::set<pid_t> threads_;
    std::vector<thread_group> groups_;
};

} // namespace triage::plt

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/plt/impl/uprobe_counter.ipp"
#endif
