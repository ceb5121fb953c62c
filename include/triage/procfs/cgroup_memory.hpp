// triage/procfs/cgroup_memory.hpp — how much memory a process's cgroup
// still lets it take: its memory limit and what it uses, for choosing a
// dump strategy that allocates (a copy in our memory, pages a fork's target
// rewrites) without pushing a container into its OOM killer.
//
// Offers: `cgroup_memory` and `read_cgroup_memory(pid)`. The memory cgroup
// is found in /proc/PID/cgroup: cgroup v2 ("0::/path", under /sys/fs/cgroup
// or /sys/fs/cgroup/unified), else the v1 memory controller ("N:memory:
// /path", under /sys/fs/cgroup/memory). From that cgroup up to the root,
// every level with a limit (v2 memory.max, v1 memory.limit_in_bytes; "max"
// and v1's huge "unlimited" value are none) counts: the headroom is the
// smallest limit − working set, where the working set is the level's usage
// (memory.current, memory.usage_in_bytes) less its inactive file cache
// (memory.stat inactive_file, or v1 total_inactive_file), which the kernel
// reclaims before it kills.
// Errors: not_found (no memory controller mounted where we look, or the
// process's cgroup is not under it, as from inside some containers);
// no_such_process. Values are read while the process runs: an estimate.
// Thread-safe: yes. Target process: reads /proc and /sys only.
//
//   auto m = TRIAGE_TRY(triage::procfs::read_cgroup_memory(pid));
//   if (auto room = m.headroom()) fmt::print("{} may still take {} bytes\n", m.path, *room);
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::procfs {

struct cgroup_memory {
    std::string path;                       // the memory cgroup, as /proc/PID/cgroup names it
    bool v2 = false;
    std::optional<std::uint64_t> limit;     // the limit of the level with the least headroom
    std::uint64_t working_set = 0;          // that level's usage less its inactive file cache
    std::optional<std::string> limited_at;  // that level's path

    // limit − working set (0 when over); none when no level has a limit.
    [[nodiscard]] std::optional<std::uint64_t> headroom() const noexcept {
        if (!limit) return std::nullopt;
        return *limit > working_set ? *limit - working_set : 0;
    }
};

[[nodiscard]] TRIAGE_DECL result<cgroup_memory> read_cgroup_memory(pid_t pid);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/cgroup_memory.ipp"
#endif
