// plt::count_int3_hits_guarded on tests/victims/plt/plt_loop.c, whose four
// threads call strlen, memset, strchr, malloc and free exactly (k + 1) * 1000
// times when told to: exact per-thread counts for every build (a stub's
// jump emulated; -fno-plt: at libc's functions, each hit single-stepped with
// the whole process stopped), the text as the file holds it afterwards, and
// after the tool is killed with SIGKILL mid-window (the guardian writes the
// bytes back); a fork child of the target never sees a breakpoint; another
// tracer is named; an exec mid-window ends it without writing into the new
// image.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "plt/loop_victim.hpp"
#include "plt/text_differences.hpp"
#include "support/failure_text.hpp"
#include "support/scratch_dir.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/plt/int3_guardian.hpp"
#include "triage/plt/probe_plan.hpp"
#include "triage/procfs/status.hpp"

using triage::test_support::failure_text;

namespace {

const std::vector<std::string> five{"strlen", "memset", "strchr", "malloc", "free"};

struct planned {
    triage::plt::probe_plan plan;
    std::vector<triage::plt::breakpoint> breakpoints;
};

planned plan_for(pid_t pid, const std::string& program, const std::vector<std::string>& functions = five) {
    auto objects = triage::elf::mapped_objects(pid);
    REQUIRE(objects);
    auto mem = triage::memory::proc_mem::open(pid);
    REQUIRE(mem);
    planned out;
    out.plan = triage::plt::plan_probes(*mem, *objects, {.functions = functions, .objects = {program}});
    REQUIRE(out.plan.probes.size() >= std::min<std::size_t>(functions.size(), program.ends_with("static") ? 3 : 5));
    for (const auto& p : out.plan.probes) out.breakpoints.push_back({p.placed.runtime_address, p.placed.slot});
    return out;
}

// Each probe's bytes in the process now.
std::vector<std::uint64_t> words_at(pid_t pid, const std::vector<triage::plt::breakpoint>& bps) {
    auto mem = triage::memory::proc_mem::open(pid);
    REQUIRE(mem);
    std::vector<std::uint64_t> out;
    for (const auto& b : bps) {
        auto w = triage::memory::read_object<std::uint64_t>(*mem, b.address);
        REQUIRE(w);
        out.push_back(*w);
    }
    return out;
}

} // namespace

TEST_CASE("int3 counts of five functions are exact per thread, for every build, and the text is restored") {
    for (const std::string variant : {"classic", "ibt", "bindnow", "nopie", "static", "noplt"}) {
        CAPTURE(variant);
        loop_victim v(variant);
        // -fno-plt: each call is a whole-process stop, 10,000 per function: two functions are enough there.
        const bool at_function = variant == "noplt";
        const std::vector<std::string> counted = at_function   ? std::vector<std::string>{"strlen", "strchr"}
                                                 : variant == "static" ? std::vector<std::string>{"strlen", "memset", "strchr"}
                                                                       : five;  // static: malloc and free are not ifuncs
        const auto p = plan_for(v.pid, v.program, counted);
        const auto before = words_at(v.pid, p.breakpoints);
        std::map<int, pid_t> tids;
        bool done = false;
        auto counts = triage::plt::count_int3_hits_guarded(
            v.pid, p.breakpoints,
            {.window = std::chrono::milliseconds{60000},
             .stop_requested = [&] { return done; },
             .started = [&](std::size_t threads) {
                 CHECK(threads == 5);
                 tids = v.run();
                 done = true;
             }});
        REQUIRE_MESSAGE(counts, failure_text(counts));
        CHECK(counts->interrupted);
        CHECK(words_at(v.pid, p.breakpoints) == before);
        std::map<std::pair<pid_t, std::string>, std::uint64_t> by;
        for (const auto& c : counts->calls) by[{c.tid, p.plan.probes[c.probe].function}] += c.calls;
        for (const auto& [k, tid] : tids) {
            for (const std::string& f : counted) {
                CAPTURE(k);
                CAPTURE(f);
                CHECK(by[{tid, f}] == static_cast<std::uint64_t>((k + 1) * 1000));
            }
        }
        // Hits that queue while the world is stopped are stepped in the same stop.
        if (at_function) CHECK((counts->world_stops > 0 && counts->world_stops <= counts->hits));
        else CHECK(counts->world_stops == 0);
        const std::string state = v.state();
        CHECK((state == "S" || state == "R"));
    }
}

TEST_CASE("a tool killed with SIGKILL mid-window: its guardian writes every byte back and lets the target run on") {
    for (const std::string variant : {"classic", "noplt"}) {
        CAPTURE(variant);
        loop_victim v(variant);
        const auto p = plan_for(v.pid, v.program);
        const auto before = words_at(v.pid, p.breakpoints);
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        const pid_t tool = ::fork();
        REQUIRE(tool >= 0);
        if (tool == 0) {
            ::close(ready[0]);
            (void)triage::plt::count_int3_hits_guarded(v.pid, p.breakpoints,
                                                       {.window = std::chrono::milliseconds{600000},
                                                        .started = [&](std::size_t) {
                                                            const char ok = '1';
                                                            (void)!::write(ready[1], &ok, 1);
                                                        }});
            ::_exit(0);
        }
        ::close(ready[1]);
        char ok = 0;
        REQUIRE(::read(ready[0], &ok, 1) == 1);
        ::close(ready[0]);
        CHECK((words_at(v.pid, p.breakpoints)[0] & 0xff) == 0xcc);
        // Calls are being served while the tool dies.
        REQUIRE(::kill(v.pid, SIGUSR1) == 0);
        ::kill(tool, SIGKILL);
        ::waitpid(tool, nullptr, 0);
        // The guardian sees its pipe close, restores, detaches and exits.
        bool restored = false;
        for (int i = 0; i < 500 && !restored; ++i) {
            {
                int status = 0;
                const pid_t r = ::waitpid(v.pid, &status, WNOHANG);
                if (r != 0) FAIL("victim " << r << " status " << status << " signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
            }
            restored = words_at(v.pid, p.breakpoints) == before;
            if (!restored) std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        if (!restored) {
            int status = 0;
            const pid_t r = ::waitpid(v.pid, &status, WNOHANG);
            FAIL("victim " << r << " status " << status << " signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
        }
        REQUIRE(wait_for(v.dir + "/done"));  // every thread made all its calls
        std::string tracer;
        for (int i = 0; i < 500; ++i) {
            auto status = triage::read_file("/proc/" + std::to_string(v.pid) + "/status");
            REQUIRE(status);
            tracer = status->substr(status->find("TracerPid:"), status->find('\n', status->find("TracerPid:")) - status->find("TracerPid:"));
            if (tracer == "TracerPid:\t0") break;
            std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        CHECK(tracer == "TracerPid:\t0");
        const std::string state = v.state();
        CHECK((state == "S" || state == "R"));
    }
}

TEST_CASE("another tracer: the guardian's attach names it, and nothing is written") {
    loop_victim v("classic");
    const auto p = plan_for(v.pid, v.program);
    const auto before = words_at(v.pid, p.breakpoints);
    auto first = triage::ptrace::session::attach(v.pid);
    REQUIRE(first);
    auto counts = triage::plt::count_int3_hits_guarded(v.pid, p.breakpoints, {.window = std::chrono::milliseconds{100}});
    REQUIRE_FALSE(counts);
    CHECK(counts.error().code == triage::errc::already_traced);
    CHECK(counts.error().message().find("is already tracing it") != std::string::npos);
    REQUIRE(first->release());
    CHECK(words_at(v.pid, p.breakpoints) == before);
}

TEST_CASE("a target that forks and spawns while breakpoints are in: no child meets one, the parent is counted") {
    const std::string program = std::string(TRIAGE_VICTIM_DIR) + "/plt_forker";
    triage::test_support::scratch_dir dir{"plt-forker"};
    const std::string results = dir / "results";
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::execl(program.c_str(), program.c_str(), results.c_str(), nullptr);
        ::_exit(127);
    }
    REQUIRE(wait_for(results));
    const auto p = plan_for(pid, program, {"strlen"});
    const auto before = words_at(pid, p.breakpoints);
    auto counts = triage::plt::count_int3_hits_guarded(pid, p.breakpoints, {.window = std::chrono::milliseconds{1500}});
    REQUIRE_MESSAGE(counts, failure_text(counts));
    CHECK(words_at(pid, p.breakpoints) == before);
    CHECK(counts->children_cleaned > 10);  // the fork() children, each with its own copy of the text
    std::uint64_t parent_calls = 0;
    for (const auto& c : counts->calls) parent_calls += c.tid == pid ? c.calls : 0;
    CHECK(parent_calls > 100);
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    auto text = triage::read_file(results);
    REQUIRE(text);
    INFO(*text);
    long children = 0;
    long died = -1;
    REQUIRE(std::sscanf(text->c_str(), "children %ld died %ld", &children, &died) == 2);
    CHECK(children > 20);
    CHECK(died == 0);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

TEST_CASE("a target that execs while breakpoints are in: the window ends, nothing is written into the new image") {
    const std::string program = std::string(TRIAGE_VICTIM_DIR) + "/plt_execer";
    triage::test_support::scratch_dir dir{"plt-execer"};
    const std::string ready = dir / "ready";
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::execl(program.c_str(), program.c_str(), ready.c_str(), nullptr);
        ::_exit(127);
    }
    REQUIRE(wait_for(ready));
    const auto p = plan_for(pid, program, {"strlen"});
    // The exec is asked for once the breakpoints are in (a loaded machine may take seconds to attach).
    auto counts = triage::plt::count_int3_hits_guarded(
        pid, p.breakpoints,
        {.window = std::chrono::milliseconds{30000},
         .started = [&](std::size_t) {
             std::this_thread::sleep_for(std::chrono::milliseconds{100});
             ::kill(pid, SIGUSR1);
         }},
        {.stop_timeout = std::chrono::milliseconds{10000}});
    REQUIRE_MESSAGE(counts, failure_text(counts));
    CHECK(counts->target_execed);
    CHECK(counts->hits > 10);
    CHECK(counts->window < std::chrono::seconds{20});
    // Now /bin/sleep, running untraced, its text as its files hold it (nothing of the old image written into it).
    auto exe = triage::read_file("/proc/" + std::to_string(pid) + "/cmdline");
    REQUIRE(exe);
    CHECK(exe->starts_with("sleep"));
    auto status = triage::procfs::read_status(pid);
    REQUIRE(status);
    CHECK(status->tracer_pid == 0);
    CHECK((status->state == 'S' || status->state == 'R'));
    CHECK(text_differences(pid).empty());
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

TEST_CASE("an exception thrown while the breakpoints are in: every byte goes back before it leaves count_int3_hits") {
    loop_victim v("classic");
    const auto p = plan_for(v.pid, v.program);
    const auto before = words_at(v.pid, p.breakpoints);
    {
        auto session = triage::ptrace::session::attach(v.pid);
        REQUIRE(session);
        auto text = triage::plt::open_text_writer(v.pid);
        REQUIRE(text);
        CHECK_THROWS_AS((void)triage::plt::count_int3_hits(*session, text->get(), p.breakpoints,
                                                           {.started = [&](std::size_t) {
                                                               REQUIRE(::kill(v.pid, SIGUSR1) == 0);  // calls are being made
                                                               std::this_thread::sleep_for(std::chrono::milliseconds{20});
                                                               throw std::runtime_error("a callback failed");
                                                           }}),
                        std::runtime_error);
        CHECK(words_at(v.pid, p.breakpoints) == before);
    }  // released
    REQUIRE(wait_for(v.dir + "/done", 120));  // every thread made all its calls, untraced
    const std::string state = v.state();
    CHECK((state == "S" || state == "R"));
}
