// Test support for tests/ptrace: a C victim from tests/victims that keeps its
// own counters in a memfd it shares with the test (the memfd's number is its
// argv[1]; tests/support opens its pipes close-on-exec, so the memfd is the
// one descriptor of ours the victim inherits), and the checks every test runs
// on the victim afterwards: alive, not traced, no thread stopped, and its
// counter still increasing. Starting, readiness ("ready"), killing and
// reaping come from test_support::victim.
//
// Errors: std::runtime_error when the memfd cannot be made or the victim does
// not start or get ready. Thread safety: one object per thread. What it does
// to the victim: starts it; SIGKILLs and reaps it on destruction (a stopped
// one too).
//
//   ptrace_test::shared_victim victim{"ptrace_parked", sizeof(parked_shared)};
//   auto* shared = victim.shared<parked_shared>();
//   ... attach, inspect, release ...
//   ptrace_test::check_runs_on(victim, shared->progress);
#pragma once

#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/victim.hpp"

namespace ptrace_test {

// A memfd of `size` bytes mapped shared into the test; not close-on-exec.
class shared_memory {
public:
    shared_memory(const std::string& name, std::size_t size) : size_{size} {
        fd_ = ::memfd_create(name.c_str(), 0);
        if (fd_ < 0 || ::ftruncate(fd_, static_cast<off_t>(size)) != 0) fail("creating the memfd for " + name);
        address_ = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (address_ == MAP_FAILED) fail("mapping the memfd for " + name);
    }
    shared_memory(const shared_memory&) = delete;
    shared_memory& operator=(const shared_memory&) = delete;
    ~shared_memory() { release(); }

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] void* address() const noexcept { return address_; }

private:
    [[noreturn]] void fail(const std::string& what) {
        const int code = errno;
        release();
        throw std::runtime_error(what + ": " + std::strerror(code));
    }
    void release() noexcept {
        if (address_ != nullptr && address_ != MAP_FAILED) ::munmap(address_, size_);
        if (fd_ >= 0) ::close(fd_);
        address_ = nullptr;
        fd_ = -1;
    }

    std::size_t size_ = 0;
    int fd_ = -1;
    void* address_ = nullptr;
};

// tests/victims/<name> started with the memfd's number as argv[1] (then
// `arguments`) and waited for (it prints "ready" once its threads run).
class shared_victim {
public:
    shared_victim(const std::string& name, std::size_t shared_size, const std::vector<std::string>& arguments = {})
        : memory_{name, shared_size}, process_{argv(name, memory_.fd(), arguments)} {}

    [[nodiscard]] pid_t pid() const noexcept { return process_.pid(); }
    template <class T>
    [[nodiscard]] T* shared() const noexcept { return static_cast<T*>(memory_.address()); }

private:
    static std::vector<std::string> argv(const std::string& name, int fd, const std::vector<std::string>& arguments) {
        std::vector<std::string> out{triage::test_support::victim_path(name), std::to_string(fd)};
        out.insert(out.end(), arguments.begin(), arguments.end());
        return out;
    }

    shared_memory memory_;  // outlives the process: declared first
    triage::test_support::victim process_;
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

// What every test checks at the end: the victim is alive, not traced, no
// thread of it is stopped (t/T), and the counter it keeps goes on increasing.
inline void check_runs_on(const shared_victim& victim, const std::uint64_t& progress) {
    const char state = triage::test_support::process_state(victim.pid());
    REQUIRE_MESSAGE(state != '?', "victim " << victim.pid() << " is gone");
    // A leader is a zombie for a moment while another thread execs (the
    // kernel waits for it to die before the exec'ing thread takes its pid);
    // a process that ended stays one (we do not reap it here).
    const pid_t pid = victim.pid();
    CHECK_MESSAGE(eventually([&] { return triage::test_support::process_state(pid) != 'Z'; }, std::chrono::seconds{2}),
                  "victim " << pid << " ended: " << triage::test_support::zombie_ending(pid));
    CHECK(triage::test_support::tracer_pid(victim.pid()) == 0);
    CHECK_FALSE(triage::test_support::any_thread_stopped(victim.pid()));
    std::uint64_t before = load(progress);
    CHECK_MESSAGE(eventually([&] { return load(progress) > before; }), "victim " << victim.pid() << " made no progress");
}

} // namespace ptrace_test
