// triage/procfs/impl/thread_activity.ipp — the definitions of
// triage/procfs/thread_activity.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/thread_activity.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<thread_activity> read_activity(const proc_dir& dir, const task_stat& stat) {
    pid_t tid = stat.tid;
    // Zombies and the dead have no syscall; a runnable thread's syscall file
    // says "running" and its wchan "0" whatever it does, so neither is read.
    if (stat.state == 'Z' || stat.state == 'X' || stat.state == 'x' || stat.state == 'R')
        return classify(stat, nullptr, {});
    std::optional<syscall_info> syscall;
    if (!stat.kernel_thread()) syscall = TRIAGE_TRY(read_syscall(dir, tid));
    wait_channel wchan = TRIAGE_TRY(read_wchan(dir, tid));
    return classify(stat, syscall ? &*syscall : nullptr, wchan.view());
}

} // namespace triage::procfs
