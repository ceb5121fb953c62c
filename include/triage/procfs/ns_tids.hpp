// triage/procfs/ns_tids.hpp — the thread ids a process sees for itself when
// it runs in another PID namespace (a container, `unshare -fp`).
//
// Offers: `read_ns_tids(dir)` → `ns_tid_map`: for each thread its `tid` as
// this /proc shows it (the outer view, used everywhere in triage) and its
// `ns_tid`, the id it has in its own, innermost PID namespace (what
// gettid() returns inside it, what CPython 3.11+ records as a thread's
// native id, and what glibc keeps in its thread control block). Read from
// the NSpid lines of /proc/PID/status and task/TID/status. A process in
// this /proc's namespace is not `nested()`: the map is empty and every
// lookup answers nullopt (its tids need no translation).
// Errors: those of reading /proc/PID/status (no_such_process,
// permission_denied); threads that exit meanwhile are left out.
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc only (one
// status file, and one per thread when nested).
//
//   auto ids = TRIAGE_TRY(triage::procfs::read_ns_tids(dir));
//   if (ids.nested())
//       for (auto [tid, ns_tid] : ids.threads()) fmt::print("{} is {} inside\n", tid, ns_tid);
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/status.hpp"

namespace triage::procfs {

struct ns_tid_pair {
    pid_t tid = 0;     // as this /proc shows it
    pid_t ns_tid = 0;  // inside the process's own PID namespace

    friend bool operator==(const ns_tid_pair&, const ns_tid_pair&) = default;
};

class ns_tid_map {
public:
    ns_tid_map() = default;
    // `threads` in any order; nested(): the process is in another namespace.
    ns_tid_map(std::vector<ns_tid_pair> threads, bool nested) : threads_{std::move(threads)}, nested_{nested} {
        std::ranges::sort(threads_, {}, &ns_tid_pair::tid);
    }

    [[nodiscard]] bool nested() const noexcept { return nested_; }
    // Sorted by tid.
    [[nodiscard]] std::span<const ns_tid_pair> threads() const noexcept { return threads_; }

    // The outer tid of the thread that is `ns_tid` inside.
    [[nodiscard]] std::optional<pid_t> tid_of(pid_t ns_tid) const noexcept {
        auto it = std::ranges::find(threads_, ns_tid, &ns_tid_pair::ns_tid);
        return it == threads_.end() ? std::nullopt : std::optional<pid_t>{it->tid};
    }
    // The inner tid of the thread that is `tid` here.
    [[nodiscard]] std::optional<pid_t> ns_tid_of(pid_t tid) const noexcept {
        auto it = std::ranges::lower_bound(threads_, tid, {}, &ns_tid_pair::tid);
        return it == threads_.end() || it->tid != tid ? std::nullopt : std::optional<pid_t>{it->ns_tid};
    }

private:
    std::vector<ns_tid_pair> threads_;
    bool nested_ = false;
};

[[nodiscard]] TRIAGE_DECL result<ns_tid_map> read_ns_tids(const proc_dir& dir);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/ns_tids.ipp"
#endif
