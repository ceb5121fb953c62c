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

#include <sys/types.h>

#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

namespace detail {
// Numeric entries of a /proc directory, sorted.
[[nodiscard]] TRIAGE_DECL result<std::vector<pid_t>> list_numeric_entries(const std::string& dir, pid_t owner);
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<std::vector<pid_t>> task_ids(pid_t pid);

[[nodiscard]] TRIAGE_DECL result<std::vector<pid_t>> process_ids();

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/task_ids.ipp"
#endif
