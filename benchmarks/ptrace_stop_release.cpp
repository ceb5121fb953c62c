// Stop-and-release of every thread of a process with ptrace::session: the
// time the target is stopped (CLOCK_MONOTONIC, first PTRACE_INTERRUPT → last
// PTRACE_DETACH, as session::stopped_for() measures it), for a
// 26-thread process (the incident's service) and a 1,000-thread one.
//
//   bench_ptrace_stop_release                      Google Benchmark; the
//       reported time is the target's pause (manual time), plus counters
//   bench_ptrace_stop_release --victim N           a victim: N threads (one
//       spinning, the rest blocked on a condition variable, like the
//       service's semaphore waiters); prints "ready", runs until killed
//   bench_ptrace_stop_release --attach-once PID    one stop-and-release of
//       PID; prints the pause in µs (benchmarks/ptrace_vs_gdb.sh times this
//       against `gdb -p PID -batch`)
//
// The victims are forked from this program, so it needs no other build
// product. Goal (issue 3): < 5 ms pause for 26 threads.
#include <benchmark/benchmark.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "triage/ptrace/session.hpp"

namespace {

// Runs in the victim process: n threads, then waits forever.
[[noreturn]] void run_victim(int threads, int ready_fd) {
    static std::mutex mutex;
    static std::condition_variable never;
    static std::atomic<unsigned long> spins{0};
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads));
    pool.emplace_back([] {
        for (;;) spins.fetch_add(1, std::memory_order_relaxed);
    });
    for (int i = 2; i < threads; ++i) {
        pool.emplace_back([] {
            std::unique_lock lock{mutex};
            for (;;) never.wait(lock);
        });
    }
    if (ready_fd >= 0) {
        (void)!::write(ready_fd, "ready\n", 6);
        ::close(ready_fd);
    } else {
        std::puts("ready");
        std::fflush(stdout);
    }
    for (;;) ::pause();
}

// A forked victim with `threads` threads in total (main included).
class forked_victim {
public:
    explicit forked_victim(int threads) {
        int ready[2];
        if (::pipe(ready) != 0) std::abort();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(ready[0]);
            run_victim(threads, ready[1]);
        }
        ::close(ready[1]);
        char buf[8];
        pollfd p{ready[0], POLLIN, 0};
        if (::poll(&p, 1, 30000) <= 0 || ::read(ready[0], buf, sizeof buf) <= 0) std::abort();
        ::close(ready[0]);
    }
    ~forked_victim() {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, __WALL);
    }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
};

void stop_and_release(benchmark::State& state) {
    forked_victim victim{static_cast<int>(state.range(0))};
    double worst = 0, sum = 0;
    std::size_t threads = 0;
    for (auto _ : state) {
        auto s = triage::ptrace::session::attach(victim.pid());
        if (!s) {
            state.SkipWithError(s.error().message().c_str());
            return;
        }
        threads = s->threads().size();
        (void)s->release();
        double pause = std::chrono::duration<double>(s->stopped_for()).count();
        state.SetIterationTime(pause);
        worst = std::max(worst, pause);
        sum += pause;
    }
    state.counters["threads"] = static_cast<double>(threads);
    state.counters["pause_mean_us"] = sum / static_cast<double>(state.iterations()) * 1e6;
    state.counters["pause_max_us"] = worst * 1e6;
}
BENCHMARK(stop_and_release)->Arg(26)->Arg(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--victim") == 0) run_victim(std::atoi(argv[2]), -1);
    if (argc == 3 && std::strcmp(argv[1], "--attach-once") == 0) {
        auto s = triage::ptrace::session::attach(static_cast<pid_t>(std::atoi(argv[2])));
        if (!s) {
            std::fprintf(stderr, "%s\n", s.error().message().c_str());
            return 1;
        }
        std::size_t threads = s->threads().size();
        if (auto r = s->release(); !r) {
            std::fprintf(stderr, "%s\n", r.error().message().c_str());
            return 1;
        }
        std::printf("%zu threads stopped for %.1f us\n", threads,
                    std::chrono::duration<double, std::micro>(s->stopped_for()).count());
        return 0;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
