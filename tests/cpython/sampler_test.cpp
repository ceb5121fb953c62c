// cpython::sample_stacks and triage-record on real interpreters: a victim
// that spends its time 3:1 in two functions is profiled 3:1 (±5 points);
// the sleeping thread is idle, and so is a thread that waits for a CPU
// (runnable, preempted); the target is never traced or stopped while
// sampled; the loop ends on stop_requested, on its duration, and when the
// process exits (what was sampled stands); rates out of range are refused;
// with native frames, C frames surround the Python ones, a C-only thread
// (faulthandler's watchdog) is sampled, a sleeping thread stays idle
// although each stop wakes it, and the target is released after every tick;
// triage-record writes folded stacks and speedscope JSON that independent
// readers accept (python3's json module and a check of speedscope's schema),
// and Ctrl+C ends a recording that still writes its file.
#include <doctest/doctest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "cpython/python_victim.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/sampler.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/report/profile.hpp"
#include "triage/report/profile_formats.hpp"

using triage::test_support::failure_text;

namespace cpython = triage::cpython;
namespace report = triage::report;
using namespace triage::testing;

namespace {

// Samples whose stack holds heavy() and light(), from folded stacks.
std::pair<std::uint64_t, std::uint64_t> split_of(const std::string& folded) {
    std::uint64_t heavy = 0, light = 0;
    std::istringstream lines{folded};
    for (std::string line; std::getline(lines, line);) {
        const auto space = line.rfind(' ');
        REQUIRE(space != std::string::npos);
        const std::uint64_t count = std::stoull(line.substr(space + 1));
        if (line.find("heavy (") != std::string::npos) heavy += count;
        if (line.find("light (") != std::string::npos) light += count;
    }
    return {heavy, light};
}

// Watches a process from another thread: whether it was ever traced or stopped.
class stop_watch {
public:
    explicit stop_watch(pid_t pid)
        : watcher_{[this, pid] {
              while (!done_.load()) {
                  seen_ |= triage::test_support::tracer_pid(pid) > 0 || triage::test_support::any_thread_stopped(pid);
                  std::this_thread::sleep_for(std::chrono::microseconds{200});
              }
          }} {}
    stop_watch(const stop_watch&) = delete;
    stop_watch& operator=(const stop_watch&) = delete;
    ~stop_watch() { finish(); }
    bool finish() {
        done_.store(true);
        if (watcher_.joinable()) watcher_.join();
        return seen_;
    }

private:
    std::atomic<bool> done_{false};
    bool seen_ = false;
    std::thread watcher_;
};

} // namespace

TEST_CASE("sample_stacks profiles a 3:1 split of time 3:1, leaves the sleeper idle, never stops the target") {
    for (const python_interpreter& python : machine_interpreters()) {
        if (python.major == 2) continue;  // time.clock_gettime: 3.3+
        CAPTURE(python.label);
        triage::test_support::scratch_dir dir{"sampler"};
        python_process victim(python, {victim_script("py_split_time.py"), dir.path() + "/ready"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        auto py = cpython::open_live_python(victim.pid());
        REQUIRE_MESSAGE(py, failure_text(py));
        report::profile busy{{.idle = false, .gil_only = false, .by_thread = true, .lines = true}};
        report::profile all{{.idle = true, .gil_only = false, .by_thread = true, .lines = false}};
        stop_watch watch{victim.pid()};
        // 331 Hz: a period (3.02 ms) that shares no short cycle with the victim's 8 ms, so that ticks
        // (and the grid points left after missed ones) fall at phases spread over it.
        cpython::sampling_options options;
        options.rate_hz = 331;
        options.duration = std::chrono::milliseconds{2500};
        auto summary = cpython::sample_stacks(*py, options, [&](const cpython::sampling_tick& tick) {
            busy.add(tick);
            all.add(tick);
        });
        CHECK(!watch.finish());
        REQUIRE_MESSAGE(summary, failure_text(summary));
        CHECK(summary->ticks > 0);
        CHECK(!summary->process_exited);
        CHECK(summary->thread_samples == 2 * summary->ticks);
        // Every due time was taken or counted missed.
        CHECK(summary->ticks + summary->missed >= 2500 * 331 / 1000 - 1);
        const auto [heavy, light] = split_of(report::to_collapsed(busy));
        MESSAGE(python.label << ": " << summary->ticks << " ticks, " << summary->achieved_rate() << " Hz, "
                             << summary->late << " late, " << summary->missed << " missed, " << summary->torn_stacks
                             << " torn; heavy " << heavy << ", light " << light);
        REQUIRE(heavy + light > 300);
        const double share = 100.0 * static_cast<double>(heavy) / static_cast<double>(heavy + light);
        CHECK(share > 70);
        CHECK(share < 80);
        // The sleeper: idle, so only in the profile that keeps idle threads, labelled by its name.
        CHECK(busy.idle_samples() >= summary->ticks * 9 / 10);
        bool labelled = false;
        for (const auto& label : all.threads()) labelled |= label.ends_with(" sleeper");
        CHECK(labelled);
        CHECK(all.samples() == summary->thread_samples - all.empty_samples());
    }
}

namespace {

// A child process spinning on CPU `cpu` until destroyed, or until this
// process dies (a crash or a test timeout must not leave it spinning).
class pinned_spinner {
public:
    explicit pinned_spinner(int cpu) : parent_{::getpid()}, pid_{::fork()} {
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent_) ::_exit(1);
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(1);
            for (volatile unsigned long n = 0;;) n = n + 1;
        }
    }
    pinned_spinner(const pinned_spinner&) = delete;
    pinned_spinner& operator=(const pinned_spinner&) = delete;
    ~pinned_spinner() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }

private:
    pid_t parent_;
    pid_t pid_;
};

// The state letter of thread `tid` of `pid`, read with std::ifstream.
char state_of(pid_t pid, pid_t tid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
    const std::string text{std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
    const auto paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() ? text[paren + 2] : '?';
}

} // namespace

TEST_CASE("sample_stacks: a thread that waits for a CPU (state R, preempted) is not on a CPU") {
    // The split-time victim's threads share one CPU with a spinner, under SCHED_IDLE (a weight of
    // 3 against the spinner's 1024): its main thread stays runnable and runs a slice every few
    // hundred milliseconds. Counted on a CPU for its state R, it would weigh the one line it
    // stopped at by the whole wait.
    const python_interpreter python = service_python();
    triage::test_support::scratch_dir dir{"sampler"};
    python_process victim(python, {victim_script("py_split_time.py"), dir.path() + "/ready"});
    REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
    cpu_set_t allowed;
    REQUIRE(::sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &allowed)) ++cpu;
    pinned_spinner spinner{cpu};
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    auto tids = triage::procfs::task_ids(victim.pid());
    REQUIRE(tids);
    for (pid_t tid : *tids) {
        REQUIRE(::sched_setaffinity(tid, sizeof one, &one) == 0);
        const sched_param none{};
        REQUIRE(::sched_setscheduler(tid, SCHED_IDLE, &none) == 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    CHECK(state_of(victim.pid(), victim.pid()) == 'R');
    auto py = cpython::open_live_python(victim.pid());
    REQUIRE_MESSAGE(py, failure_text(py));
    cpython::sampling_options options;
    options.rate_hz = 331;
    options.duration = std::chrono::milliseconds{1500};
    std::uint64_t main_samples = 0, main_on_cpu = 0;
    auto summary = cpython::sample_stacks(*py, options, [&](const cpython::sampling_tick& tick) {
        for (const cpython::thread_sample& t : tick.threads) {
            if (t.tid != victim.pid()) continue;
            ++main_samples;
            main_on_cpu += t.on_cpu;
        }
    });
    REQUIRE_MESSAGE(summary, failure_text(summary));
    CHECK(state_of(victim.pid(), victim.pid()) == 'R');
    MESSAGE(main_on_cpu << " of " << main_samples << " samples of the waiting thread on a CPU");
    REQUIRE(main_samples > 300);
    CHECK(main_on_cpu < main_samples / 5);
}

TEST_CASE("sample_stacks ends on stop_requested, on the process's exit, and refuses rates out of range") {
    const python_interpreter python = service_python();
    triage::test_support::scratch_dir dir{"sampler"};
    python_process victim(python, {victim_script("py_split_time.py"), dir.path() + "/ready", "1"});
    REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
    auto py = cpython::open_live_python(victim.pid());
    REQUIRE(py);
    cpython::sampling_options options;
    for (double bad : {0.0, 0.05, 200'000.0}) {
        options.rate_hz = bad;
        auto refused = cpython::sample_stacks(*py, options, [](const cpython::sampling_tick&) {});
        REQUIRE(!refused);
        CHECK(refused.error().code == triage::errc::invalid_argument);
    }
    int ticks = 0;
    options.rate_hz = 100;
    options.stop_requested = [] { return true; };
    auto one = cpython::sample_stacks(*py, options, [&](const cpython::sampling_tick&) { ++ticks; });
    REQUIRE(one);
    CHECK(one->ticks == 1);
    CHECK(ticks == 1);
    // No duration: the loop ends when the victim exits (after 1 s), with what it sampled.
    options.rate_hz = 200;
    options.stop_requested = nullptr;
    auto until_exit = cpython::sample_stacks(*py, options, [](const cpython::sampling_tick&) {});
    REQUIRE_MESSAGE(until_exit, failure_text(until_exit));
    CHECK(until_exit->process_exited);
    CHECK(until_exit->ticks > 0);
}

TEST_CASE("sample_stacks with native frames: C frames around the Python ones, C-only threads, idle told apart, "
          "the target always released") {
    for (const python_interpreter& python : machine_interpreters()) {
        if (python.major == 2) continue;  // faulthandler's watchdog: 3.3+
        CAPTURE(python.label);
        triage::test_support::scratch_dir dir{"sampler-native"};
        python_process victim(python, {victim_script("py_split_time.py"), dir.path() + "/ready", "--watchdog"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        auto py = cpython::open_live_python(victim.pid());
        REQUIRE_MESSAGE(py, failure_text(py));
        cpython::sampling_options options;
        options.native = true;
        options.rate_hz = 150;
        auto refused = cpython::sample_stacks(*py, options, [](const cpython::sampling_tick&) {});
        REQUIRE(!refused);
        CHECK(refused.error().code == triage::errc::invalid_argument);

        // Eight ticks, however long they take (a count of ticks in a time is a rate: the ASan build with
        // the lab's debug files took 4 in 1.5 s); 20 s bounds a hang.
        options.rate_hz = 20;
        options.duration = std::chrono::seconds{20};
        report::profile all{{.idle = true, .gil_only = false, .by_thread = true, .lines = false}};
        std::uint64_t ticks = 0, python_in_c = 0, c_only = 0, sleeper_idle = 0, sleeper = 0, main_busy = 0;
        options.stop_requested = [&] { return ticks >= 8; };
        auto summary = cpython::sample_stacks(*py, options, [&](const cpython::sampling_tick& tick) {
            all.add(tick);
            ++ticks;
            for (const cpython::thread_sample& t : tick.threads) {
                const auto in = [&](std::string_view name, bool python_frame) {
                    return std::ranges::any_of(t.native, [&](const cpython::merged_frame& f) {
                        return f.python == python_frame && (python_frame ? f.py.function : f.symbol.function) == name;
                    });
                };
                if (t.thread->python_ident == 0) {
                    c_only += !t.native.empty() && t.thread->frames.empty();
                } else if (t.name == "sleeper") {
                    ++sleeper;
                    sleeper_idle += !t.on_cpu;
                } else if (in("heavy", true) || in("light", true)) {
                    main_busy += t.on_cpu;
                    // Python frames in place of the interpreter's, with C frames outside them (main, Py_RunMain, ...).
                    const auto python_at = std::ranges::find_if(t.native, [](const auto& f) { return f.python; });
                    python_in_c += std::any_of(python_at, t.native.end(), [](const auto& f) { return !f.python && !f.symbol.function.empty(); });
                }
            }
        });
        REQUIRE_MESSAGE(summary, failure_text(summary));
        MESSAGE(python.label << ": " << ticks << " ticks, held " << summary->stopped.count() / 1000 << " us in all, "
                             << summary->longest_stop.count() / 1000 << " us at most; sleeper idle " << sleeper_idle << "/"
                             << sleeper << ", main busy " << main_busy);
        REQUIRE(ticks >= 1);
        CHECK(summary->stopped.count() > 0);
        CHECK(summary->longest_stop <= summary->stopped);
        CHECK(python_in_c >= ticks / 2);
        CHECK(c_only >= ticks / 2);          // faulthandler's watchdog
        CHECK(sleeper == ticks);
        CHECK(sleeper_idle >= ticks * 8 / 10);  // a stop's restarted sleep is not "on a CPU"
        CHECK(main_busy >= ticks / 2);
        const std::string folded = report::to_collapsed(all);
        CHECK(folded.find("sleeper (") != std::string::npos);
        CHECK(folded.find("heavy (") != std::string::npos);
        CHECK(triage::test_support::tracer_pid(victim.pid()) == 0);
        CHECK(!triage::test_support::any_thread_stopped(victim.pid()));
    }
}

TEST_CASE("report::profile folds, filters and writes folded stacks and speedscope JSON") {
    auto frame = [](std::string function, std::string file, int line) {
        cpython::python_frame f;
        f.function = std::move(function), f.file = std::move(file), f.line = line;
        return f;
    };
    cpython::python_thread main, worker, empty;
    main.python_ident = 1, main.tid = 100, main.holds_gil = true;
    main.frames = {frame("inner", "a.py", 3), frame("outer;x", "a\n.py", 9)};
    worker.python_ident = 2, worker.tid = 101;
    worker.frames = {frame("wait", "b.py", 1)};
    empty.python_ident = 3, empty.tid = 102;
    auto sample = [](const cpython::python_thread& t, std::string_view name, bool on_cpu) {
        cpython::thread_sample s;
        s.thread = &t, s.tid = t.tid, s.name = name, s.on_cpu = on_cpu, s.holds_gil = t.holds_gil;
        return s;
    };
    const std::vector<cpython::thread_sample> threads{sample(main, "MainThread", true), sample(worker, "w", false),
                                                      sample(empty, "", true)};
    report::profile together{{}};
    report::profile apart{{.idle = true, .gil_only = false, .by_thread = true, .lines = false}};
    report::profile gil{{.idle = true, .gil_only = true, .by_thread = false, .lines = true}};
    for (std::uint64_t i = 0; i < 3; ++i) {
        const cpython::sampling_tick tick{i, std::chrono::milliseconds{10 * i}, threads};
        together.add(tick), apart.add(tick), gil.add(tick);
    }
    CHECK(together.samples() == 3);
    CHECK(together.idle_samples() == 3);
    CHECK(together.empty_samples() == 3);
    CHECK(report::to_collapsed(together) == "outer\\x3bx (a\\n.py:9);inner (a.py:3) 3\n");
    CHECK(apart.samples() == 6);
    CHECK(report::to_collapsed(apart) == "100 MainThread;outer\\x3bx (a\\n.py);inner (a.py) 3\n101 w;wait (b.py) 3\n");
    CHECK(gil.samples() == 3);
    CHECK(gil.gil_dropped() == 6);

    // speedscope: read back, and checked against its schema's required fields.
    triage::test_support::scratch_dir dir{"profile"};
    const std::string file = dir / "p.speedscope.json";
    std::ofstream{file} << report::to_speedscope(apart, "test", std::chrono::milliseconds{10});
    const auto checked = triage::test_support::run_command({"python3", "-c", R"(
import json, sys
f = json.load(open(sys.argv[1]))
assert f["$schema"] == "https://www.speedscope.app/file-format-schema.json"
frames = f["shared"]["frames"]
assert all(isinstance(x["name"], str) for x in frames)
assert len(f["profiles"]) == 2
for p in f["profiles"]:
    assert p["type"] == "sampled" and p["unit"] == "seconds" and isinstance(p["name"], str)
    assert len(p["samples"]) == len(p["weights"])
    assert all(0 <= i < len(frames) for s in p["samples"] for i in s)
    assert abs(sum(p["weights"]) - (p["endValue"] - p["startValue"])) < 1e-9
main = f["profiles"][0]
assert [frames[i]["name"] for i in main["samples"][0]] == ["outer;x", "inner"], main
print("ok")
)", file});
    INFO(checked.err);
    CHECK(checked.out == "ok\n");
}

TEST_CASE("triage-record writes folded stacks and speedscope JSON that readers accept; Ctrl+C still writes") {
    const python_interpreter python = service_python();
    triage::test_support::scratch_dir dir{"record"};
    python_process victim(python, {victim_script("py_split_time.py"), dir.path() + "/ready"});
    REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
    const std::string record = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-record";
    const std::string pid = std::to_string(victim.pid());

    const std::string folded = dir / "out.folded";
    auto r = triage::test_support::run_command({record, pid, "-o", folded, "--duration", "1", "--rate", "400"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("late") != std::string::npos);
    std::stringstream text;
    text << std::ifstream{folded}.rdbuf();
    const auto [heavy, light] = split_of(text.str());
    CHECK(heavy > light);

    const std::string scope = dir / "out.json";
    r = triage::test_support::run_command(
        {record, pid, "-o", scope, "--format", "speedscope", "--duration", "0.5", "--threads", "--idle"});
    REQUIRE(r.exit_code == 0);
    CHECK(triage::test_support::run_command({"python3", "-m", "json.tool", scope}).exit_code == 0);
    const auto names = triage::test_support::run_command(
        {"python3", "-c",
         "import json,sys; f=json.load(open(sys.argv[1])); print(sorted(p['name'].split(' ',1)[1] for p in f['profiles']))",
         scope});
    CHECK(names.out == "['MainThread', 'sleeper']\n");

    // pprof (by the file's ending), read by protoc with pprof's own
    // profile.proto; the flame graph (--format), parsed as XML.
    const std::string pprof = dir / "out.pb.gz";
    r = triage::test_support::run_command({record, pid, "-o", pprof, "--duration", "0.5", "--threads"});
    REQUIRE(r.exit_code == 0);
    const auto decoded = triage::test_support::run_command(
        {"bash", "-c",
         "gzip -dc \"$0\" | protoc --decode=perftools.profiles.Profile "
         "--proto_path=/usr/share/gocode/src/github.com/google/pprof/proto profile.proto",
         pprof});
    INFO(decoded.err);
    REQUIRE(decoded.exit_code == 0);
    CHECK(decoded.out.find("string_table: \"heavy\"") != std::string::npos);
    CHECK(decoded.out.find("string_table: \"thread\"") != std::string::npos);
    const std::string svg = dir / "out.svg.xml";
    r = triage::test_support::run_command({record, pid, "-o", svg, "--duration", "0.5", "--format", "flamegraph"});
    REQUIRE(r.exit_code == 0);
    CHECK(triage::test_support::run_command({"python3", "-c", "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])", svg})
              .exit_code == 0);
    std::stringstream picture;
    picture << std::ifstream{svg}.rdbuf();
    CHECK(picture.str().find("heavy (") != std::string::npos);

    // Until Ctrl+C.
    const std::string interrupted = dir / "interrupted.folded";
    triage::test_support::child_process running{{record, pid, "-o", interrupted},
                                                triage::test_support::spawn_options{.capture_stderr = true}};
    std::this_thread::sleep_for(std::chrono::milliseconds{700});
    ::kill(running.pid(), SIGINT);
    auto status = running.wait_for_exit(std::chrono::seconds{30});
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
    std::stringstream after;
    after << std::ifstream{interrupted}.rdbuf();
    CHECK(split_of(after.str()).first > 0);

    // --native: C frames in the folded stacks (Py_RunMain, exported by every build), the hold reported,
    // the target released; a rate above 100 Hz refused.
    const std::string native = dir / "native.folded";
    r = triage::test_support::run_command({record, pid, "-o", native, "--native", "--idle", "--duration", "0.5", "--no-lines"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("held the process") != std::string::npos);
    std::stringstream natives;
    natives << std::ifstream{native}.rdbuf();
    CHECK(natives.str().find("sleeper (") != std::string::npos);
    CHECK(natives.str().find(";Py_RunMain (") != std::string::npos);
    CHECK(triage::test_support::tracer_pid(victim.pid()) == 0);
    CHECK(triage::test_support::run_command({record, pid, "-o", native, "--native", "--rate", "500"}).exit_code == 1);

    // Usage and target errors.
    CHECK(triage::test_support::run_command({record, pid}).exit_code == 2);
    CHECK(triage::test_support::run_command({record, pid, "-o", folded, "--format", "pprof2"}).exit_code == 2);
    CHECK(triage::test_support::run_command({record, "1", "-o", dir / "x"}).exit_code == 1);
    CHECK(triage::test_support::run_command({record, pid, "-o", "/nonexistent/dir/x", "--duration", "0.1"}).exit_code == 1);
}

TEST_CASE("sample_stacks on threads that keep coming and going: every thread parked for good has its own tid and name") {
    for (const python_interpreter& python : machine_interpreters()) {
        if (python.major == 2 || (python.major == 3 && python.minor != 9 && python.minor != 11 && python.minor != 13)) continue;
        CAPTURE(python.label);
        triage::test_support::scratch_dir dir{"sampler_churn"};
        python_process victim(python, {victim_script("py_thread_churn.py"), dir.path() + "/ready"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        auto py = cpython::open_live_python(victim.pid());
        REQUIRE_MESSAGE(py, failure_text(py));
        cpython::sampling_options options;
        options.rate_hz = 200;
        options.duration = std::chrono::milliseconds{1500};
        // A parked thread often runs on the thread state and pthread of a
        // short-lived one that is gone: it must not inherit that thread's
        // tid (dead) or name ("Thread-N (short_lived)"; 3.10+ name threads
        // after their target).
        const bool named_after_target = python.major == 3 && python.minor >= 10;
        std::uint64_t parked = 0, shared = 0, unnamed = 0, misnamed = 0;
        std::set<pid_t> parked_tids;
        auto summary = cpython::sample_stacks(*py, options, [&](const cpython::sampling_tick& tick) {
            std::map<pid_t, int> claims;
            for (const auto& t : tick.threads) {
                if (std::ranges::none_of(t.thread->frames, [](const auto& f) { return f.function == "long_lived"; })) continue;
                ++parked;
                if (!t.tid || ++claims[*t.tid] > 1) ++shared;
                if (t.tid) parked_tids.insert(*t.tid);
                if (t.name.empty()) ++unnamed;
                else if (named_after_target && !t.name.ends_with("(long_lived)")) ++misnamed;
            }
        });
        REQUIRE_MESSAGE(summary, failure_text(summary));
        auto live = triage::procfs::task_ids(victim.pid());
        REQUIRE_MESSAGE(live, failure_text(live));
        const auto gone = std::ranges::count_if(parked_tids, [&](pid_t tid) { return std::ranges::find(*live, tid) == live->end(); });
        MESSAGE(python.label << ": " << summary->ticks << " ticks, " << parked << " parked thread samples of "
                             << parked_tids.size() << " tids");
        CHECK(parked > 100);
        CHECK(shared == 0);
        CHECK(unnamed == 0);
        CHECK(misnamed == 0);
        CHECK(gone == 0);
    }
}
