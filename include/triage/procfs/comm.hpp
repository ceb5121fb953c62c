// triage/procfs/comm.hpp — the name of a process or thread
// (/proc/PID/comm, /proc/PID/task/TID/comm): what prctl(PR_SET_NAME) and
// pthread_setname_np set; 15 bytes for user threads, up to 63 for kernel
// threads.
//
// Offers: `parse_comm(text)` (drops the one trailing newline the kernel
// adds; keeps every other byte, spaces and ')' included) and
// `read_comm(pid, tid)` / `read_comm(dir, tid)` → `task_name`, an inline
// string (no allocation).
// Errors: readers return no_such_process and permission_denied.
// Thread-safe: yes. Signal-safe: parse_comm is. Target process: reads a
// /proc file only.
//
//   auto name = TRIAGE_TRY(triage::procfs::read_comm(pid, tid));
//   fmt::print("{}\n", name.view());
#pragma once

#include <sys/types.h>

#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/short_string.hpp"

namespace triage::procfs {

using task_name = short_string<64>;

[[nodiscard]] constexpr std::string_view parse_comm(std::string_view text) noexcept {
    if (text.ends_with('\n')) text.remove_suffix(1);
    return text;
}

[[nodiscard]] TRIAGE_DECL result<task_name> read_comm(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<task_name> read_comm(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/comm.ipp"
#endif
