// Counting library calls of a live process: the cost per call a counter
// adds to the target, on a tight single-threaded loop of strlen calls
// through the PLT (benchmarks/plt_spin.c), in one run:
//  - BM_calls_uncounted: the loop alone (the target's own speed);
//  - BM_calls_uprobe: counted by plt::uprobe_counter (the kernel's uprobe,
//    counted through perf: the physical floor of counting every call on
//    this machine, since nothing is added to it);
//  - BM_calls_triage_plt: counted by the program, `triage-plt PID -e strlen`
//    (examples/triage-plt.cpp: the same uprobes, grouped per thread; the
//    count it prints must be every call), when the examples are built;
//  - BM_calls_triage_plt_int3: the same with `--backend int3` (breakpoints
//    written by its guardian process; each call stops the thread, and the
//    stub's jump is emulated), on as many calls as ltrace;
//  - BM_calls_ltrace: counted by `ltrace -c -p PID` (breakpoints through
//    ptrace), on fewer calls (it is slow).
// Each reports ns_per_call (wall time of the loop / calls) and calls_per_s;
// the uprobe benchmarks check that they counted every call. Compare the
// ratios in one run: ltrace's ns_per_call / uprobe's, triage-plt's / uprobe's.
#include <benchmark/benchmark.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/plt/call_sites.hpp"
#include "triage/plt/uprobe_counter.hpp"

namespace {

using namespace triage;

// plt_spin N, waiting for its go byte.
struct spinner {
    pid_t pid = -1;
    int go = -1;

    explicit spinner(long calls) {
        int fds[2];
        if (::pipe(fds) != 0) return;
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::dup2(fds[0], 0);
            ::close(fds[1]);
            const std::string n = std::to_string(calls);
            ::execl(TRIAGE_PLT_SPIN, TRIAGE_PLT_SPIN, n.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(fds[0]);
        go = fds[1];
    }
    // Lets it run; returns the seconds until it exited.
    double run() {
        const auto start = std::chrono::steady_clock::now();
        const char byte = 1;
        (void)!::write(go, &byte, 1);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    ~spinner() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (go >= 0) ::close(go);
    }
};

// The strlen stub of plt_spin as the process `pid` maps it.
std::optional<plt::probe_point> strlen_probe(pid_t pid) {
    auto file = elf::file::open(TRIAGE_PLT_SPIN);
    if (!file) return std::nullopt;
    auto sites = plt::call_sites(*file);
    auto objects = elf::mapped_objects(pid);
    if (!sites || !objects) return std::nullopt;
    for (const auto& s : *sites) {
        if (s.function != "strlen" || s.stub == 0) continue;
        auto offset = plt::file_offset(file->load_segments(), s.stub);
        for (const auto& o : *objects) {
            if (offset && o.path == std::string(TRIAGE_PLT_SPIN)) return plt::probe_point{o.readable_path, *offset};
        }
    }
    return std::nullopt;
}

// Waits until `pid` has mapped its program (exec done).
bool exec_done(pid_t pid) {
    for (int k = 0; k < 500; ++k) {
        std::ifstream exe_maps("/proc/" + std::to_string(pid) + "/maps");
        for (std::string line; std::getline(exe_maps, line);) {
            if (line.find("plt_spin") != std::string::npos) return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

void report(benchmark::State& state, double seconds, long calls) {
    state.SetIterationTime(seconds);
    state.counters["ns_per_call"] = seconds * 1e9 / static_cast<double>(calls);
    state.counters["calls_per_s"] = static_cast<double>(calls) / seconds;
}

void BM_calls_uncounted(benchmark::State& state) {
    const long calls = state.range(0);
    for (auto _ : state) {
        spinner s(calls);
        if (!exec_done(s.pid)) return state.SkipWithError("plt_spin did not start");
        report(state, s.run(), calls);
    }
}
BENCHMARK(BM_calls_uncounted)->Arg(1'000'000)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_calls_uprobe(benchmark::State& state) {
    const long calls = state.range(0);
    for (auto _ : state) {
        spinner s(calls);
        if (!exec_done(s.pid)) return state.SkipWithError("plt_spin did not start");
        auto probe = strlen_probe(s.pid);
        if (!probe) return state.SkipWithError("no strlen stub in plt_spin");
        auto counter = plt::uprobe_counter::open(s.pid, {*probe});
        if (!counter) return state.SkipWithError(counter.error().message().c_str());
        if (!counter->start()) return state.SkipWithError("the counter did not start");
        report(state, s.run(), calls);
        auto counts = counter->read();
        std::uint64_t counted = 0;
        if (counts) {
            for (const auto& c : *counts) counted += c.calls;
        }
        if (counted != static_cast<std::uint64_t>(calls)) return state.SkipWithError("the counter missed calls");
    }
}
BENCHMARK(BM_calls_uprobe)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);

#if defined(TRIAGE_PLT_PROGRAM)
// triage-plt on the spinner, its JSON on a file; "" when it failed.
struct plt_program {
    pid_t pid = -1;
    int err = -1;
    std::string out_path = "/tmp/triage-bench-plt-XXXXXX";

    plt_program(pid_t target, const char* backend) {
        const int out = ::mkstemp(out_path.data());
        int fds[2];
        if (out < 0 || ::pipe(fds) != 0) return;
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::dup2(out, 1);
            ::dup2(fds[1], 2);
            const std::string p = std::to_string(target);
            ::execl(TRIAGE_PLT_PROGRAM, TRIAGE_PLT_PROGRAM, p.c_str(), "-e", "strlen", "--object", "*plt_spin*",
                    "--duration", "600000", "--json", "--backend", backend, nullptr);
            ::_exit(127);
        }
        ::close(out);
        ::close(fds[1]);
        err = fds[0];
    }
    // Blocks until it says that counting began.
    bool counting() {
        std::string text;
        char chunk[256];
        for (ssize_t n; text.find("counting the calls") == std::string::npos;) {
            if ((n = ::read(err, chunk, sizeof chunk)) <= 0) return false;
            text.append(chunk, static_cast<std::size_t>(n));
        }
        return true;
    }
    // Ctrl+C, then the total it printed (0 when none).
    std::uint64_t total() {
        ::kill(pid, SIGINT);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
        std::ifstream in(out_path);
        const std::string doc{std::istreambuf_iterator<char>(in), {}};
        const auto at = doc.find("\"total_calls\": ");
        return at == std::string::npos ? 0 : std::stoull(doc.substr(at + 15));
    }
    ~plt_program() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (err >= 0) ::close(err);
        ::unlink(out_path.c_str());
    }
};

void calls_triage_plt(benchmark::State& state, const char* backend) {
    const long calls = state.range(0);
    for (auto _ : state) {
        spinner s(calls);
        if (!exec_done(s.pid)) return state.SkipWithError("plt_spin did not start");
        plt_program counter(s.pid, backend);
        if (!counter.counting()) return state.SkipWithError("triage-plt did not start counting");
        report(state, s.run(), calls);
        if (const auto total = counter.total(); total != static_cast<std::uint64_t>(calls))
            return state.SkipWithError(("triage-plt counted " + std::to_string(total) + " calls of " + std::to_string(calls)).c_str());
    }
}
void BM_calls_triage_plt(benchmark::State& state) { calls_triage_plt(state, "perf"); }
BENCHMARK(BM_calls_triage_plt)->Arg(100'000)->UseManualTime()->Unit(benchmark::kMillisecond);
void BM_calls_triage_plt_int3(benchmark::State& state) { calls_triage_plt(state, "int3"); }
BENCHMARK(BM_calls_triage_plt_int3)->Arg(20'000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
#endif

void BM_calls_ltrace(benchmark::State& state) {
    const long calls = state.range(0);
    for (auto _ : state) {
        spinner s(calls);
        if (!exec_done(s.pid)) return state.SkipWithError("plt_spin did not start");
        const pid_t ltrace = ::fork();
        if (ltrace == 0) {
            const std::string pid = std::to_string(s.pid);
            ::execlp("ltrace", "ltrace", "-c", "-o", "/dev/null", "-p", pid.c_str(), nullptr);
            ::_exit(127);
        }
        // Attached when the spinner's TracerPid is ltrace.
        bool attached = false;
        for (int k = 0; k < 1000 && !attached; ++k) {
            std::ifstream status("/proc/" + std::to_string(s.pid) + "/status");
            for (std::string line; std::getline(status, line);) {
                if (line.starts_with("TracerPid:")) attached = std::stoi(line.substr(10)) == ltrace;
            }
            if (!attached) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // ltrace sets its breakpoints
        if (!attached) {
            ::kill(ltrace, SIGKILL);
            ::waitpid(ltrace, nullptr, 0);
            return state.SkipWithError("ltrace did not attach (is it installed?)");
        }
        report(state, s.run(), calls);
        ::waitpid(ltrace, nullptr, 0);
    }
}
BENCHMARK(BM_calls_ltrace)->Arg(20'000)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

} // namespace

BENCHMARK_MAIN();
