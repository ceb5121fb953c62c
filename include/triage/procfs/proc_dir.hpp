// triage/procfs/proc_dir.hpp — an open /proc/PID directory, the handle every
// per-process and per-thread reader of procfs goes through.
//
// Offers: `proc_dir::open(pid)`, then reads of `/proc/PID/<file>` (tid 0,
// `whole_process`) or `/proc/PID/task/TID/<file>` into a caller's buffer
// with three syscalls (openat, one read, close; no path building on the
// heap, no allocation unless it fails), `read_all` for files of any size, `read_link` (exe), and
// `task_ids()`. The directory stays bound to the process it was opened for:
// if that process exits and its pid is reused, reads fail with
// no_such_process instead of reading the newcomer.
// Errors: a process or thread that is gone (ENOENT/ESRCH) is
// errc::no_such_process; a live task without the file (a kernel thread's
// exe or smaps_rollup) is errc::not_found; EACCES/EPERM is errc::permission_denied with a hint;
// a file larger than the buffer is errc::truncated. Contexts name the path:
// "reading /proc/12/task/13/stat".
// Thread-safe: a proc_dir may be shared by threads (reads use openat).
// Signal-safe: `read` is on success. Target process: reads /proc only;
// nothing is attached or stopped.
//
//   auto dir = TRIAGE_TRY(triage::procfs::proc_dir::open(pid));
//   char buf[4096];
//   std::string_view text = TRIAGE_TRY(dir.read(tid, "stat", buf));
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/ptrace_permission.hpp"
#include "triage/base/read_file.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage::procfs {

// Pass as the tid to read the process-wide file /proc/PID/<file>.
inline constexpr pid_t whole_process = 0;

// Hint for EACCES on files that need ptrace access (syscall, wchan, auxv,
// exe, maps): the ptrace advice that applies to this machine.
[[nodiscard]] TRIAGE_DECL std::string ptrace_access_hint();

namespace detail {
// "task/TID/name" or "name", NUL-terminated, in `bytes`. Names are short
// literals ("stat", "syscall"), so 64 bytes always suffice.
struct relative_path {
    char bytes[64]{};
    relative_path(pid_t tid, std::string_view name) noexcept {
        char* p = bytes;
        char* end = bytes + sizeof bytes - 1;
        if (tid != whole_process) {
            constexpr std::string_view task = "task/";
            p = std::copy(task.begin(), task.end(), p);
            p = std::to_chars(p, end, tid).ptr;
            *p++ = '/';
        }
        std::size_t n = std::min<std::size_t>(name.size(), static_cast<std::size_t>(end - p));
        p = std::copy_n(name.data(), n, p);
        *p = '\0';
    }
};

// One read() of a small /proc file (stat, syscall, wchan, comm). The kernel
// makes these files whole on the first read (seq_file single_open) and
// copies as much as fits, so a read that leaves room in the buffer has the
// whole file: the usual second read that returns 0 is saved (a third fewer
// syscalls in a sweep). Returns the bytes read, or the errno.
[[nodiscard]] TRIAGE_DECL std::expected<std::size_t, int> read_whole_small_file(int fd, std::span<char> buffer) noexcept;

// The error for a failed open/read of a /proc file: gone → no_such_process.
[[nodiscard]] TRIAGE_DECL error proc_error(int e, std::string context);

// The numeric entries (pids, tids) of an open /proc directory, sorted, or
// the errno. The kernel resumes a /proc/PID/task listing by position, and
// ends one early when the thread it stands on exits: a listing split over
// several getdents64 calls, or cut short, can miss a live thread while
// others exit. So the directory is read in one call (the buffer grows to
// fit), and read again when a second call still finds entries; after a few
// such attempts, the union of what they saw (threads that exited meanwhile
// are skipped by every reader anyway). A listing cut short whose resumed
// position lies past the end still looks whole: callers that know a thread
// by other means (python_stacks) read it by its id.
[[nodiscard]] TRIAGE_DECL std::expected<std::vector<pid_t>, int> numeric_entries(int directory_fd);
} // namespace detail

class proc_dir {
public:
    [[nodiscard]] static result<proc_dir> open(pid_t pid) {
        if (pid <= 0) return fail(errc::invalid_argument, "opening /proc/" + std::to_string(pid), "a pid is a positive number");
        std::string path = "/proc/" + std::to_string(pid);
        int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return std::unexpected(detail::proc_error(errno, "opening " + path));
        return proc_dir{unique_fd{fd}, pid};
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    // "/proc/PID/task/TID/name" (or "/proc/PID/name"), for messages.
    [[nodiscard]] std::string path(pid_t tid, std::string_view name) const {
        return "/proc/" + std::to_string(pid_) + "/" + detail::relative_path{tid, name}.bytes;
    }

    // Reads the whole file into `buffer`; the text is a view of `buffer`.
    [[nodiscard]] result<std::string_view> read(pid_t tid, std::string_view name, std::span<char> buffer) const {
        detail::relative_path rel{tid, name};
        int fd = ::openat(fd_.get(), rel.bytes, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return std::unexpected(failure(errno, "opening ", tid, name));
        unique_fd file{fd};
        auto got = detail::read_whole_small_file(file.get(), buffer);
        if (!got) return std::unexpected(failure(got.error(), "reading ", tid, name));
        std::size_t n = *got;
        if (n == buffer.size())
            return fail(errc::truncated, "reading " + path(tid, name),
                        "the file is larger than " + std::to_string(buffer.size()) + " bytes");
        return std::string_view{buffer.data(), n};
    }

    // Reads a file of any size (cmdline, status, smaps_rollup, auxv).
    [[nodiscard]] result<std::string> read_all(pid_t tid, std::string_view name) const {
        detail::relative_path rel{tid, name};
        int fd = ::openat(fd_.get(), rel.bytes, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return std::unexpected(failure(errno, "opening ", tid, name));
        unique_fd file{fd};
        std::string out(4096, '\0');
        std::size_t used = 0;
        for (;;) {
            auto n = read_fd(file.get(), std::span{out.data() + used, out.size() - used}, path(tid, name));
            if (!n) return std::unexpected(failure(n.error().sys_errno, "reading ", tid, name));
            used += *n;
            if (used < out.size()) break;
            out.resize(out.size() * 2);
        }
        out.resize(used);
        return out;
    }

    // The target of a symbolic link such as "exe" or "cwd".
    [[nodiscard]] result<std::string> read_link(pid_t tid, std::string_view name) const {
        detail::relative_path rel{tid, name};
        std::string out(256, '\0');
        for (int attempt = 0; attempt < 8; ++attempt) {  // PATH_MAX is 4096: 256 << 5 covers it
            ssize_t n = ::readlinkat(fd_.get(), rel.bytes, out.data(), out.size());
            if (n < 0) {
                return std::unexpected(failure(errno, "reading ", tid, name));
            }
            if (static_cast<std::size_t>(n) < out.size()) {
                out.resize(static_cast<std::size_t>(n));
                return out;
            }
            out.resize(out.size() * 2);
        }
        return fail(errc::limit_exceeded, "reading " + path(tid, name), "the link is longer than 32 KiB");
    }

    // Whether /proc/PID (or its task TID) still exists.
    [[nodiscard]] bool alive(pid_t tid = whole_process) const noexcept {
        struct ::stat st{};
        return ::fstatat(fd_.get(), detail::relative_path{tid, "stat"}.bytes, &st, 0) == 0;
    }

    // The ids of the process's threads, sorted (a snapshot).
    [[nodiscard]] result<std::vector<pid_t>> task_ids() const {
        const unique_fd task{::openat(fd_.get(), "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
        auto ids = task ? detail::numeric_entries(task.get()) : std::unexpected(errno);
        if (!ids) return std::unexpected(detail::proc_error(ids.error(), "listing " + path(whole_process, "task")));
        return std::move(*ids);
    }

private:
    // ENOENT/ESRCH mean "gone" only if the task is gone: a live kernel
    // thread has no exe and no memory (smaps_rollup, auxv say ESRCH).
    [[nodiscard]] error failure(int e, std::string_view verb, pid_t tid, std::string_view name) const {
        std::string context = std::string{verb} + path(tid, name);
        if ((e == ENOENT || e == ESRCH) && alive(tid))
            return error{errc::not_found, e, std::move(context),
                         "the task exists but has no " + std::string{name} + " (a kernel thread, or exiting)"};
        return detail::proc_error(e, std::move(context));
    }

    proc_dir(unique_fd fd, pid_t pid) noexcept : fd_{std::move(fd)}, pid_{pid} {}
    unique_fd fd_;
    pid_t pid_ = 0;
};

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/proc_dir.ipp"
#endif
