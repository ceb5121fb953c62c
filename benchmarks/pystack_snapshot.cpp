// Python stacks of a 26-thread stuck service (tests/victims/py_stuck_service.py
// on Debian's /usr/bin/python3.11, else the first python3 on PATH; or on the
// command in TRIAGE_BENCH_PYTHON, words split at spaces, for example the
// interpreter lab's 3.14, which needs the source tree and /tmp shared:
//   TRIAGE_BENCH_PYTHON="tests/lab/run-in-root /var/cache/triage-lab/root
//     --share $PWD --share /tmp -- /usr/bin/python3.14"):
//  - BM_warm_snapshot: one walker snapshot of every thread's stack, in a
//    loop, without stopping the target (goal: under 100 µs, so a sampler
//    could run at 10 kHz);
//  - BM_warm_snapshot_named: the same plus every thread's Python name
//    (thread_names.hpp, warm: its cache filled by the first iteration;
//    the goal above holds with names);
//  - BM_cold_snapshot: a new walker each time (no cached code objects);
//  - BM_blocking_snapshot: attach (stop every thread), snapshot, release;
//    the counter `stopped_us` is how long the target was stopped (goal:
//    under 5 ms).
// The victim is started by the benchmark and killed at the end.
#include <benchmark/benchmark.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/cpython/thread_names.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/ptrace/session.hpp"

namespace {

using namespace triage;

// The stuck service, started once for all benchmarks.
struct service {
    pid_t pid = -1;
    std::string ready = "/tmp/triage-pystack-bench-" + std::to_string(::getpid());

    service() {
        std::vector<std::string> words;
        if (const char* command = std::getenv("TRIAGE_BENCH_PYTHON")) {
            std::istringstream in{command};
            for (std::string word; in >> word;) words.push_back(word);
        }
        if (words.empty()) words = {::access("/usr/bin/python3.11", X_OK) == 0 ? "/usr/bin/python3.11" : "python3"};
        words.push_back(std::string(TRIAGE_SOURCE_DIR) + "/tests/victims/py_stuck_service.py");
        words.push_back(ready);
        std::vector<char*> argv;
        for (auto& w : words) argv.push_back(w.data());
        argv.push_back(nullptr);
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::execvp(argv[0], argv.data());
            ::_exit(127);
        }
        for (int k = 0; k < 500 && ::access(ready.c_str(), F_OK) != 0; ++k) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ~service() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        std::remove(ready.c_str());
    }
};

service& victim() {
    static service s;
    return s;
}

struct opened {
    memory::live_process mem;
    cpython::python_target target;
};

std::optional<opened> open_victim(benchmark::State& state) {
    auto objects = elf::mapped_objects(victim().pid);
    if (!objects) {
        state.SkipWithError(objects.error().message().c_str());
        return std::nullopt;
    }
    auto image = cpython::find_interpreter(*objects);
    auto mem = memory::live_process::open(victim().pid);
    if (!image || !mem) {
        state.SkipWithError("cannot open the stuck service");
        return std::nullopt;
    }
    auto target = cpython::open_python(*mem, std::move(*image));
    if (!target) {
        state.SkipWithError(target.error().message().c_str());
        return std::nullopt;
    }
    return opened{std::move(*mem), std::move(*target)};
}

void BM_warm_snapshot(benchmark::State& state) {
    auto o = open_victim(state);
    if (!o) return;
    auto walker = cpython::make_walker(o->mem, o->target);
    std::size_t frames = 0;
    for (auto _ : state) {
        auto snap = walker.snapshot();
        if (!snap) {
            state.SkipWithError(snap.error().message().c_str());
            return;
        }
        frames = 0;
        for (const auto& t : snap->threads) frames += t.frames.size();
        benchmark::DoNotOptimize(frames);
    }
    state.counters["frames"] = static_cast<double>(frames);
}
BENCHMARK(BM_warm_snapshot)->Unit(benchmark::kMicrosecond);

void BM_warm_snapshot_named(benchmark::State& state) {
    auto o = open_victim(state);
    if (!o) return;
    auto walker = cpython::make_walker(o->mem, o->target);
    cpython::thread_namer namer{o->mem, o->target.layout};
    std::size_t named = 0;
    for (auto _ : state) {
        auto snap = walker.snapshot();
        if (!snap) {
            state.SkipWithError(snap.error().message().c_str());
            return;
        }
        named = namer.name_threads(*snap);
        benchmark::DoNotOptimize(named);
    }
    state.counters["named"] = static_cast<double>(named);
}
BENCHMARK(BM_warm_snapshot_named)->Unit(benchmark::kMicrosecond);

void BM_cold_snapshot(benchmark::State& state) {
    auto o = open_victim(state);
    if (!o) return;
    for (auto _ : state) {
        auto walker = cpython::make_walker(o->mem, o->target);
        auto snap = walker.snapshot();
        if (!snap) {
            state.SkipWithError(snap.error().message().c_str());
            return;
        }
        benchmark::DoNotOptimize(snap->threads.size());
    }
}
BENCHMARK(BM_cold_snapshot)->Unit(benchmark::kMicrosecond);

void BM_blocking_snapshot(benchmark::State& state) {
    auto o = open_victim(state);
    if (!o) return;
    auto walker = cpython::make_walker(o->mem, o->target);
    double stopped_total = 0;
    double stopped_max = 0;
    for (auto _ : state) {
        auto session = ptrace::session::attach(victim().pid);
        if (!session) {
            state.SkipWithError(session.error().message().c_str());
            return;
        }
        auto snap = walker.snapshot();
        (void)session->release();
        double stopped = std::chrono::duration<double, std::micro>(session->stopped_for()).count();
        stopped_total += stopped;
        stopped_max = std::max(stopped_max, stopped);
        if (!snap) {
            state.SkipWithError(snap.error().message().c_str());
            return;
        }
    }
    state.counters["stopped_us"] = stopped_total / static_cast<double>(state.iterations());
    state.counters["stopped_max_us"] = stopped_max;
}
BENCHMARK(BM_blocking_snapshot)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
