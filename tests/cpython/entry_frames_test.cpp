// Entry frames (python_frame::entry) against gdb, for every interpreter on
// the machine: a victim (py_entry_frames.py) parks a thread whose Python
// stack mixes calls made by Python code with calls made by C code (sorted's
// key, next() on a generator, map, a type call of a class with __init__).
// For every thread, the number of frames our walker marks as entry frames
// must equal the number of C calls of the evaluation loop gdb unwinds in the
// same thread (_PyEval_EvalFrameDefault; PyEval_EvalFrameEx on 2.7), matched
// by tid; the frames marked must be the ones CPython enters from C; and a
// core written in the same stop must give the same frames and marks.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cpython/python_victim.hpp"
#include "cpython/victim_core.hpp"
#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "support/run_command.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/ptrace/session.hpp"

using triage::test_support::failure_text;

namespace {

using namespace triage;
using namespace triage::testing;

// The C function of the evaluation loop of `python`'s version.
std::string eval_loop_function(const python_interpreter& python) {
    return python.major == 2 ? "PyEval_EvalFrameEx" : "_PyEval_EvalFrameDefault";
}

// gdb's `thread apply all bt` of process `pid`: tid → the function of each
// native frame, innermost first (inlined frames are frames of their own).
std::map<pid_t, std::vector<std::string>> gdb_backtraces(const python_interpreter& python, pid_t pid) {
    std::vector<std::string> argv{"gdb", "-nx", "-batch", "-iex", "set print frame-arguments none"};
    if (!python.launcher.empty()) {
        // A lab interpreter: its libraries and debug files are in the root.
        const std::string root = test_support::lab_root().string();
        for (const std::string& setting : {"set sysroot " + root, "set debug-file-directory " + root + "/usr/lib/debug"}) {
            argv.insert(argv.end(), {"-iex", setting});
        }
        argv.push_back(root + python.path);
        argv.push_back(std::to_string(pid));
    } else {
        argv.insert(argv.end(), {"-p", std::to_string(pid)});
    }
    argv.insert(argv.end(), {"-ex", "thread apply all bt"});
    auto run = test_support::run_command(std::move(argv));
    INFO("gdb said:\n" << run.out << run.err);
    REQUIRE(run.exit_code == 0);
    std::map<pid_t, std::vector<std::string>> out;
    const std::regex thread_line(R"(^Thread \d+ .*\bLWP (\d+)\b)");
    const std::regex frame_line(R"(^#\d+\s+(?:0x[0-9a-f]+ in )?([^\s(]+))");
    std::vector<std::string>* current = nullptr;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (std::regex_search(line, m, thread_line)) {
            current = &out[static_cast<pid_t>(std::stol(m[1]))];
        } else if (current != nullptr && std::regex_search(line, m, frame_line)) {
            current->push_back(m[1]);
        }
    }
    REQUIRE_MESSAGE(!out.empty(), "gdb listed no threads:\n" << run.out << run.err);
    return out;
}

std::size_t entry_frames(const cpython::thread_stack& t) {
    return static_cast<std::size_t>(std::ranges::count_if(t.frames, [](const auto& f) { return f.entry; }));
}

std::string describe(const cpython::thread_stack& t) {
    std::string out;
    for (const auto& f : t.frames) out += "  " + f.function + (f.entry ? "  [entry]" : "") + "\n";
    return out;
}

// Waits (bounded) until every thread of `pid` sleeps in time.sleep's system
// call (select, nanosleep, clock_nanosleep, pselect6), so that our read and
// gdb's, one after the other, see the same stacks: the ready file is
// written before the parked thread sleeps, and the main thread may still be
// on its way from Thread.start() then.
bool all_threads_asleep(pid_t pid) {
    const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
    for (int attempt = 0; attempt < 500; ++attempt) {
        bool asleep = true;
        std::error_code ec;
        for (const auto& task : std::filesystem::directory_iterator(task_dir, ec)) {
            std::ifstream syscall(task.path() / "syscall");
            long number = -1;
            syscall >> number;
            asleep &= number == 23 || number == 35 || number == 230 || number == 270;
        }
        if (asleep && !ec) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// Reads the victim's stacks and writes its core in one stop.
struct one_stop {
    cpython::python_stacks_report live;
    std::string core;
};

one_stop read_and_dump(pid_t pid, const std::string& core) {
    auto opened = cpython::open_live_python(pid);
    REQUIRE_MESSAGE(opened, failure_text(opened));
    std::optional<cpython::python_stacks_report> live;
    write_core_in_one_stop(pid, core, [&](const ptrace::session& session) {
        auto read = cpython::python_stacks(*opened, session);
        REQUIRE_MESSAGE(read, failure_text(read));
        live = std::move(*read);
    });
    return {std::move(*live), core};
}

void check_interpreter(const python_interpreter& python) {
    INFO("interpreter: " << python.label);
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    python_process victim{python, {source_dir() + "/tests/cpython/py_entry_frames.py", ready}};
    REQUIRE(victim.wait_for_file(ready));
    const pid_t pid = victim.pid();
    REQUIRE_MESSAGE(all_threads_asleep(pid), "the victim's threads did not all park in time.sleep");

    const one_stop read = read_and_dump(pid, dir.path() + "/entry.core");
    const auto native = gdb_backtraces(python, pid);
    const std::string loop = eval_loop_function(python);
    const bool inline_calls = python.major * 100 + python.minor >= 311;

    std::size_t compared = 0;
    const cpython::thread_stack* mixed = nullptr;
    std::size_t mixed_calls = 0;
    for (const auto& t : read.live.threads) {
        if (t.frames.empty()) continue;
        REQUIRE_MESSAGE(t.tid.has_value(), "a thread with Python frames has no tid");
        INFO("thread " << *t.tid << ", our frames, innermost first:\n" << describe(t));
        CHECK(!t.failure);
        auto it = native.find(*t.tid);
        REQUIRE_MESSAGE(it != native.end(), "gdb did not list thread " << *t.tid);
        const auto calls = static_cast<std::size_t>(std::ranges::count_if(
            it->second, [&](const std::string& f) { return f == loop || f.starts_with(loop + "."); }));
        CHECK_MESSAGE(calls > 0, "gdb unwound no " << loop << " in thread " << *t.tid);
        CHECK_MESSAGE(entry_frames(t) == calls, "we mark " << entry_frames(t) << " entry frames, gdb unwinds " << calls
                                                           << " calls of " << loop);
        // The outermost frame was entered from C (the thread's start, or
        // the main program's PyEval_EvalCode).
        CHECK(t.frames.back().entry);
        if (t.frames.front().name == "park") {
            mixed = &t;
            mixed_calls = calls;
        }
        ++compared;
    }
    REQUIRE_MESSAGE(mixed != nullptr, "no thread parked in park()");
    {
        INFO("the mixed thread, innermost first:\n" << describe(*mixed));
        auto marked = [&](const std::string& name) {
            auto f = std::ranges::find(mixed->frames, name, &cpython::python_frame::name);
            REQUIRE_MESSAGE(f != mixed->frames.end(), "no frame of " << name);
            return f->entry;
        };
        // Called or resumed by C: sorted's key, next(), map.
        CHECK(marked("keyfunc"));
        CHECK(marked("generator"));
        CHECK(marked("mapped"));
        // Called by Python code: run inline by 3.11+, each a C call before.
        CHECK(marked("park") == !inline_calls);
        CHECK(marked("helper") == !inline_calls);
        if (inline_calls) {
            CHECK(entry_frames(*mixed) < mixed->frames.size());
        } else {
            CHECK(entry_frames(*mixed) == mixed->frames.size());
        }
    }

    // The core written in the same stop: the same frames, marked the same.
    auto from_core = cpython::python_stacks(read.core);
    REQUIRE_MESSAGE(from_core, failure_text(from_core));
    for (const auto& t : read.live.threads) {
        auto same = std::ranges::find(from_core->threads, t.python_ident, &cpython::thread_stack::python_ident);
        REQUIRE(same != from_core->threads.end());
        CHECK(same->frames == t.frames);
    }

    const std::string state = victim.state();
    CHECK(!state.empty());
    CHECK(state != "t");
    CHECK(state != "T");
    std::string entries;
    for (const auto& f : mixed->frames) entries += f.entry ? " " + f.name : "";
    MESSAGE(python.label << ": " << compared << " threads; the mixed thread: " << entry_frames(*mixed) << " entry frames of "
                         << mixed->frames.size() << " (" << entries.substr(1) << "), gdb: " << mixed_calls
                         << " calls of " << loop);
}

} // namespace

TEST_CASE("entry frames: one per C call of the eval loop, as gdb unwinds them, live and from a core") {
    const auto all = machine_interpreters();
    REQUIRE(!all.empty());
    std::size_t covered = 0;
    for (const auto& python : all) {
        const auto started = std::chrono::steady_clock::now();
        check_interpreter(python);
        MESSAGE(python.label << " took "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                      started).count()
                             << " ms");
        ++covered;
    }
    if (const std::string note = test_support::lab_note(); !note.empty()) MESSAGE(note);
    MESSAGE("entry frames covered " << covered << " interpreters");
    CHECK(covered == all.size());
}
