// 10,000 small reads (8-64 bytes) from another process: one batched
// read_batch against one process_vm_readv per read and one /proc/PID/mem
// pread per read, plus the batch through a warm caching_source. The reads are
// scattered over 64 KiB (hot objects), 4 MiB and 64 MiB (about one read per
// page, nothing to merge). Prints the throughput ratios, from CPU time (the
// system calls run on our thread; CPU time is steadier than wall time on a
// shared machine) and from wall time.
//
// The target is a child forked after filling a buffer: the parent knows
// every byte and address, and checks the bytes read before timing.
// Run: <build>/benchmarks/bench_memory_batched_reads [--benchmark_repetitions=5]
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "triage/memory/caching_source.hpp"
#include "triage/memory/live_process.hpp"

using namespace triage::memory;

namespace {

constexpr std::size_t read_count = 10000;
constexpr std::size_t buffer_size = 64u << 20;

// 10,000 reads over the first `spread` bytes of the child's buffer.
struct workload {
    std::string name;
    std::vector<std::byte> storage;
    std::vector<read_request> requests;
};

workload make_workload(const std::vector<std::byte>& target, std::size_t spread, std::string name) {
    workload w{std::move(name), std::vector<std::byte>(read_count * 64), {}};
    std::mt19937_64 random{spread};
    auto base = reinterpret_cast<std::uint64_t>(target.data());
    for (std::size_t i = 0; i < read_count; ++i) {
        std::size_t size = 8 + random() % 57;
        std::uint64_t offset = random() % (spread - size);
        w.requests.push_back(read_request{base + offset, std::span{w.storage}.subspan(i * 64, size), 0});
    }
    return w;
}

bool all_correct(const std::vector<std::byte>& target, const workload& w) {
    auto base = reinterpret_cast<std::uint64_t>(target.data());
    return std::all_of(w.requests.begin(), w.requests.end(), [&](const read_request& r) {
        return r.bytes_read == r.into.size() &&
               std::memcmp(r.into.data(), target.data() + (r.address - base), r.into.size()) == 0;
    });
}

// Median CPU and wall time per benchmark, to print ratios after the run.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    struct times {
        double cpu = 0;
        double wall = 0;
    };
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            // Iterations, or only the median when aggregates alone are reported.
            bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
            if (run.run_type != Run::RT_Iteration && !median) continue;
            auto& t = runs_[run.run_name.function_name];
            t.cpu.push_back(run.GetAdjustedCPUTime());
            t.wall.push_back(run.GetAdjustedRealTime());
        }
        ConsoleReporter::ReportRuns(runs);
    }
    [[nodiscard]] times median(const std::string& name) const {
        auto it = runs_.find(name);
        if (it == runs_.end()) return {};
        return {middle(it->second.cpu), middle(it->second.wall)};
    }

private:
    static double middle(std::vector<double> v) {
        if (v.empty()) return 0;
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    }
    struct samples {
        std::vector<double> cpu, wall;
    };
    std::map<std::string, samples> runs_;
};

} // namespace

int main(int argc, char** argv) {
    std::vector<std::byte> target(buffer_size);
    for (std::size_t i = 0; i < buffer_size; ++i) target[i] = std::byte((i * 131 + (i >> 12)) & 0xff);
    pid_t child = ::fork();
    if (child < 0) return 1;
    if (child == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) ::pause();
    }
    struct reaper {
        pid_t pid;
        ~reaper() {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } reap{child};

    auto vm = live_process::open(child, access_method::vm_readv);
    auto file = live_process::open(child, access_method::proc_mem);
    if (!vm || !file) {
        std::fprintf(stderr, "%s\n", (vm ? file.error() : vm.error()).message().c_str());
        return 1;
    }
    std::vector<workload> workloads;
    workloads.push_back(make_workload(target, 64u << 10, "64KiB"));
    workloads.push_back(make_workload(target, 4u << 20, "4MiB"));
    workloads.push_back(make_workload(target, 64u << 20, "64MiB"));
    for (workload& w : workloads) {
        if (!vm->read_batch(w.requests) || !all_correct(target, w)) {
            std::fprintf(stderr, "the batched read over %s did not return the child's bytes\n", w.name.c_str());
            return 1;
        }
    }

    auto measure = [&](benchmark::State& state, workload& w, auto&& read_all) {
        for (auto _ : state) {
            read_all();
            benchmark::ClobberMemory();
        }
        state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * read_count));
        if (!all_correct(target, w)) state.SkipWithError("wrong bytes");
    };
    auto one_by_one = [](live_process& mem, workload& w) {
        for (read_request& r : w.requests) r.bytes_read = mem.read(r.address, r.into).value_or(0);
    };
    for (workload& w : workloads) {
        benchmark::RegisterBenchmark(("read_batch/" + w.name).c_str(), [&](benchmark::State& s) {
            measure(s, w, [&] { (void)vm->read_batch(w.requests); });
        })->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("process_vm_readv_per_read/" + w.name).c_str(), [&](benchmark::State& s) {
            measure(s, w, [&] { one_by_one(*vm, w); });
        })->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("pread_per_read/" + w.name).c_str(), [&](benchmark::State& s) {
            measure(s, w, [&] { one_by_one(*file, w); });
        })->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("caching_source_warm/" + w.name).c_str(), [&](benchmark::State& s) {
            caching_source<live_process&> cached{*vm, 16384};  // 64 MiB: every page fits
            (void)cached.read_batch(w.requests);
            measure(s, w, [&] { (void)cached.read_batch(w.requests); });
        })->Unit(benchmark::kMicrosecond);
    }

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    std::printf("\nthroughput of read_batch (10,000 reads of 8-64 bytes) relative to:  [cpu-time ratio / wall-time ratio]\n");
    for (const workload& w : workloads) {
        auto batched = reporter.median("read_batch/" + w.name);
        if (batched.cpu <= 0 || batched.wall <= 0) continue;
        auto show = [&](const char* what, const std::string& name, bool inverse) {
            auto t = reporter.median(name);
            if (t.cpu <= 0 || t.wall <= 0) return;
            double cpu = inverse ? batched.cpu / t.cpu : t.cpu / batched.cpu;
            double wall = inverse ? batched.wall / t.wall : t.wall / batched.wall;
            std::printf("  spread %-6s %-40s %6.1fx / %6.1fx\n", w.name.c_str(), what, cpu, wall);
        };
        show("one process_vm_readv per read (goal 10x)", "process_vm_readv_per_read/" + w.name, false);
        show("one /proc/PID/mem pread per read", "pread_per_read/" + w.name, false);
        show("(inverse) a warm caching_source", "caching_source_warm/" + w.name, true);
    }
    return 0;
}
