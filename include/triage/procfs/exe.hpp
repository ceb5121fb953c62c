// triage/procfs/exe.hpp — the executable a process runs (/proc/PID/exe).
//
// Offers: `executable{path, deleted}` and `read_exe(pid[, tid])` / `read_exe(dir[, tid])`.
// `deleted` is true when the kernel marks the link " (deleted)": the file
// was removed or replaced since the process started — the binary that is
// running is not the one on disk (step 5 of INCIDENT.md).
// Errors: no_such_process (gone); not_found (a kernel thread, or a process
// that is exiting, has no executable); permission_denied (needs ptrace
// access to the target).
// Thread-safe: yes. Signal-safe: no (allocates). Target process: reads a
// /proc link only.
//
//   auto exe = TRIAGE_TRY(triage::procfs::read_exe(pid));
//   if (exe.deleted) fmt::print("{} was replaced on disk\n", exe.path);
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

struct executable {
    std::string path;
    bool deleted = false;
};

// Splits the " (deleted)" marker off a link target.
[[nodiscard]] TRIAGE_DECL executable parse_exe_link(std::string_view target);

[[nodiscard]] TRIAGE_DECL result<executable> read_exe(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<executable> read_exe(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/exe.ipp"
#endif
