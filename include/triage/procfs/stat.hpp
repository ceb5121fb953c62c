// triage/procfs/stat.hpp — /proc/PID/stat and /proc/PID/task/TID/stat.
//
// Offers: `task_stat` (the fields of proc(5) a triage needs: state, ppid,
// CPU ticks, thread count, start time, last CPU, flags...), `parse_stat(text)`
// for any stat line (pure, allocation-free, fuzzed), and `read_stat(pid)` /
// `read_stat(pid, tid)` / `read_stat(dir, tid)`, which read into a stack
// buffer; `state_word(letter)` says a state letter in one word ("running",
// "idle", ...). The command name may hold spaces, parentheses and even newlines
// (prctl(PR_SET_NAME) accepts anything), so the parser takes the name up to
// the LAST ')' of the line.
// Errors: errc::malformed for text that is not a stat line; readers add
// no_such_process (the task is gone) and permission_denied.
// Thread-safe: yes. Signal-safe: parse_stat is; readers are on success.
// Target process: reads a /proc file only.
//
//   auto st = TRIAGE_TRY(triage::procfs::read_stat(pid, tid));
//   std::uint64_t ticks = st.utime + st.stime;   // clock ticks (sysconf(_SC_CLK_TCK))
//   if (st.state == 'D') ... uninterruptible sleep
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/short_string.hpp"

namespace triage::procfs {

// Linux task flag of kernel threads (PF_KTHREAD in include/linux/sched.h).
inline constexpr std::uint32_t pf_kthread = 0x00200000;

struct task_stat {
    pid_t tid = 0;             // (1) the task's id: the pid for /proc/PID/stat (the leader's tid), the tid for task/TID/stat
    short_string<64> comm;     // (2) the command or thread name, as the kernel stores it
    char state = '?';          // (3) R S D Z T t X I (see proc(5))
    pid_t ppid = 0;            // (4)
    pid_t pgrp = 0;            // (5)
    pid_t session = 0;         // (6)
    int tty_nr = 0;            // (7)
    pid_t tpgid = -1;          // (8)
    std::uint32_t flags = 0;   // (9) PF_* flags
    std::uint64_t minflt = 0;  // (10)
    std::uint64_t majflt = 0;  // (12)
    std::uint64_t utime = 0;   // (14) clock ticks in user mode
    std::uint64_t stime = 0;   // (15) clock ticks in kernel mode
    std::int64_t cutime = 0;   // (16)
    std::int64_t cstime = 0;   // (17)
    std::int64_t priority = 0; // (18)
    std::int64_t nice = 0;     // (19)
    std::int64_t num_threads = 0;   // (20)
    std::uint64_t starttime = 0;    // (22) clock ticks after boot
    std::uint64_t vsize = 0;        // (23) bytes
    std::int64_t rss = 0;           // (24) pages
    int exit_signal = 0;            // (38)
    int processor = -1;             // (39) CPU last run on
    std::uint32_t rt_priority = 0;  // (40)
    std::uint32_t policy = 0;       // (41)
    std::uint64_t delayacct_blkio_ticks = 0;  // (42), 0 when the kernel has fewer fields

    [[nodiscard]] std::uint64_t cpu_ticks() const noexcept { return utime + stime; }
    [[nodiscard]] bool kernel_thread() const noexcept { return (flags & pf_kthread) != 0; }
};

// A state letter in one word: R running, S and I idle, D uninterruptible,
// T and t stopped, Z zombie, X dead; "unknown" for anything else ('?': not
// known, e.g. read from a core).
[[nodiscard]] constexpr std::string_view state_word(char state) noexcept {
    switch (state) {
    case 'R': return "running";
    case 'S':
    case 'I': return "idle";
    case 'D': return "uninterruptible";
    case 'T':
    case 't': return "stopped";
    case 'Z': return "zombie";
    case 'X': return "dead";
    default: return "unknown";
    }
}

namespace detail {
template <class T>
[[nodiscard]] constexpr bool parse_field(std::string_view token, T& out) noexcept {
    if constexpr (std::is_signed_v<T>) {
        auto v = parse_signed<T>(token);
        if (!v) return false;
        out = *v;
    } else {
        auto v = parse_unsigned<T>(token);
        if (!v) return false;
        out = *v;
    }
    return true;
}
} // namespace detail

// Parses one stat line ("1234 (name) S 1 ..."); a trailing newline is fine.
[[nodiscard]] TRIAGE_DECL result<task_stat> parse_stat(std::string_view text);

// A stat line is at most a few hundred bytes (64-byte name, 50 numbers).
inline constexpr std::size_t stat_buffer_size = 2048;

[[nodiscard]] TRIAGE_DECL result<task_stat> read_stat(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<task_stat> read_stat(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/stat.ipp"
#endif
