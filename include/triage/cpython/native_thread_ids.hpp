// triage/cpython/native_thread_ids.hpp — the kernel tid of each Python
// thread on versions that record only its pthread_t (2.7–3.10), found in the
// target's memory without stopping it.
//
// Offers: `assign_tids(mem, snapshot, tids)`: fills `tid` of every
// thread of the snapshot that lacks one. How: on x86-64 glibc a pthread_t is
// the address of the thread's `struct pthread` (its TCB), which holds the
// thread's kernel tid at a fixed offset (0x2d0 in glibc 2.28–2.38). Rather
// than trust one glibc's offset, the function reads the first KiB of every
// thread's struct pthread in one batch and picks the 4-byte-aligned offset
// at which every thread holds a distinct tid of `tids` (the process's tasks,
// from /proc/PID/task); glibc's known offset wins a tie. Threads it cannot
// map keep nullopt. The same read serves a core file (its memory holds the
// TCBs too).
// Errors: only the memory source's failure for the whole batch
// (no_such_process); an unmappable thread is not an error.
// Thread-safe: yes. Signal-safe: no. Target process: reads only.
//
//   auto tids = TRIAGE_TRY(triage::procfs::task_ids(pid));
//   TRIAGE_TRY(triage::cpython::assign_tids(mem, snapshot, tids));
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

namespace detail::native_ids {
inline constexpr std::size_t tcb_bytes = 1024;
inline constexpr std::size_t glibc_tid_offset = 0x2d0;
} // namespace detail::native_ids

template <memory::memory_source M>
[[nodiscard]] result<void> assign_tids(M& mem, stack_snapshot& snapshot, std::span<const pid_t> tids) {
    namespace d = detail::native_ids;
    std::vector<python_thread*> unknown;
    for (auto& t : snapshot.threads) {
        if (!t.tid && t.python_ident != 0) unknown.push_back(&t);
    }
    if (unknown.empty() || tids.empty()) return {};
    std::vector<std::byte> bytes(unknown.size() * d::tcb_bytes);
    std::vector<memory::read_request> requests;
    for (std::size_t k = 0; k < unknown.size(); ++k) {
        requests.push_back({unknown[k]->python_ident, std::span(bytes).subspan(k * d::tcb_bytes, d::tcb_bytes), 0});
    }
    TRIAGE_TRY(mem.read_batch(requests));
    const std::unordered_set<pid_t> live(tids.begin(), tids.end());
    auto tid_at = [&](std::size_t thread, std::size_t offset) -> std::optional<pid_t> {
        if (requests[thread].bytes_read < offset + 4) return std::nullopt;
        std::int32_t value = 0;
        std::memcpy(&value, bytes.data() + thread * d::tcb_bytes + offset, 4);
        if (value <= 0 || !live.contains(value)) return std::nullopt;
        return value;
    };
    // The offset that maps the most threads to distinct tids.
    std::size_t best_offset = 0;
    std::size_t best_count = 0;
    for (std::size_t offset = 0; offset + 4 <= d::tcb_bytes; offset += 4) {
        std::unordered_set<pid_t> used;
        std::size_t count = 0;
        for (std::size_t k = 0; k < unknown.size(); ++k) {
            if (auto tid = tid_at(k, offset); tid && used.insert(*tid).second) ++count;
        }
        if (count > best_count || (count == best_count && count > 0 && offset == d::glibc_tid_offset)) {
            best_count = count;
            best_offset = offset;
        }
    }
    if (best_count == 0) return {};
    for (std::size_t k = 0; k < unknown.size(); ++k) unknown[k]->tid = tid_at(k, best_offset);
    return {};
}

} // namespace triage::cpython
