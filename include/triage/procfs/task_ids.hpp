// triage/procfs/task_ids.hpp — the ids of a process's threads, and of all
// processes, as lists read from /proc in one pass.
//
// Offers: `task_ids(pid)` (the tids under /proc/PID/task, sorted) and
// `process_ids()` (the pids under /proc, sorted). A process that is gone is
// errc::no_such_process. The lists are snapshots: threads may start or exit
// right after; callers that need a stable set re-list (see ptrace/session).
// Thread-safe: yes. Signal-safe: no (allocates). Target process: none touched.
//
//   for (pid_t tid : TRIAGE_TRY(triage::procfs::task_ids(pid))) ...
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

namespace detail {
// Numeric entries of a /proc directory, sorted.
[[nodiscard]] inline result<std::vector<pid_t>> list_numeric_entries(const std::string& dir, pid_t owner) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        int e = errno;
        error err = error::from_errno(e, "listing " + dir);
        if (e == ENOENT && owner > 0) err.code = errc::no_such_process;
        return fail(std::move(err));
    }
    return numeric_entries(d);
}
} // namespace detail

[[nodiscard]] inline result<std::vector<pid_t>> task_ids(pid_t pid) {
    return detail::list_numeric_entries("/proc/" + std::to_string(pid) + "/task", pid);
}

[[nodiscard]] inline result<std::vector<pid_t>> process_ids() { return detail::list_numeric_entries("/proc", 0); }

} // namespace triage::procfs
