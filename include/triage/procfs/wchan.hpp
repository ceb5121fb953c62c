// triage/procfs/wchan.hpp — the wait channel of a sleeping thread
// (/proc/PID/task/TID/wchan): the kernel function it sleeps in, such as
// "futex_wait_queue" or "do_nanosleep".
//
// Offers: `parse_wchan(text)` ("" when the kernel writes "0": running, or
// no symbol) and `read_wchan(dir, tid)` / `read_wchan(pid, tid)` returning a
// `wait_channel` (an inline string: no allocation per thread).
// Errors: readers return no_such_process and permission_denied (the kernel
// wants ptrace read access).
// Thread-safe: yes. Signal-safe: parse_wchan is. Target process: reads a
// /proc file only.
//
//   auto w = TRIAGE_TRY(triage::procfs::read_wchan(pid, tid));
//   if (!w.empty()) fmt::print("sleeping in {}\n", w.view());
#pragma once

#include <sys/types.h>

#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/short_string.hpp"

namespace triage::procfs {

using wait_channel = short_string<128>;

[[nodiscard]] constexpr std::string_view parse_wchan(std::string_view text) noexcept {
    text = trim(text);
    return text == "0" ? std::string_view{} : text;
}

[[nodiscard]] TRIAGE_DECL result<wait_channel> read_wchan(const proc_dir& dir, pid_t tid = whole_process);

[[nodiscard]] TRIAGE_DECL result<wait_channel> read_wchan(pid_t pid, pid_t tid = whole_process);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/wchan.ipp"
#endif
