// Micro-benchmarks of the procfs hot path: parsing one stat line, and a
// full per-thread sweep of this benchmark's own threads (stat only, and
// stat + syscall + wchan, which is what triage-top reads per thread).
//
//   bench_procfs_stat_parse --benchmark_filter=parse
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/tasks.hpp"
#include "triage/procfs/thread_activity.hpp"

namespace procfs = triage::procfs;

namespace {

std::string captured(const char* name) {
    std::ifstream in(std::string{TRIAGE_SOURCE_DIR} + "/tests/fuzz/corpus/procfs_stat/" + name, std::ios::binary);
    return std::string{std::istreambuf_iterator<char>{in}, {}};
}

void parse_stat_line(benchmark::State& state, const char* file) {
    const std::string line = captured(file);
    if (line.empty()) {
        state.SkipWithError("missing stat seed in tests/fuzz/corpus/procfs_stat");
        return;
    }
    for (auto _ : state) {
        auto st = procfs::parse_stat(line);
        benchmark::DoNotOptimize(st);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * line.size()));
}
BENCHMARK_CAPTURE(parse_stat_line, process, "process");
BENCHMARK_CAPTURE(parse_stat_line, name_with_parens, "thread_name_with_parens");

// N extra threads of our own, parked on a condition variable while the
// benchmark sweeps them.
class parked_threads {
public:
    explicit parked_threads(int n) {
        for (int i = 0; i < n; ++i)
            threads_.emplace_back([this] {
                std::unique_lock lock{mutex_};
                wake_.wait(lock, [this] { return done_; });
            });
    }
    ~parked_threads() {
        {
            std::lock_guard lock{mutex_};
            done_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) t.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::vector<std::thread> threads_;
};

void sweep_stat(benchmark::State& state) {
    parked_threads parked{static_cast<int>(state.range(0))};
    auto dir = procfs::proc_dir::open(::getpid());
    std::size_t seen = 0;
    for (auto _ : state) {
        auto threads = procfs::tasks(*dir);
        for (const auto& t : *threads) benchmark::DoNotOptimize(t.utime), ++seen;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(seen));
}
BENCHMARK(sweep_stat)->Arg(16)->Arg(256)->Unit(benchmark::kMicrosecond);

void sweep_stat_syscall_wchan(benchmark::State& state) {
    parked_threads parked{static_cast<int>(state.range(0))};
    auto dir = procfs::proc_dir::open(::getpid());
    std::size_t seen = 0;
    for (auto _ : state) {
        auto threads = procfs::tasks(*dir);
        for (const auto& t : *threads) {
            auto what = procfs::read_activity(*dir, t);
            benchmark::DoNotOptimize(what);
            ++seen;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(seen));
}
BENCHMARK(sweep_stat_syscall_wchan)->Arg(16)->Arg(256)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
