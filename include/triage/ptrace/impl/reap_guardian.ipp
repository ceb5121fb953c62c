// triage/ptrace/impl/reap_guardian.ipp — the definitions of
// triage/ptrace/reap_guardian.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <thread>
#include <vector>

#include "triage/procfs/processes.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/status.hpp"
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

// What the tool tells its guardian: 'f' a fork of `target` starts, 'c' its
// copy is (copy, copy_in_target), 'd' nothing is left to reap.
struct guardian_record {
    std::int32_t kind = 0;
    std::int32_t target = 0;
    std::int32_t copy = 0;
    std::int32_t copy_in_target = 0;
};

// Now, in the clock ticks of /proc/PID/stat's starttime.
[[nodiscard]] TRIAGE_DECL std::uint64_t boot_ticks() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_BOOTTIME, &now);
    const auto hz = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
    return static_cast<std::uint64_t>(now.tv_sec) * hz + static_cast<std::uint64_t>(now.tv_nsec) * hz / 1'000'000'000u;
}

// The zombie children of `target` with exit signal 0 born at `since` or
// later: a copy made by a clone() we died in, which exits at once (the
// clone may still be running when we die: polled for at most 2 s, a clone
// of 80 GiB). Their pids in the target's namespace.
[[nodiscard]] TRIAGE_DECL std::vector<pid_t> unnamed_copies(pid_t target, std::uint64_t since) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    std::vector<pid_t> found;
    while (found.empty() && std::chrono::steady_clock::now() < deadline) {
        if (auto all = procfs::processes())
            for (const procfs::task_stat& p : *all)
                if (p.ppid == target && p.exit_signal == 0 && p.starttime + 1 >= since && p.state == 'Z') found.push_back(p.tid);
        if (found.empty()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    for (pid_t& pid : found)
        if (auto status = procfs::read_status(pid); status && !status->ns_pids.empty()) pid = status->ns_pids.back();
    return found;
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
    guardian_record fork{}, copy{};
    std::uint64_t fork_since = 0;
    for (guardian_record r; read_exactly(fd, &r, sizeof r);) {
        if (r.kind == 'd') ::_exit(0);
        if (r.kind == 'f') {
            fork = r;
            copy = {};
            fork_since = boot_ticks();
        }
        if (r.kind == 'c') copy = r;
    }
    // The tool died.
    if (copy.kind == 0) {
        if (fork.kind != 0)
            for (pid_t lost : unnamed_copies(fork.target, fork_since))
                (void)reap_dead_copy(fork.target, lost, std::chrono::milliseconds{2000});
        ::_exit(0);
    }
    // While the copy lived: its tracer's end kills the copy.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    for (;;) {
        auto st = procfs::read_stat(copy.copy);
        if (!st || st->ppid != copy.target) ::_exit(0);  // reaped already, or not the target's
        if (st->state == 'Z' || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    (void)reap_dead_copy(copy.target, copy.copy_in_target, std::chrono::milliseconds{2000});
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

TRIAGE_DECL void reap_guardian::expect_fork(pid_t target) noexcept {
    const detail::guardian_record r{'f', target, 0, 0};
    if (pipe_) (void)!::write(pipe_.get(), &r, sizeof r);
}

TRIAGE_DECL void reap_guardian::watch(pid_t target, pid_t copy, pid_t copy_in_target) noexcept {
    const detail::guardian_record r{'c', target, copy, copy_in_target};
    if (pipe_) (void)!::write(pipe_.get(), &r, sizeof r);
}

TRIAGE_DECL void reap_guardian::done() noexcept {
    if (pid_ <= 0) return;
    const detail::guardian_record r{'d', 0, 0, 0};
    if (pipe_) (void)!::write(pipe_.get(), &r, sizeof r);
    pipe_.reset();
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
    pid_ = 0;
}

} // namespace triage::ptrace
