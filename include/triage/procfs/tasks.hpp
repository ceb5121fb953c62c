// triage/procfs/tasks.hpp — the threads of a process as a lazy range of
// stat records: `procfs::tasks(pid)`.
//
// Offers: `tasks(pid)` / `tasks(dir)` → result<stat_view> (stat_view.hpp):
// the thread ids are listed now (one getdents pass over /proc/PID/task);
// each thread's task/TID/stat is read as the range is walked, and a thread
// that has exited by then is skipped, not an error. Each record's `pid` is
// the thread id.
// Errors: no_such_process (the process is gone), permission_denied.
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only.
//
//   auto threads = TRIAGE_TRY(triage::procfs::tasks(pid));
//   for (const auto& t : threads)
//       if (t.state == 'R') fmt::print("{} {} is running\n", t.pid, t.comm.view());
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat_view.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<stat_view> tasks(const proc_dir& dir);

[[nodiscard]] TRIAGE_DECL result<stat_view> tasks(pid_t pid);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/tasks.ipp"
#endif
