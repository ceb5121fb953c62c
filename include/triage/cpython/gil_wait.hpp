// triage/cpython/gil_wait.hpp — whether a thread blocked in the kernel is
// waiting for the GIL.
//
// Offers: `gil_wait_range(layout, gil)`: the bytes of the struct
// _gil_runtime_state at `gil` (python_thread::gil) that a thread blocks on
// in futex() while it waits to take the GIL, or to see it taken after a
// forced switch: `cond`, `mutex`, `switch_cond` and `switch_mutex`, which
// follow `locked` (an int, padded) and `switch_number` in every version
// 3.7–3.15 (FORCE_SWITCHING is always on); tests/cpython/layout_law_test.cpp
// checks them against the DWARF of every such interpreter on the machine.
// `waits_for_gil(syscall, range)`: the thread is blocked in futex() on an
// address inside it (/proc/PID/task/TID/syscall names the address; see
// procfs/syscall.hpp).
// Not known: 2.7 and 3.6 (their GIL is not one struct), a thread between
// two waits (running), and cores (no system call state: only the holder).
// `address_range` is interpreter_image.hpp's.
// Thread-safe: yes (pure). Signal-safe: yes. Target process: none touched.
//
//   auto range = triage::cpython::gil_wait_range(layout, thread.gil);
//   auto sc = TRIAGE_TRY(triage::procfs::read_syscall(pid, tid));
//   bool waiting = range && triage::cpython::waits_for_gil(sc, *range);
#pragma once

#include <cstdint>
#include <optional>

#include "triage/base/config.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/procfs/syscall.hpp"

namespace triage::cpython {

namespace detail::gil_wait {
// Offsets from `locked`: int locked (4, padded to 8), unsigned long
// switch_number (8), then pthread_cond_t cond (48), pthread_mutex_t mutex
// (40), pthread_cond_t switch_cond (48), pthread_mutex_t switch_mutex (40).
inline constexpr std::uint64_t locks_from_locked = 16;
inline constexpr std::uint64_t locks_size = 2 * (48 + 40);
inline constexpr long futex_syscall = 202;  // x86-64, as procfs/syscall.hpp reads them
} // namespace detail::gil_wait

[[nodiscard]] TRIAGE_DECL std::optional<address_range> gil_wait_range(const layout& l, std::uint64_t gil) noexcept;

[[nodiscard]] TRIAGE_DECL bool waits_for_gil(const procfs::syscall_info& syscall, const address_range& range) noexcept;

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/gil_wait.ipp"
#endif
