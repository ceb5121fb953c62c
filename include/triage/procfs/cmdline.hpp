// triage/procfs/cmdline.hpp — the command line of a process
// (/proc/PID/cmdline: arguments separated by NUL bytes).
//
// Offers: `parse_cmdline(bytes)` → the arguments (a trailing NUL ends the
// last one; a process that rewrote its argv, e.g. with setproctitle, may
// have one long argument with spaces), `join_cmdline(args)` → one line for
// display, and `read_cmdline(pid[, tid])` / `read_cmdline(dir[, tid])` (a thread's
// file is its process's). Kernel threads and
// zombies have an empty command line (an empty vector).
// Errors: readers return no_such_process and permission_denied.
// Thread-safe: yes. Signal-safe: no (allocates). Target process: reads a
// /proc file (the kernel copies the bytes from the target's memory).
//
//   auto args = TRIAGE_TRY(triage::procfs::read_cmdline(pid));
//   fmt::print("{}\n", triage::procfs::join_cmdline(args));
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL std::vector<std::string> parse_cmdline(std::string_view bytes);

// Arguments joined by single spaces (for display; not shell-quoted).
[[nodiscard]] TRIAGE_DECL std::string join_cmdline(const std::vector<std::string>& args);

[[nodiscard]] TRIAGE_DECL result<std::vector<std::string>> read_cmdline(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<std::vector<std::string>> read_cmdline(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/cmdline.ipp"
#endif
