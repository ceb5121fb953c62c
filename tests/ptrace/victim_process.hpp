// Test support for tests/ptrace: a C victim from tests/victims started as a
// child process, sharing a memfd with the test (the victim maps it and keeps
// its own counters there), killed and reaped when the object goes — also
// when a REQUIRE fails. Plus small checks every test runs on the victim
// afterwards: alive, not stopped, still making progress.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "triage/base/read_file.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/task_ids.hpp"

namespace ptrace_test {

class victim_process {
public:
    // Starts tests/victims/<name> with the memfd's number as argv[1] and
    // waits (up to 20 s) for it to print "ready".
    victim_process(const std::string& name, std::size_t shared_size) : shared_size_{shared_size} {
        memfd_ = ::memfd_create(name.c_str(), 0);  // inherited by the victim
        if (memfd_ < 0 || ::ftruncate(memfd_, static_cast<off_t>(shared_size)) != 0)
            throw std::runtime_error("memfd_create failed");
        shared_ = ::mmap(nullptr, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_, 0);
        if (shared_ == MAP_FAILED) throw std::runtime_error("mmap failed");
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        std::string path = std::string{TRIAGE_VICTIM_DIR} + "/" + name;
        std::string fd_text = std::to_string(memfd_);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            char* argv[] = {path.data(), fd_text.data(), nullptr};
            ::execv(path.c_str(), argv);
            ::_exit(127);
        }
        ::close(out[1]);
        std::string seen;
        char buf[256];
        while (seen.find("ready\n") == std::string::npos) {
            pollfd p{out[0], POLLIN, 0};
            if (::poll(&p, 1, 20000) <= 0) break;
            ssize_t n = ::read(out[0], buf, sizeof buf);
            if (n <= 0) break;
            seen.append(buf, static_cast<std::size_t>(n));
        }
        ::close(out[0]);
        if (seen.find("ready\n") == std::string::npos) {
            stop();
            throw std::runtime_error("victim " + name + " did not get ready");
        }
    }
    victim_process(const victim_process&) = delete;
    victim_process& operator=(const victim_process&) = delete;
    ~victim_process() {
        stop();
        if (shared_ != nullptr && shared_ != MAP_FAILED) ::munmap(shared_, shared_size_);
        if (memfd_ >= 0) ::close(memfd_);
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    template <class T>
    [[nodiscard]] T* shared() const noexcept { return static_cast<T*>(shared_); }

private:
    void stop() noexcept {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGCONT);  // a victim a test left in group-stop still dies cleanly
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, __WALL) < 0 && errno == EINTR) {}
        pid_ = -1;
    }

    std::size_t shared_size_ = 0;
    int memfd_ = -1;
    void* shared_ = nullptr;
    pid_t pid_ = -1;
};

// Reads a counter the victim updates (atomically, from any thread).
[[nodiscard]] inline std::uint64_t load(const std::uint64_t& counter) {
    return __atomic_load_n(&counter, __ATOMIC_SEQ_CST);
}

// Polls `done` every millisecond for up to `limit`; true once it holds.
// (A bound against hanging, not a timing assertion.)
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds{10}) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    return true;
}

// The State letter of each thread of `pid` ('?' for a thread that vanished).
[[nodiscard]] inline std::vector<char> thread_states(pid_t pid) {
    std::vector<char> states;
    auto tids = triage::procfs::task_ids(pid);
    if (!tids) return states;
    for (pid_t tid : *tids) {
        auto s = triage::procfs::read_status(pid, tid);
        states.push_back(s ? s->state : '?');
    }
    return states;
}

[[nodiscard]] inline bool any_thread_stopped(pid_t pid) {
    for (char c : thread_states(pid))
        if (c == 't' || c == 'T') return true;
    return false;
}

// What every test checks at the end: the victim is alive, no thread of it
// is stopped (t/T), and the counter it keeps goes on increasing.
inline void check_runs_on(const victim_process& victim, const std::uint64_t& progress) {
    auto status = triage::procfs::read_status(victim.pid());
    REQUIRE_MESSAGE(status.has_value(), "victim " << victim.pid() << " is gone");
    CHECK(status->state != 'Z');
    CHECK(status->tracer_pid == 0);
    CHECK_FALSE(any_thread_stopped(victim.pid()));
    std::uint64_t before = load(progress);
    CHECK_MESSAGE(eventually([&] { return load(progress) > before; }), "victim " << victim.pid() << " made no progress");
}

} // namespace ptrace_test
