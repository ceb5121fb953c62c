// triage/memory/proc_mem.hpp — a memory_source over /proc/PID/mem (pread).
//
// Offers: `proc_mem::open(pid)` → result<proc_mem>; `read` (partial: the
// readable prefix), `read_batch` (one pread per request), `pid()`.
// The file descriptor holds the target's address space, not its pid: after
// the process exits, reads fail with no_such_process even if the pid is
// reused. live_process uses this as its fallback when process_vm_readv is
// unavailable or refused; use it directly when you want exactly this path.
// Errors: open: no_such_process (no /proc/PID), permission_denied (hint:
// root, CAP_SYS_PTRACE, ptrace_scope). read: bad_address with the address and
// pid ("unreadable address reading 0x7f00 in process 12") when not even the
// first byte is readable; no_such_process once the process has exited (the
// kernel then reads 0 bytes; also for a zombie).
// Thread-safe: yes (pread has no shared offset). Signal-safe: reads that
// succeed yes; errors allocate.
// Target process: reads only; never stops it.
//
//   auto mem = TRIAGE_TRY(triage::memory::proc_mem::open(pid));
//   auto head = TRIAGE_TRY(triage::memory::read_object<std::uint64_t>(mem, address));
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/memory/detail/remote_read_error.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::memory {

class proc_mem {
public:
    [[nodiscard]] static result<proc_mem> open(pid_t pid) {
        if (pid <= 0) return fail(errc::invalid_argument, "opening the memory of process " + std::to_string(pid));
        std::string path = "/proc/" + std::to_string(pid) + "/mem";
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == ENOENT) return fail(errc::no_such_process, "opening " + path);
            if (e == EPERM || e == EACCES) {
                return fail(error{errc::permission_denied, e, "opening " + path, detail::refused_read_hint()});
            }
            return fail_errno(e, "opening " + path);
        }
        return proc_mem{pid, unique_fd{fd}};
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) const {
        std::size_t done = 0;
        // Each round copies at least one byte or ends the loop; the bound
        // covers EINTR retries too.
        for (std::size_t round = 0; done < into.size() && round < into.size() + max_interruptions; ++round) {
            ssize_t n = ::pread(fd_.get(), into.data() + done, into.size() - done,
                                static_cast<off_t>(address + done));
            if (n > 0) {
                done += static_cast<std::size_t>(n);
                continue;
            }
            if (n == 0) return fail(detail::process_gone(pid_));  // the address space is gone
            int e = errno;
            if (e == EINTR) continue;
            bool unreadable = e == EIO || e == EFAULT || e == EINVAL;
            if (unreadable && done > 0) break;  // the readable prefix
            return fail(detail::remote_read_error(e, pid_, address + done, "/proc/" + std::to_string(pid_) + "/mem"));
        }
        return done;
    }

    // One pread per request: /proc/PID/mem has no vectored form over
    // scattered offsets. Unreadable requests get their readable prefix (0).
    [[nodiscard]] result<void> read_batch(std::span<read_request> requests) const {
        for (read_request& request : requests) {
            request.bytes_read = 0;
            if (request.into.empty()) continue;
            auto n = read(request.address, request.into);
            if (n) {
                request.bytes_read = *n;
            } else if (n.error().code != errc::bad_address) {
                return fail(std::move(n.error()));
            }
        }
        return {};
    }

private:
    static constexpr std::size_t max_interruptions = 64;

    proc_mem(pid_t pid, unique_fd fd) noexcept : pid_{pid}, fd_{std::move(fd)} {}

    pid_t pid_;
    unique_fd fd_;
};

static_assert(memory_source<proc_mem>);
static_assert(memory_source<const proc_mem>);

} // namespace triage::memory
