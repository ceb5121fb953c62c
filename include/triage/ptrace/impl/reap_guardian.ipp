// triage/ptrace/impl/reap_guardian.ipp — the definitions of
// triage/ptrace/reap_guardian.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <thread>

#include "triage/procfs/stat.hpp"
#include "triage/ptrace/forked_copy.hpp"
#include "triage/ptrace/reap_guardian.hpp"

namespace triage::ptrace::detail {

// Reads exactly `size` bytes; false at EOF or on an error.
[[nodiscard]] TRIAGE_DECL bool read_exactly(int fd, void* into, std::size_t size) noexcept {
    auto* at = static_cast<char*>(into);
    while (size > 0) {
        const ssize_t n = ::read(fd, at, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        at += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// The guardian process: see the header.
[[noreturn]] TRIAGE_DECL void guard_copies(int fd) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_IGN);
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int standard = 0; standard < 3 && null >= 0; ++standard) (void)::dup2(null, standard);
    // Nothing else of the tool's stays open here (a pipe a caller reads to
    // its end, a socket, the core being written).
    for (int other = 3; other < 1024; ++other)
        if (other != fd) (void)::close(other);
    std::array<std::int32_t, 3> ids{};  // target, copy, the copy's pid in the target's namespace
    char word = 0;
    if (!read_exactly(fd, ids.data(), sizeof ids) || read_exactly(fd, &word, 1)) ::_exit(0);
    // The tool died while the copy lived: its tracer's end kills the copy.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    for (;;) {
        auto st = procfs::read_stat(ids[1]);
        if (!st || st->ppid != ids[0]) ::_exit(0);  // reaped already, or not the target's
        if (st->state == 'Z' || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    (void)reap_dead_copy(ids[0], ids[2], std::chrono::milliseconds{2000});
    ::_exit(0);
}

} // namespace triage::ptrace::detail

namespace triage::ptrace {

[[nodiscard]] TRIAGE_DECL result<reap_guardian> reap_guardian::start() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno(errno, "starting a reap guardian");
    unique_fd read_end{fds[0]}, write_end{fds[1]};
    const pid_t pid = ::fork();
    if (pid < 0) return fail_errno(errno, "starting a reap guardian");
    if (pid == 0) detail::guard_copies(read_end.release());
    return reap_guardian{pid, std::move(write_end)};
}

TRIAGE_DECL void reap_guardian::watch(pid_t target, pid_t copy, pid_t copy_in_target) noexcept {
    const std::array<std::int32_t, 3> ids{target, copy, copy_in_target};
    if (pipe_) (void)!::write(pipe_.get(), ids.data(), sizeof ids);
}

TRIAGE_DECL void reap_guardian::done() noexcept {
    if (pid_ <= 0) return;
    const char word = 'd';
    if (pipe_) (void)!::write(pipe_.get(), &word, 1);
    pipe_.reset();
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
    pid_ = 0;
}

} // namespace triage::ptrace
