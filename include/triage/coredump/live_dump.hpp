// triage/coredump/live_dump.hpp — write a core file of a running process,
// stopping it only while its memory is copied, in stages a caller can
// recombine with other readers of the same stop.
//
// Offers, in the order they run:
//  1. `plan_dump(pid, path, options)` → `dump_plan`, while the target runs:
//     refuses a kernel thread and a zombie; reads the process facts
//     (NT_PRPSINFO: stat, status, comm, cmdline; NT_AUXV) and
//     coredump_filter; checks and creates the output file (output_file.hpp:
//     a new path or, with `options.output.replace`, a regular file; created
//     unnamed and private); lays the core out once from smaps and pagemap to
//     estimate its size (`estimated_bytes`, of which `estimated_memory_bytes`
//     come from memory) and checks the free space against it.
//  2. `reserve_copy(plan)`, while it runs: room in our own memory for the
//     copy (memory::snapshot), faulted in now, when the strategy copies to
//     memory (automatic: the estimate fits in half of MemAvailable).
//  3. `copy_dump(std::move(plan), session, first_tid)`, while the CALLER
//     holds the target stopped with `session` (borrowed: it is neither
//     attached nor released here, so the same stop can serve other
//     readers): registers of every thread (NT_PRSTATUS, NT_PRFPREG,
//     NT_X86_XSTATE), per-thread signal masks and CPU times, the mappings
//     (smaps) and the decision per mapping (dump_filter.hpp), the resident
//     pages (pagemap); the exact size is checked against the free space;
//     then the memory is copied into the reserved room (to_memory) or
//     written straight into the file (to_file). `first_tid`, when given and
//     a thread of the session, goes first in the core (gdb opens on it),
//     else the main thread; the others follow by tid. Pages of dumped file
//     mappings that are not resident are read from the mapped file
//     (/proc/PID/map_files, else the path when it is the same inode), not
//     faulted into the target. With `copy_strategy::fork_snapshot`, the
//     stop ends after the registers: one thread of the target runs a
//     clone() (ptrace/forked_copy.hpp) and the mappings, pages and memory
//     are read later from that copy-on-write copy, frozen at the stop; when
//     the fork cannot be made (seccomp, pids.max, ...), `fork_fallback`
//     says why and the automatic copy runs in the same stop.
//  4. `write_dump(std::move(copy), session)`, once the caller released the
//     session: writes the file from the copy (unless it was written while
//     stopped), gives it its name, and returns the `dump_report`, with the
//     session's stop time as `stopped_for`. From a fork: lays the core out
//     from the copy's smaps and pagemap (the target's pagemap for shared
//     mappings, whose pages a fork does not map), writes it from the copy's
//     memory, then kills the copy and has the target reap it in a second
//     stop of about a millisecond (`cleanup_stopped_for`). Mappings with
//     MADV_DONTFORK or MADV_WIPEONFORK are absent or zeros in such a core:
//     `not_in_fork` lists them.
// `busiest_thread(before, after)` picks a first thread from two CPU samples
// (procfs/cpu_sample.hpp): the busiest, else one in state R, else the main
// thread. `dump_process(pid, path, options)` composes it all: it samples CPU
// over `options.sample` while planning and reserving (unless
// `options.first_tid` names the thread), attaches, copies, releases, writes.
// `copy_strategy_named(copy, snapshot)`: the strategy triage-gcore's
// `--copy` and `--snapshot` words name.
// Errors: plan: no_such_process (gone; a zombie: "it is a zombie"),
// unsupported (a kernel thread), invalid_argument / not_found for an output
// path that is refused (output_file.hpp), no_space ("the core needs about N
// bytes and M are free"), permission_denied; copy: invalid_argument (the
// session is not held, or holds another process), no_such_process ("the
// process exited during the dump"), no_space (exact size, or a write while
// stopped), interrupted (options.write.cancel was set, e.g. by the caller's
// SIGINT handler); write: invalid_argument (the session is still held),
// no_space, interrupted. Every failure removes the partial file (it has no
// name until write_dump succeeds). dump_process also returns interrupted
// when the cancel flag is set during its sampling window, before anything
// is stopped; a SIGINT/SIGTERM without a handler of the caller's while the
// target is held is caught by the ptrace session's guard, which releases
// the target before the program dies, and the unnamed file vanishes with it.
// Thread-safe: call copy_dump from the thread that holds the session
// (ptrace ties the target to it). Signal-safe: no.
// Target process: plan, reserve and write read /proc only; copy_dump reads
// registers and memory while the caller holds every thread stopped (the
// stop is the caller's: `dump_report::stopped_for` is the session's whole
// stop); nothing is written to it; only pages present or swapped are read
// (swapped ones are swapped in, as for the kernel's own dump).
//
//   auto plan = TRIAGE_TRY(triage::coredump::plan_dump(pid, "core." + std::to_string(pid)));
//   triage::coredump::reserve_copy(plan);
//   auto session = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto regs = TRIAGE_TRY(session.registers(hot_tid));               // another reader, same stop
//   auto copy = TRIAGE_TRY(triage::coredump::copy_dump(std::move(plan), session, hot_tid));
//   TRIAGE_TRY(session.release());
//   auto report = TRIAGE_TRY(triage::coredump::write_dump(std::move(copy), session));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/coredump/dump_filter.hpp"
#include "triage/coredump/output_file.hpp"
#include "triage/coredump/page_map.hpp"
#include "triage/coredump/records.hpp"
#include "triage/coredump/writer.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/memory/snapshot.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/ptrace/forked_copy.hpp"

namespace triage::coredump {

// Where the target's memory goes while the target is stopped.
enum class copy_strategy : std::uint8_t {
    automatic,      // plan_dump chooses: fork_snapshot when the process can be forked and the pages it
                    // may rewrite during the dump (all it has in memory, at worst) fit in the memory free
                    // on the machine (MemAvailable) and in its cgroup; else to_memory when the copy fits
                    // in half of what is free for us (MemAvailable, our cgroup); else to_file
    copy_in_stop,   // never fork: to_memory when the copy fits in half of what is free for us, else to_file
    to_memory,      // copy into our own memory, release the target, then write the file
    to_file,        // write the file while the target is stopped (no extra memory)
    fork_snapshot,  // fork a copy-on-write copy of the target in the stop (ptrace/forked_copy.hpp),
                    // release it, write the file from the copy; automatic when the fork cannot be made
};

// The strategy two choices name, as triage-gcore's options give them:
// `snapshot` "fork" → fork_snapshot; else `copy` "memory" → to_memory,
// "file" → to_file; both "auto" → automatic; `snapshot` "stop" with `copy`
// "auto" → copy_in_stop. Other words: invalid_argument.
[[nodiscard]] TRIAGE_DECL result<copy_strategy> copy_strategy_named(std::string_view copy, std::string_view snapshot);

struct dump_options {
    std::optional<pid_t> first_tid;         // dump_process: the thread to put first; none: the busiest over `sample`
    std::chrono::milliseconds sample{100};  // dump_process's CPU window when no first_tid (0: state only)
    std::optional<dump_filter> filter;      // default: the target's /proc/PID/coredump_filter
    bool check_free_space = true;
    output_options output;                  // replace an existing regular file?
    copy_strategy strategy = copy_strategy::automatic;
    write_options write;  // chunk size, cancel flag, progress callback
    // fork_snapshot: the second stop's budget, and a guardian that reaps the
    // copy if we are killed (dump_process starts one when none is given).
    ptrace::fork_options fork;
};

struct dump_report {
    pid_t pid = 0;
    std::string path;
    std::size_t threads = 0;
    pid_t first_tid = 0;                     // the thread gdb opens on
    std::optional<double> first_thread_cpu;  // its CPU% over dump_process's sample
    std::size_t mappings = 0;         // PT_LOAD segments
    std::size_t mappings_dumped = 0;  // with p_filesz > 0
    std::uint64_t bytes_to_copy = 0;  // headers + resident pages of dumped ranges (the free-space check)
    std::uint64_t bytes_written = 0;  // non-zero bytes written
    std::uint64_t file_size = 0;
    std::uint64_t allocated = 0;  // st_blocks × 512
    dump_filter filter;
    bool copied_to_memory = false;  // the strategy used: to_memory (true) or to_file
    std::string strategy_reason;    // dump_plan::strategy_reason
    std::uint64_t memory_used = 0;  // bytes held for the dump: the copy (to_memory), or the pages held
                                    // twice because the process rewrote them during the dump (fork)
    bool forked = false;            // fork_snapshot: written from a copy-on-write fork
    std::string fork_fallback;      // fork_snapshot asked, not made: why (the copy strategy ran instead)
    std::chrono::nanoseconds fork_time{0};            // the clone() in the target
    std::chrono::nanoseconds cleanup_stopped_for{0};  // the second, short stop in which the target reaped the fork
    std::vector<std::string> not_in_fork;  // "START-END MADV_DONTFORK|MADV_WIPEONFORK": absent or zeros in the core
    std::chrono::nanoseconds stopped_for{0};
    std::chrono::nanoseconds elapsed{0};
};

namespace detail {
// What plan_dump holds for the later stages.
struct planned_core {
    procfs::proc_dir dir;
    memory::live_process memory;
    page_map pages;
    output_file out;
    memory::snapshot room;
    dump_options options;
    std::chrono::steady_clock::time_point started;
    std::vector<std::string> not_in_fork;  // the mappings a fork would not hold as they are
};

// What copy_dump holds for write_dump.
struct copied_core {
    core_layout layout;
    std::vector<unique_fd> files;  // the mapped files the layout's runs read
    memory::snapshot copy;
    output_file out;
    std::optional<write_stats> written;  // to_file: written while stopped
    write_options write;
    std::chrono::steady_clock::time_point started;
    std::optional<ptrace::forked_copy> fork;  // fork_snapshot: the copy the file is written from
    std::optional<page_map> target_pages;     // fork_snapshot: the target's pagemap, for its shared mappings
    dump_filter filter;
    bool check_free_space = true;
};
} // namespace detail

struct dump_plan {
    pid_t pid = 0;
    std::string path;
    dump_filter filter;
    core_process process;     // NT_PRPSINFO and NT_AUXV, read while it ran
    std::size_t threads = 0;  // when planned
    std::uint64_t estimated_bytes = 0;         // the file's headers and data as the process looked while running
    std::uint64_t estimated_memory_bytes = 0;  // of which read from memory: the room reserve_copy takes
    copy_strategy strategy = copy_strategy::automatic;  // the one copy_dump will use (never automatic)
    std::string strategy_reason;                         // why, with the numbers it was chosen on
    detail::planned_core held;
};

struct dump_copy {
    dump_report report;  // filled but for bytes_written, file_size, allocated, stopped_for, elapsed
    detail::copied_core held;
};

struct hot_thread {
    pid_t tid = 0;
    std::optional<double> cpu_percent;  // over the window; nullopt when chosen by state
};

// The thread a core should open on: the busiest with CPU over the window
// from `before` to `after`, else a thread in state R in `after`, else the
// main thread. No window: `before` is empty.
[[nodiscard]] TRIAGE_DECL hot_thread busiest_thread(const std::optional<procfs::cpu_sample>& before, const procfs::cpu_sample& after);

[[nodiscard]] TRIAGE_DECL result<dump_plan> plan_dump(pid_t pid, std::string path, const dump_options& options = {});

// Room for the copy in our memory, faulted in while the target still runs
// (the copy grows it if the process grew). Returns the bytes reserved: 0
// when the strategy writes to the file or the memory cannot be had.
TRIAGE_DECL std::uint64_t reserve_copy(dump_plan& plan);

[[nodiscard]] TRIAGE_DECL result<dump_copy> copy_dump(dump_plan&& plan, const ptrace::session& session,
                                                      std::optional<pid_t> first_tid = std::nullopt);

[[nodiscard]] TRIAGE_DECL result<dump_report> write_dump(dump_copy&& copy, const ptrace::session& session);

[[nodiscard]] TRIAGE_DECL result<dump_report> dump_process(pid_t pid, const std::string& path, const dump_options& options = {});

} // namespace triage::coredump

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/coredump/impl/live_dump.ipp"
#endif
