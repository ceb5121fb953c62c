// triage/procfs/schedstat.hpp — /proc/PID/task/TID/schedstat: how long a
// thread has run on a CPU, in nanoseconds.
//
// Offers: `schedstat{run_time, wait_time, timeslices}`, `parse_schedstat(text)`
// (pure, allocation-free, fuzzed) and `read_schedstat(dir, tid)` /
// `read_schedstat(pid, tid)`. The three numbers are the scheduler's own:
// time on a CPU (se.sum_exec_runtime), time runnable but waiting for a CPU
// (run_delay), and the number of time slices run (pcount). The kernel
// updates a running thread's run time at every scheduler tick and context
// switch, not when the file is read: a thread on a CPU reads up to one tick
// (1/CONFIG_HZ: 1–10 ms) behind. The file needs CONFIG_SCHED_INFO (every
// distribution kernel); with scheduler statistics off it reads "0 0 0".
// Errors: errc::malformed for text that is not three numbers; readers add
// no_such_process (the thread is gone), not_found (a kernel without the
// file) and permission_denied.
// Thread-safe: yes. Signal-safe: parse_schedstat is; readers are on success.
// Target process: reads a /proc file only.
//
//   auto s = TRIAGE_TRY(triage::procfs::read_schedstat(dir, tid));
//   fmt::print("{} ms on a CPU\n", s.run_time.count() / 1'000'000);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

struct schedstat {
    std::chrono::nanoseconds run_time{0};   // on a CPU since the thread started
    std::chrono::nanoseconds wait_time{0};  // runnable, waiting for a CPU
    std::uint64_t timeslices = 0;           // time slices run on a CPU

    friend bool operator==(const schedstat&, const schedstat&) = default;
};

// Parses "RUN WAIT SLICES\n".
[[nodiscard]] TRIAGE_DECL result<schedstat> parse_schedstat(std::string_view text);

[[nodiscard]] TRIAGE_DECL result<schedstat> read_schedstat(const proc_dir& dir, pid_t tid);

[[nodiscard]] TRIAGE_DECL result<schedstat> read_schedstat(pid_t pid, pid_t tid);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/schedstat.ipp"
#endif
