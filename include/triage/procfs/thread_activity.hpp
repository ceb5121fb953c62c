// triage/procfs/thread_activity.hpp — what a thread is doing right now, in
// one word: running in user space, blocked in which system call (and where
// in the kernel), stopped, traced, zombie, dead, or a kernel thread.
//
// Offers: `activity`, `thread_activity`, `classify(stat, syscall, wchan)`
// (pure: the decision table, tested on its own) and
// `read_activity(dir, stat)`, which reads task/TID/syscall and
// task/TID/wchan for a thread whose stat you already have (not for a
// thread in state R: the kernel would say "running" and "0" for it).
//   - state Z / X / T / t          → zombie / dead / stopped / traced
//   - a kernel thread (PF_KTHREAD) → kernel_thread (its syscall file is
//     meaningless: it never entered from user space)
//   - syscall says "running"       → user_space (runnable: on a CPU or about
//     to be; a thread in a tight loop in user space reads this way)
//   - syscall "NR ..."             → in_syscall (name from syscall_names.hpp)
//   - syscall "-1 ..."             → outside_syscall (in the kernel for a
//     page fault or an interrupt, not a system call)
// Errors: no_such_process when the thread exits while we read it;
// permission_denied when syscall/wchan need ptrace access we lack.
// Thread-safe: yes. Signal-safe: classify is. Target process: reads /proc
// files only (see syscall.hpp for what reading `syscall` does).
//
//   auto st = TRIAGE_TRY(triage::procfs::read_stat(dir, tid));
//   auto what = TRIAGE_TRY(triage::procfs::read_activity(dir, st));
//   if (what.kind == triage::procfs::activity::in_syscall) fmt::print("{}\n", what.syscall_name());
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/syscall.hpp"
#include "triage/procfs/syscall_names.hpp"
#include "triage/procfs/wchan.hpp"

namespace triage::procfs {

enum class activity : std::uint8_t {
    user_space,
    in_syscall,
    outside_syscall,
    kernel_thread,
    stopped,
    traced,
    zombie,
    dead,
};

[[nodiscard]] constexpr std::string_view to_string(activity a) noexcept {
    switch (a) {
    case activity::user_space: return "user space";
    case activity::in_syscall: return "in syscall";
    case activity::outside_syscall: return "in kernel, not in a syscall";
    case activity::kernel_thread: return "kernel thread";
    case activity::stopped: return "stopped";
    case activity::traced: return "traced";
    case activity::zombie: return "zombie";
    case activity::dead: return "dead";
    }
    return "unknown";
}

struct thread_activity {
    activity kind = activity::user_space;
    char state = '?';                  // the stat state letter it was derived from
    std::optional<long> syscall_number;  // the call it is blocked in (in_syscall, or stopped inside one)
    wait_channel wchan;                  // kernel function it sleeps in; empty when running or unknown

    [[nodiscard]] bool in_user_space() const noexcept { return kind == activity::user_space; }
    // "futex"; "syscall_N" for a number the table lacks; "" when not in a syscall.
    [[nodiscard]] std::string_view syscall_name() const noexcept {
        return syscall_number ? procfs::syscall_name(*syscall_number) : std::string_view{};
    }
};

// The decision table. `syscall` is null when it was not read (kernel
// threads, zombies); a user thread is then judged by its state letter alone:
// R → user_space, anything else → outside_syscall.
[[nodiscard]] constexpr thread_activity classify(const task_stat& stat, const syscall_info* syscall,
                                                 std::string_view wchan) noexcept {
    thread_activity out;
    out.state = stat.state;
    out.wchan.assign(wchan);
    if (syscall != nullptr && syscall->kind == syscall_kind::in_syscall && !stat.kernel_thread())
        out.syscall_number = syscall->number;
    switch (stat.state) {
    case 'Z': out.kind = activity::zombie; return out;
    case 'X':
    case 'x': out.kind = activity::dead; return out;
    case 'T': out.kind = activity::stopped; return out;
    case 't': out.kind = activity::traced; return out;
    default: break;
    }
    if (stat.kernel_thread()) {
        out.kind = activity::kernel_thread;
    } else if (syscall == nullptr ? stat.state == 'R' : syscall->kind == syscall_kind::running) {
        out.kind = activity::user_space;
        out.wchan.assign({});
    } else if (syscall != nullptr && syscall->kind == syscall_kind::in_syscall) {
        out.kind = activity::in_syscall;
    } else {
        out.kind = activity::outside_syscall;
    }
    return out;
}

// Reads syscall and wchan of thread `stat.tid` (a tid) of `dir`'s process.
[[nodiscard]] TRIAGE_DECL result<thread_activity> read_activity(const proc_dir& dir, const task_stat& stat);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/thread_activity.ipp"
#endif
