// triage/procfs/syscall.hpp — what /proc/PID/task/TID/syscall says a thread
// is doing, without attaching to it.
//
// Offers: `syscall_info` and `parse_syscall(text)` (pure, fuzzed) for the
// three forms the kernel writes:
//   "running"                      the thread is runnable (user space, or
//                                  about to return there)
//   "NR a1 a2 a3 a4 a5 a6 sp pc"   blocked inside system call NR
//   "-1 sp pc"                     blocked in the kernel, not in a system call
// and `read_syscall(dir, tid)` / `read_syscall(pid, tid)`. Numbers are x86-64
// ones; `syscall_name(nr)` (syscall_names.hpp) names them.
// Errors: errc::malformed for other text; readers add no_such_process and
// permission_denied (the file needs ptrace access: root, CAP_SYS_PTRACE, or
// the owner under yama ptrace_scope 0).
// Thread-safe: yes. Signal-safe: parse_syscall is. Target process: reading
// the file makes the kernel wait, briefly, for the thread to be off CPU to
// copy its registers; nothing is attached and the thread is not stopped.
//
//   auto sc = TRIAGE_TRY(triage::procfs::read_syscall(pid, tid));
//   if (sc.kind == triage::procfs::syscall_kind::in_syscall)
//       fmt::print("blocked in {}\n", triage::procfs::syscall_name(sc.number));
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/syscall_names.hpp"

namespace triage::procfs {

enum class syscall_kind : std::uint8_t {
    running,         // "running": on a CPU or runnable
    in_syscall,      // blocked in system call `number`, with `arguments`
    outside_syscall, // "-1 ...": blocked in the kernel for another reason (page fault, kernel thread)
};

struct syscall_info {
    syscall_kind kind = syscall_kind::running;
    long number = -1;  // the system call number when kind == in_syscall
    std::array<std::uint64_t, 6> arguments{};
    std::uint64_t stack_pointer = 0;
    std::uint64_t instruction_pointer = 0;

    // "futex", or "" when not in a system call or the number is unknown.
    [[nodiscard]] std::string_view name() const noexcept {
        return kind == syscall_kind::in_syscall ? syscall_name(number) : std::string_view{};
    }
};

namespace detail {
[[nodiscard]] constexpr bool parse_hex_word(std::string_view token, std::uint64_t& out) noexcept {
    if (!token.starts_with("0x")) return false;
    auto v = parse_unsigned<std::uint64_t>(token.substr(2), 16);
    if (!v) return false;
    out = *v;
    return true;
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<syscall_info> parse_syscall(std::string_view text);

[[nodiscard]] TRIAGE_DECL result<syscall_info> read_syscall(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<syscall_info> read_syscall(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/syscall.ipp"
#endif
