// Non-blocking snapshots of a thread that recurses and returns in a tight
// loop (tests/victims/py_recursive.py), on every interpreter on the machine:
// a stack marked consistent must be one the victim can have. Sweeping
// without a pause, most reads are torn and none may be called consistent;
// holding still between sweeps, most samples must be consistent (a walker
// that called everything inconsistent fails here).
#include <doctest/doctest.h>

#include <sched.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cpython/python_victim.hpp"
#include "support/failure_text.hpp"
#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/live_process.hpp"

using triage::test_support::failure_text;

namespace {

using namespace triage;
using namespace triage::testing;

// Where py_recursive.py's functions are, from its marker comments.
struct recursion_source {
    std::string file = victim_script("py_recursive.py");
    int module_call = 0;         // <module> calls loop()
    int loop_call = 0;           // loop() calls recurse()
    std::set<int> bottom;        // only recurse(0) gets here
    std::set<int> hold;          // only recurse(0) under recurse(50) gets here
    std::array<int, 3> call{};   // call[r]: recurse(n) with n % 3 == r calls recurse(n - 1)
    std::set<int> recurse_body;  // the other lines of recurse()
    std::set<int> loop_body;     // the other lines of loop()

    recursion_source() {
        const auto markers = read_markers(file);
        auto only = [&](const std::string& name) {
            const auto lines = marker_lines(markers, "park", name);
            REQUIRE(lines.size() == 1);
            return *lines.begin();
        };
        module_call = only("module-call");
        loop_call = only("loop-call");
        bottom = marker_lines(markers, "park", "bottom");
        hold = marker_lines(markers, "park", "hold");
        REQUIRE(!bottom.empty());
        REQUIRE(!hold.empty());
        for (int r = 0; r < 3; ++r) call[static_cast<std::size_t>(r)] = only("call-" + std::to_string(r));
        recurse_body = marker_lines(markers, "spin", "recurse");
        loop_body = marker_lines(markers, "spin", "loop");
    }
};

constexpr int shallowest = 20;  // py_recursive.py recurses to depths 20 ... 50
constexpr int deepest = 50;

std::string show(const cpython::python_frame& f) {
    return f.function + " (" + f.file + ":" + std::to_string(f.line.value_or(-1)) + ")";
}

// Why `frames` (innermost first) is not a stack py_recursive.py's main
// thread can have; empty when it is one. Outermost first it is: <module> at
// its call of loop(); loop() at its call of recurse() (or anywhere in loop()
// when innermost); recurse(d), recurse(d - 1) ... each at the call line of
// its depth modulo 3, the innermost one anywhere in recurse() (at the
// bottom only as recurse(0), with d between 20 and 50; in the hold only
// with d = 50).
std::string implausible(const std::vector<cpython::python_frame>& frames, const recursion_source& source) {
    if (frames.size() < 2) return "fewer than two frames";
    auto is = [&](const cpython::python_frame& f, const char* function) {
        return f.function == function && f.name == function && f.file == source.file && f.line.has_value();
    };
    const auto& module = frames.back();
    if (!is(module, "<module>") || *module.line != source.module_call) return "outermost frame " + show(module);
    const auto& loop = frames[frames.size() - 2];
    const bool loop_innermost = frames.size() == 2;
    if (!is(loop, "loop") || (*loop.line != source.loop_call && !(loop_innermost && source.loop_body.contains(*loop.line)))) {
        return "second frame " + show(loop);
    }
    const std::size_t recursion = frames.size() - 2;
    if (recursion > deepest + 1) return std::to_string(recursion) + " recurse() frames";
    int phase = -1;  // d % 3, once a call line says it
    for (std::size_t i = 0; i < recursion; ++i) {
        const auto& f = frames[recursion - 1 - i];  // recurse(d - i)
        const bool innermost = i + 1 == recursion;
        const std::string where = "recurse() frame " + std::to_string(i) + " from the outermost, " + show(f);
        if (!is(f, "recurse")) return where;
        const int line = *f.line;
        const int depth_mod = static_cast<int>(i % 3);
        if (auto r = std::find(source.call.begin(), source.call.end(), line); r != source.call.end()) {
            const int rest = static_cast<int>(r - source.call.begin());  // (d - i) % 3
            const int says = (rest + depth_mod) % 3;
            if (phase >= 0 && says != phase) return where + ": out of the call lines' rotation";
            phase = says;
            continue;
        }
        if (!innermost) return where + ": an outer frame not at a call line";
        if (source.hold.contains(line) || source.bottom.contains(line)) {
            // recurse(0): d == i.
            if (i < shallowest || i > deepest || (phase >= 0 && phase != depth_mod) ||
                (source.hold.contains(line) && i != deepest)) {
                return where + ": recurse(0) at depth " + std::to_string(i);
            }
            continue;
        }
        if (!source.recurse_body.contains(line)) return where;
    }
    return {};
}

struct sampled {
    int consistent = 0;  // marked consistent, without a failure
    int torn = 0;        // of those, stacks the victim cannot have
    int failed = 0;      // snapshots that failed as a whole
    bool separate = false;  // the victim ran on a CPU of its own
    std::chrono::nanoseconds elapsed{0};  // all the snapshots, back to back
    std::string first_torn;

    [[nodiscard]] std::string summary(int samples) const {
        return std::to_string(consistent) + " of " + std::to_string(samples) + " consistent, " + std::to_string(torn) +
               " of them torn, " + std::to_string(failed) + " failed" + (separate ? "" : " (victim on our CPU)");
    }
};

// While alive, this thread runs on one of its CPUs and `victim` on another,
// so that the victim runs while we read it (on one CPU they would take
// turns, and a read would rarely see the victim move).
class on_separate_cpus {
public:
    explicit on_separate_cpus(pid_t victim) {
        if (::sched_getaffinity(0, sizeof saved_, &saved_) != 0 || CPU_COUNT(&saved_) < 2) return;
        cpu_set_t ours, theirs;
        CPU_ZERO(&ours);
        CPU_ZERO(&theirs);
        for (int cpu = 0, found = 0; cpu < CPU_SETSIZE && found < 2; ++cpu) {
            if (!CPU_ISSET(cpu, &saved_)) continue;
            CPU_SET(cpu, found++ == 0 ? &ours : &theirs);
        }
        if (::sched_setaffinity(victim, sizeof theirs, &theirs) != 0) return;
        separate_ = ::sched_setaffinity(0, sizeof ours, &ours) == 0;
    }
    ~on_separate_cpus() {
        if (separate_) ::sched_setaffinity(0, sizeof saved_, &saved_);
    }
    on_separate_cpus(const on_separate_cpus&) = delete;
    on_separate_cpus& operator=(const on_separate_cpus&) = delete;

    [[nodiscard]] bool separate() const noexcept { return separate_; }

private:
    cpu_set_t saved_{};
    bool separate_ = false;
};

// `samples` non-blocking snapshots of py_recursive.py holding still for
// `hold` seconds per sweep.
sampled sample(const python_interpreter& python, const std::string& hold, int samples) {
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    python_process victim(python, {victim_script("py_recursive.py"), ready, hold});
    REQUIRE_MESSAGE(victim.wait_for_file(ready), python.label << " did not start recursing");
    auto objects = elf::mapped_objects(victim.pid());
    REQUIRE_MESSAGE(objects, failure_text(objects));
    auto image = cpython::find_interpreter(*objects);
    REQUIRE_MESSAGE(image, failure_text(image));
    auto mem = memory::live_process::open(victim.pid());
    REQUIRE_MESSAGE(mem, failure_text(mem));
    auto target = cpython::open_python(*mem, std::move(*image));
    REQUIRE_MESSAGE(target, failure_text(target));
    auto walker = cpython::make_walker(*mem, *target);
    const recursion_source source;
    sampled out;
    const on_separate_cpus cpus(victim.pid());
    out.separate = cpus.separate();
    const auto started = std::chrono::steady_clock::now();
    for (int k = 0; k < samples; ++k) {
        auto snap = cpython::consistent_snapshot(walker);
        if (!snap) {
            ++out.failed;
            continue;
        }
        REQUIRE(snap->threads.size() == 1);
        const auto& t = snap->threads[0];
        if (!t.consistent || t.failure) continue;
        ++out.consistent;
        std::string why = implausible(t.frames, source);
        if (why.empty()) continue;
        if (++out.torn == 1) {
            out.first_torn = why + "; stack:";
            for (const auto& f : t.frames) out.first_torn += " " + show(f);
        }
    }
    out.elapsed = std::chrono::steady_clock::now() - started;
    const std::string state = victim.state();
    CHECK(state != "t");
    CHECK(state != "T");
    CHECK(state != "Z");
    CHECK(!state.empty());
    return out;
}

} // namespace

TEST_CASE("a non-blocking snapshot never calls a torn stack of a recursing thread consistent, on every interpreter") {
    constexpr int samples = 1000;
    const auto interpreters = machine_interpreters();
    REQUIRE_MESSAGE(!interpreters.empty(), "no Python interpreter found on this machine");
    std::vector<std::string> covered;
    for (const auto& python : interpreters) {
        CAPTURE(python.label);
        const sampled sweeping = sample(python, "0", samples);
        CHECK_MESSAGE(sweeping.torn == 0, "sweeping: " << sweeping.torn << " torn stacks marked consistent, the first: "
                                                       << sweeping.first_torn);
        CHECK(sweeping.failed == 0);
        // The victim holds still for several snapshots' time (5 ms at least):
        // a walker slowed down (ASan, a loaded machine) must still agree with
        // itself on a stack that holds still, whatever its speed.
        const double per_snapshot = std::chrono::duration<double>(sweeping.elapsed).count() / samples;
        char hold[32];
        std::snprintf(hold, sizeof hold, "%.4f", std::max(0.005, 4 * per_snapshot));
        CAPTURE(hold);
        const sampled holding = sample(python, hold, samples);
        CHECK_MESSAGE(holding.torn == 0, "holding: " << holding.torn << " torn stacks marked consistent, the first: "
                                                     << holding.first_torn);
        CHECK_MESSAGE(holding.consistent >= samples / 2,
                      "holding: only " << holding.consistent << " of " << samples << " samples consistent");
        CHECK(holding.failed == 0);
        covered.push_back(python.label + ": sweeping " + sweeping.summary(samples) + "; holding " +
                          holding.summary(samples));
    }
    std::printf("torn-stack sampling covered %zu of %zu interpreters:\n", covered.size(), interpreters.size());
    for (const auto& c : covered) std::printf("  %s\n", c.c_str());
    CHECK(covered.size() == interpreters.size());
}
