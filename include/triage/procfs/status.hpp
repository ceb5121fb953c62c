// triage/procfs/status.hpp — /proc/PID/status and task/TID/status: the
// human-readable "Key:\tvalue" view of a task.
//
// Offers: `task_status` (name, state, ids, the ids in each nested PID
// namespace (NStgid, NSpid; empty for a task being reaped), tracer, uids/gids, thread count, memory sizes,
// signal masks, context switches) and `parse_status(text)`
// (pure, fuzzed; unknown keys are ignored, so newer kernels parse), plus
// `read_status(pid)`, `read_status(pid, tid)`, `read_status(dir, tid)`.
// The Name line is unescaped as the kernel escapes it ("\n" → newline,
// "\\" → backslash). Memory fields are absent for kernel threads.
// Errors: errc::malformed for lines without ':' or with bad numbers in the
// fields we keep, or without a Pid line; readers add no_such_process and
// permission_denied.
// Thread-safe: yes. Signal-safe: no (the name is a std::string).
// Target process: reads a /proc file only.
//
//   auto s = TRIAGE_TRY(triage::procfs::read_status(pid));
//   if (s.tracer_pid != 0) fmt::print("traced by {}\n", s.tracer_pid);
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

struct task_status {
    std::string name;
    char state = '?';
    pid_t tgid = 0;
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t tracer_pid = 0;
    // The task's tgid and pid (for task/TID/status: its tid) in every PID
    // namespace it is in, from the namespace of this /proc's mount (the
    // same as tgid and pid) to its own, innermost one; one entry when the
    // task is in the reader's namespace (empty before Linux 4.1).
    std::vector<pid_t> ns_tgids;
    std::vector<pid_t> ns_pids;
    std::array<std::uint32_t, 4> uid{};  // real, effective, saved, filesystem
    std::array<std::uint32_t, 4> gid{};
    std::uint64_t threads = 0;
    std::optional<std::uint64_t> vm_peak_kb, vm_size_kb, vm_hwm_kb, vm_rss_kb, vm_swap_kb;
    std::uint64_t sig_pending = 0, sig_blocked = 0, sig_ignored = 0, sig_caught = 0;
    std::uint64_t cap_effective = 0;
    int seccomp = 0;  // Seccomp: 0 none, 1 strict, 2 filter (a filter may kill the process for a system call)
    bool shadow_stack = false;  // x86_Thread_features holds "shstk": the CPU checks every return (Linux >= 6.6)
    std::uint64_t voluntary_ctxt_switches = 0;
    std::uint64_t nonvoluntary_ctxt_switches = 0;
};

namespace detail {
// The Name value as the kernel escapes it (newline as \n, backslash as
// \\) → the name.
[[nodiscard]] TRIAGE_DECL std::string unescape_status_name(std::string_view text);

// "1234\t5" → {1234, 5}. A task being reaped (a thread killed by another
// thread's exec, an exiting process) has lost its pid: the kernel prints 0
// for each level then, or nothing; both read as an empty list.
[[nodiscard]] TRIAGE_DECL bool parse_ns_ids(std::string_view value, std::vector<pid_t>& out);

template <std::size_t N>
[[nodiscard]] constexpr bool parse_id_list(std::string_view value, std::array<std::uint32_t, N>& out) noexcept {
    for (auto& id : out) {
        auto v = parse_unsigned<std::uint32_t>(next_token(value, '\t'));
        if (!v) return false;
        id = *v;
    }
    return true;
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<task_status> parse_status(std::string_view text);

[[nodiscard]] TRIAGE_DECL result<task_status> read_status(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<task_status> read_status(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/status.ipp"
#endif
