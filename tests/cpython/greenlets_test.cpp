// cpython::read_greenlets (and gc_objects) against real greenlets: the
// victim tests/victims/py_greenlets.py parks greenlets in known places
// (plain greenlets on every interpreter here with a greenlet build triage
// knows: Debian 12's 3.11 with greenlet 2.0.2, the lab's 3.14 and 3.15 with
// 3.3.2; eventlet green threads on Debian's 3.11) and writes greenlet's own
// account of each (gr_frame) before one greenlet starts spinning. Read while
// the victim is stopped: every parked greenlet is found, suspended, of its
// type, on the main thread, with gr_frame's functions and lines, innermost
// first; the unstarted and finished ones are so; exactly one greenlet runs,
// and the thread's own stack is the spinner's; the main greenlet is
// switched out with the victim's module frame at its bottom; a second
// thread's greenlets are its own, its main greenlet running. Then the GC
// walk against the victim's own gc.get_objects(), and the refusals.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "triage/base/read_file.hpp"
#include "triage/cpython/gc_objects.hpp"
#include "triage/cpython/greenlets.hpp"
#include "triage/cpython/layouts/all.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/memory/caching_source.hpp"
#include "triage/ptrace/session.hpp"

using triage::test_support::failure_text;

namespace greenlets_test {

using namespace triage;
using namespace triage::testing;

// The interpreters with a greenlet triage reads: Debian's own 3.11
// (python3-greenlet 2.0.2) and the lab's 3.14 and 3.15 (3.3.2).
bool has_known_greenlet(const python_interpreter& python) {
    if (python.major != 3) return false;
    if (python.minor == 11) return python.launcher.empty() && python.path.starts_with("/usr/bin/");
    return !python.launcher.empty() && (python.minor == 14 || python.minor == 15);
}

const cpython::greenlet_stack* find(const cpython::greenlet_census& census, std::uint64_t address) {
    for (const auto& g : census.greenlets) {
        if (g.address == address) return &g;
    }
    return nullptr;
}

void check_greenlets(const python_interpreter& python, const std::string& mode) {
    INFO(python.label << ", " << mode);
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    constexpr int parked = 12;
    python_process victim{python, {victim_script("py_greenlets.py"), ready, std::to_string(parked), mode}};
    REQUIRE(victim.wait_for_file(ready));
    auto text = read_file(ready);
    REQUIRE(text);
    const auto oracle = nlohmann::json::parse(*text);

    auto py = cpython::open_live_python(victim.pid());
    REQUIRE_MESSAGE(py, failure_text(py));
    cpython::greenlet_census census;
    cpython::stack_snapshot snapshot;
    {
        auto session = ptrace::session::attach(victim.pid());
        REQUIRE_MESSAGE(session, failure_text(session));
        auto walker = cpython::make_walker(py->memory, py->target);
        auto snap = walker.snapshot();
        REQUIRE_MESSAGE(snap, failure_text(snap));
        snapshot = std::move(*snap);
        auto read = cpython::read_greenlets(py->memory, py->target.layout, py->target.runtime.roots, snapshot,
                                            {.main_tid = victim.pid()});
        REQUIRE_MESSAGE(read, failure_text(read));
        census = std::move(*read);
        // The bound on frames over all greenlets: reached, said, never passed.
        cpython::greenlet_options bounded_options;
        bounded_options.main_tid = victim.pid();
        bounded_options.max_frames = 3;
        auto bounded = cpython::read_greenlets(py->memory, py->target.layout, py->target.runtime.roots, snapshot,
                                               bounded_options);
        REQUIRE_MESSAGE(bounded, failure_text(bounded));
        std::size_t frames = 0, limited = 0;
        for (const auto& g : bounded->greenlets) {
            frames += g.frames.size();
            limited += g.failure && g.failure->code == errc::limit_exceeded;
        }
        CHECK(frames <= 3);
        CHECK(frames >= 1);
        CHECK(limited >= 1);
        REQUIRE(session->release());
    }
    CHECK_MESSAGE(victim.running(), "the victim should be alive and not stopped; State: " << victim.state());
    CHECK(census.version == (python.minor == 11 ? "2.0.2" : "3.3.2"));
    // The GC walk saw what gc.get_objects() listed just before (give or
    // take the objects made since: the oracle itself, the spinner).
    const auto tracked = oracle["tracked"].get<std::uint64_t>();
    CHECK(census.objects_scanned + 200 > tracked);
    CHECK(census.objects_scanned < tracked + 200);

    // The main thread (eventlet's hub runs on it too), and in greenlet
    // mode the worker thread with greenlets of its own.
    const bool worker = oracle.contains("worker");
    REQUIRE(snapshot.threads.size() == (worker ? 2u : 1u));
    const auto thread_of = [&](std::uint64_t ident) -> const cpython::python_thread* {
        for (const auto& t : snapshot.threads) {
            if (t.python_ident == ident) return &t;
        }
        return nullptr;
    };
    const cpython::python_thread* main_thread = nullptr;
    for (const auto& t : snapshot.threads) {
        if (t.tid == victim.pid()) main_thread = &t;
    }
    REQUIRE(main_thread != nullptr);
    const cpython::python_thread& thread = *main_thread;
    for (const auto& g : census.greenlets) {
        CAPTURE(g.address);
        CAPTURE(g.type);
        CHECK_MESSAGE(!g.failure, failure_text(g.failure));
        if (g.state == cpython::greenlet_state::running || g.state == cpython::greenlet_state::suspended) {
            CHECK(thread_of(g.thread) != nullptr);
        }
    }

    // The parked ones: exactly greenlet's own account of their stacks, on their thread.
    const auto check_parked = [&](const nlohmann::json& expected, std::uint64_t on_thread) {
        const auto* g = find(census, expected["id"].get<std::uint64_t>());
        REQUIRE_MESSAGE(g != nullptr, "greenlet " << expected["id"] << " not found");
        CHECK(g->state == cpython::greenlet_state::suspended);
        CHECK(g->thread == on_thread);
        const auto type = expected["type"].get<std::string>();  // __name__; tp_name of a static type has its module
        CHECK((g->type == type || g->type.ends_with("." + type)));
        CHECK(!g->main);
        CHECK(g->parent != 0);
        std::vector<std::string> want, got;
        for (const auto& f : expected["frames"]) want.push_back(f[0].get<std::string>() + ":" + std::to_string(f[1].get<int>()));
        for (const auto& f : g->frames) got.push_back(f.name + ":" + std::to_string(f.line.value_or(-1)));
        CHECK(got == want);
    };
    for (const auto& expected : oracle["parked"]) check_parked(expected, thread.python_ident);
    if (worker) {
        const auto ident = oracle["worker"]["ident"].get<std::uint64_t>();
        REQUIRE(thread_of(ident) != nullptr);
        for (const auto& expected : oracle["worker"]["parked"]) check_parked(expected, ident);
        // Its main greenlet runs: the thread's own stack (waiting on the Event).
        const auto on_worker = std::ranges::count_if(census.greenlets, [&](const auto& g) {
            return g.thread == ident && g.main && g.state == cpython::greenlet_state::running;
        });
        CHECK(on_worker == 1);
    }
    const auto* unstarted = find(census, oracle["not_started"].get<std::uint64_t>());
    REQUIRE(unstarted != nullptr);
    CHECK(unstarted->state == cpython::greenlet_state::not_started);
    CHECK(unstarted->frames.empty());
    const auto* finished = find(census, oracle["dead"].get<std::uint64_t>());
    REQUIRE(finished != nullptr);
    CHECK(finished->state == cpython::greenlet_state::dead);

    // The main greenlet: switched out, the module's code at its bottom.
    const auto* main = find(census, oracle["main"].get<std::uint64_t>());
    REQUIRE(main != nullptr);
    CHECK(main->main);
    CHECK(main->state == cpython::greenlet_state::suspended);
    REQUIRE(!main->frames.empty());
    CHECK(main->frames.back().name == "<module>");
    CHECK(main->frames.back().file.ends_with("py_greenlets.py"));
    // Each thread's main greenlet first among its greenlets.
    const auto first_on_main = std::ranges::find_if(census.greenlets, [&](const auto& g) { return g.thread == thread.python_ident; });
    REQUIRE(first_on_main != census.greenlets.end());
    CHECK(first_on_main->address == main->address);

    // On the main thread one greenlet runs, the spinner: the thread's stack is its own.
    const auto running = std::ranges::count_if(census.greenlets, [&](const auto& g) {
        return g.thread == thread.python_ident && g.state == cpython::greenlet_state::running;
    });
    CHECK(running == 1);
    REQUIRE(!thread.frames.empty());
    CHECK(thread.frames.front().name == "spin");
    CHECK(std::ranges::none_of(thread.frames, [](const auto& f) { return f.name == "<module>"; }));

    const auto suspended = std::ranges::count_if(census.greenlets, [](const auto& g) { return g.state == cpython::greenlet_state::suspended; });
    MESSAGE(python.label << " (" << mode << "): greenlet " << census.version << ", " << census.greenlets.size()
                         << " greenlets (" << suspended << " suspended) among " << census.objects_scanned
                         << " tracked objects");
}

TEST_CASE("read_greenlets: every greenlet of a process, parked ones with greenlet's own stacks, on each known pairing") {
    int covered = 0;
    for (const python_interpreter& python : machine_interpreters()) {
        if (!has_known_greenlet(python)) continue;
        check_greenlets(python, "greenlet");
        if (python.minor == 11) check_greenlets(python, "eventlet");  // Debian 12's python3-eventlet
        ++covered;
    }
    CHECK_MESSAGE(covered >= 1, "no interpreter with a known greenlet (Debian's python3-greenlet for 3.11)");
}

TEST_CASE("for_each_gc_object visits each tracked object once, within its bound; read_greenlets refuses what it does not know") {
    const python_interpreter python = service_python();
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    python_process victim{python, {victim_script("py_split_time.py"), ready}};
    REQUIRE(victim.wait_for_file(ready));
    auto py = cpython::open_live_python(victim.pid());
    REQUIRE_MESSAGE(py, failure_text(py));
    auto session = ptrace::session::attach(victim.pid());
    REQUIRE_MESSAGE(session, failure_text(session));
    auto walker = cpython::make_walker(py->memory, py->target);
    auto snapshot = walker.snapshot();
    REQUIRE_MESSAGE(snapshot, failure_text(snapshot));
    REQUIRE(!snapshot->threads.empty());

    // Every tracked object once: each list ends at its head, nothing repeats.
    memory::caching_source<memory::live_process&> cached{py->memory, 4096};
    std::vector<std::uint64_t> objects;
    auto visited = cpython::for_each_gc_object(cached, py->target.layout, snapshot->threads.front().interpreter,
                                               [&](std::uint64_t object, std::uint64_t) { objects.push_back(object); });
    REQUIRE_MESSAGE(visited, failure_text(visited));
    CHECK(*visited == objects.size());
    std::ranges::sort(objects);
    CHECK(std::ranges::adjacent_find(objects) == objects.end());
    // The walk's bound holds.
    auto bounded = cpython::for_each_gc_object(cached, py->target.layout, snapshot->threads.front().interpreter,
                                               [](std::uint64_t, std::uint64_t) {}, 100);
    REQUIRE(!bounded);
    CHECK(bounded.error().code == errc::limit_exceeded);

    // A process that never imported greenlet.
    auto none = cpython::read_greenlets(py->memory, py->target.layout, py->target.runtime.roots, *snapshot);
    REQUIRE(!none);
    CHECK(none.error().code == errc::not_found);
    CHECK(none.error().message().find("has not imported greenlet") != std::string::npos);
    REQUIRE(session->release());

    // Pairings whose layout is not known are refused, never guessed.
    for (const char* version : {"1.1.3", "2.0.2", "3.1.1", "3.4.0", "x"}) {
        CAPTURE(version);
        auto refused = cpython::detail::greenlets::layout_for(version, cpython::layouts::v3_12);
        REQUIRE(!refused);
        CHECK(refused.error().code == errc::unsupported);
    }
    CHECK(cpython::detail::greenlets::layout_for("2.0.2", cpython::layouts::v3_11));
    CHECK(!cpython::detail::greenlets::layout_for("3.3.2", cpython::layouts::v3_11));
    CHECK(!cpython::gc_lists_of(cpython::layouts::v3_10));
}

// The parked greenlets' {id: "function:line" innermost first} in a
// triage-pystack --json document, and how many greenlets it lists.
std::pair<std::map<std::uint64_t, std::vector<std::string>>, std::size_t> suspended_in(const nlohmann::json& doc) {
    std::map<std::uint64_t, std::vector<std::string>> out;
    std::size_t count = doc["greenlets"]["elsewhere"].size();
    for (const auto& t : doc["threads"]) {
        count += t["greenlets"].size();
        for (const auto& g : t["greenlets"]) {
            if (g["state"] != "suspended") continue;
            auto& frames = out[g["address"].get<std::uint64_t>()];
            for (const auto& f : g["frames"]) frames.push_back(f["function"].get<std::string>() + ":" + std::to_string(f["line"].get<int>()));
        }
    }
    return {out, count};
}

TEST_CASE("triage-pystack --greenlets: eventlet's green threads live (blocking, nonblocking) and from a core") {
    std::optional<python_interpreter> debian;
    for (const python_interpreter& python : machine_interpreters()) {
        if (python.minor == 11 && has_known_greenlet(python)) debian = python;
    }
    if (!debian) {
        MESSAGE("skipped: no Debian python3.11 with python3-greenlet (.ci/deps installs python3-eventlet)");
        return;
    }
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    python_process victim{*debian, {victim_script("py_greenlets.py"), ready, "9", "eventlet"}};
    REQUIRE(victim.wait_for_file(ready));
    const auto oracle = nlohmann::json::parse(*read_file(ready));
    std::map<std::uint64_t, std::vector<std::string>> want;
    for (const auto& p : oracle["parked"]) {
        auto& frames = want[p["id"].get<std::uint64_t>()];
        for (const auto& f : p["frames"]) frames.push_back(f[0].get<std::string>() + ":" + std::to_string(f[1].get<int>()));
    }
    const std::string pid = std::to_string(victim.pid());
    const std::string core = dir.path() + "/greenlets.core";
    REQUIRE(run_tool(std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", pid + " -o " + core).exit_code == 0);
    for (const std::string& args : {pid + " --greenlets --json", pid + " --greenlets --nonblocking --json",
                                   "--core " + core + " --greenlets --json"}) {
        CAPTURE(args);
        auto run = run_pystack(args);
        REQUIRE_MESSAGE(run.exit_code == 0, run.err);
        const auto doc = nlohmann::json::parse(run.out);
        CHECK(doc["greenlets"]["error"].is_null());
        CHECK(doc["greenlets"]["version"] == "2.0.2");
        const auto [suspended, count] = suspended_in(doc);
        CHECK(count >= want.size() + 4);  // the parked, the hub, the spinner, main, the unstarted, the finished
        for (const auto& [id, frames] : want) {
            CAPTURE(id);
            auto it = suspended.find(id);
            REQUIRE(it != suspended.end());
            // Function names: co_qualname in JSON (3.11), so compare the last part.
            std::vector<std::string> got;
            for (const auto& f : it->second) got.push_back(f.substr(f.rfind('.') + 1));
            CHECK(got == frames);
        }
    }
    auto text = run_pystack(pid + " --greenlets");
    REQUIRE_MESSAGE(text.exit_code == 0, text.err);
    INFO(text.out);
    CHECK(text.out.find("Greenlets: ") != std::string::npos);
    CHECK(text.out.find("Greenlets of this thread: ") != std::string::npos);
    CHECK(text.out.find("GreenThread suspended (parent 0x") != std::string::npos);
    CHECK(text.out.find("): the stack above") != std::string::npos);
    CHECK_MESSAGE(victim.running(), "the victim should be alive and not stopped; State: " << victim.state());

    // A process without greenlet: the stacks, and why there are no greenlets.
    python_process plain{*debian, {victim_script("py_split_time.py"), dir.path() + "/plain"}};
    REQUIRE(plain.wait_for_file(dir.path() + "/plain"));
    auto none = run_pystack(std::to_string(plain.pid()) + " --greenlets");
    REQUIRE_MESSAGE(none.exit_code == 0, none.err);
    CHECK(none.out.find("Greenlets not read: ") != std::string::npos);
    CHECK(none.out.find("the process has not imported greenlet") != std::string::npos);
    CHECK(none.out.find("py_split_time.py") != std::string::npos);
}

} // namespace greenlets_test
