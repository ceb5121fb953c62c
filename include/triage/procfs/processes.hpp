// triage/procfs/processes.hpp — every process on the machine as a lazy
// range of stat records: `procfs::processes()`.
//
// Offers: `processes()` → result<stat_view> (stat_view.hpp): the pids are
// listed now (one pass over /proc); each /proc/PID/stat is read as the range
// is walked, and a process that has exited by then is skipped. Kernel
// threads are included (`kernel_thread()` tells them apart).
// Errors: those of opening /proc (not mounted: not_found).
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only.
//
//   auto all = TRIAGE_TRY(triage::procfs::processes());
//   for (const auto& p : all)
//       if (p.comm == "python3") fmt::print("{}\n", p.pid);
#pragma once

#include <fcntl.h>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/procfs/stat_view.hpp"
#include "triage/procfs/task_ids.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<stat_view> processes();

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/processes.ipp"
#endif
