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

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat_view.hpp"

namespace triage::procfs {

[[nodiscard]] inline result<stat_view> tasks(const proc_dir& dir) {
    std::vector<pid_t> ids = TRIAGE_TRY(dir.task_ids());
    std::string shown = dir.path(whole_process, "task");
    int fd = ::openat(dir.fd(), "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(detail::proc_error(errno, "opening " + shown));
    return stat_view{unique_fd{fd}, std::move(shown), std::move(ids)};
}

[[nodiscard]] inline result<stat_view> tasks(pid_t pid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return tasks(dir);
}

} // namespace triage::procfs
