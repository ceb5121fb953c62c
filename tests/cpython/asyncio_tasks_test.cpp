// cpython::read_asyncio_tasks against real event loops: the victim
// tests/victims/py_asyncio.py parks tasks in known places (sleep, an Event,
// gather(), awaiting another task, never run), runs a second loop on
// another thread, then spins in a task (3.12+: one started eagerly, in
// _eager_tasks), having written asyncio's own account of every pending task
// (cr_await chains, names, states, loop threads, who awaits whom). Read while
// the victim is stopped, on every interpreter 3.7–3.15 here, that account
// is what triage finds, exactly; on 3.14 and 3.15 the tasks and awaited-by
// edges also equal CPython's own remote reader's (`python -m asyncio ps`).
// A core written in the same stop gives the same tasks. Then
// triage-pystack --tasks live (blocking, nonblocking) and from a core.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "cpython/victim_core.hpp"
#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "triage/base/read_file.hpp"
#include "triage/cpython/asyncio_tasks.hpp"
#include "triage/cpython/layouts/all.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/ptrace/session.hpp"

using triage::test_support::failure_text;

namespace asyncio_tasks_test {

using namespace triage;
using namespace triage::testing;

// A task as the victim's oracle and as triage describe it.
struct task_view {
    std::string name;
    std::string state;
    std::uint64_t thread = 0;
    std::vector<std::string> frames;  // "function:line" innermost first ("function" when not started)
    std::set<std::uint64_t> awaits;

    friend bool operator==(const task_view&, const task_view&) = default;
};

std::ostream& operator<<(std::ostream& out, const task_view& t) {
    out << "{" << t.name << " " << t.state << " thread " << t.thread << " [";
    for (const auto& f : t.frames) out << f << " ";
    out << "] awaits " << t.awaits.size() << "}";
    return out;
}

std::map<std::uint64_t, task_view> oracle_of(const nlohmann::json& doc) {
    std::map<std::uint64_t, task_view> out;
    for (const auto& t : doc["tasks"]) {
        task_view& v = out[t["id"].get<std::uint64_t>()];
        v.name = t["name"].get<std::string>();
        v.state = t["state"].get<std::string>();
        v.thread = t["thread"].get<std::uint64_t>();
        for (const auto& f : t["frames"]) {
            v.frames.push_back(f[0].get<std::string>() + (f[1].is_null() ? "" : ":" + std::to_string(f[1].get<int>())));
        }
        for (const auto& a : t["awaits"]) v.awaits.insert(a.get<std::uint64_t>());
    }
    return out;
}

// triage's view, frames cut to what the oracle says of each (a coroutine
// never started: its function only).
task_view view_of(const cpython::asyncio_task& t, const task_view& expected) {
    task_view v{t.name, std::string(cpython::to_string(t.state)), t.thread, {}, {t.awaits.begin(), t.awaits.end()}};
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
        const bool line = i >= expected.frames.size() || expected.frames[i].find(':') != std::string::npos;
        v.frames.push_back(t.frames[i].name + (line ? ":" + std::to_string(t.frames[i].line.value_or(-1)) : ""));
    }
    return v;
}

// CPython 3.14+'s remote reader in the victim's own root: {task id: {name, awaited_by}}.
std::optional<nlohmann::json> remote_oracle(const python_interpreter& python, pid_t pid) {
    if (python.launcher.empty()) return std::nullopt;
    auto run = test_support::run_command({"nsenter", "-t", std::to_string(pid), "-m", "-r", python.path,
                                          victim_script("asyncio_remote_oracle.py"), std::to_string(pid)});
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    return nlohmann::json::parse(run.out);
}

void check_tasks(const python_interpreter& python) {
    INFO(python.label);
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    python_process victim{python, {victim_script("py_asyncio.py"), ready, "7"}};
    REQUIRE(victim.wait_for_file(ready));
    auto text = read_file(ready);
    REQUIRE(text);
    const auto expected = oracle_of(nlohmann::json::parse(*text));

    auto py = cpython::open_live_python(victim.pid());
    REQUIRE_MESSAGE(py, failure_text(py));
    cpython::asyncio_census census;
    const std::string core = dir.path() + "/core";
    write_core_in_one_stop(victim.pid(), core, [&](const ptrace::session&) {
        auto walker = cpython::make_walker(py->memory, py->target);
        auto snapshot = walker.snapshot();
        REQUIRE_MESSAGE(snapshot, failure_text(snapshot));
        auto read = cpython::read_asyncio_tasks(py->memory, py->target.layout, py->target.runtime.roots, *snapshot);
        REQUIRE_MESSAGE(read, failure_text(read));
        census = std::move(*read);
        // The bound on frames over all tasks: reached, said, never passed.
        auto bounded = cpython::read_asyncio_tasks(py->memory, py->target.layout, py->target.runtime.roots, *snapshot,
                                                   {.max_frames = 3});
        REQUIRE_MESSAGE(bounded, failure_text(bounded));
        std::size_t frames = 0, limited = 0;
        for (const auto& t : bounded->tasks) {
            frames += t.frames.size();
            limited += t.failure && t.failure->code == errc::limit_exceeded;
        }
        CHECK(frames == 3);
        CHECK(limited >= 1);
    });
    CHECK_MESSAGE(victim.running(), "the victim should be alive and not stopped; State: " << victim.state());
    std::map<std::uint64_t, cpython::asyncio_task> found;
    for (const auto& t : census.tasks) {
        CHECK_MESSAGE(!t.failure, t.name << ": " << failure_text(t.failure));
        found.emplace(t.address, t);
    }
    for (const auto& [id, want] : expected) {
        CAPTURE(id);
        auto it = found.find(id);
        REQUIRE_MESSAGE(it != found.end(), "task " << want << " not found");
        CHECK(view_of(it->second, want) == want);
    }
    CHECK(found.size() == expected.size());
    // The victim's pure-Python task and the object it registered: on
    // 3.7–3.13 in the registry and left out; 3.14+ finds only C tasks.
    CHECK(census.not_c_tasks == (python.minor <= 13 ? 2u : 0u));
    MESSAGE(python.label << ": " << census.tasks.size() << " tasks, found in " << census.found_in << " ("
                         << census.objects_scanned << " looked at)");

    // The core written in that stop holds the same tasks, read the same way.
    cpython::core_stacks_options options;
    options.tasks = true;
    auto from_core = cpython::python_stacks(core, options);
    REQUIRE_MESSAGE(from_core, failure_text(from_core));
    REQUIRE(from_core->tasks);
    CHECK_MESSAGE(!from_core->tasks->failure, failure_text(from_core->tasks->failure));
    std::vector<cpython::asyncio_task> in_core = from_core->tasks->elsewhere;
    for (const auto& t : from_core->threads) in_core.insert(in_core.end(), t.tasks.begin(), t.tasks.end());
    CHECK(in_core.size() == census.tasks.size());
    for (const auto& t : in_core) {
        CAPTURE(t.name);
        auto live = found.find(t.address);
        REQUIRE(live != found.end());
        CHECK(t == live->second);
    }

    // 3.14+: every task CPython's own reader lists, with its name and
    // awaited-by edges. (3.14.10's lists only the main thread's loop, not the
    // second one's; 3.15.2's lists both.)
    if (auto remote = python.minor >= 14 ? remote_oracle(python, victim.pid()) : std::nullopt) {
        std::map<std::uint64_t, std::set<std::uint64_t>> awaited_by;
        for (const auto& [id, t] : found) {
            for (const std::uint64_t a : t.awaits) awaited_by[a].insert(id);
        }
        for (const auto& [key, t] : remote->items()) {
            const std::uint64_t id = std::stoull(key);
            CAPTURE(id);
            auto mine = found.find(id);
            REQUIRE(mine != found.end());
            CHECK(mine->second.name == t["name"].get<std::string>());
            std::set<std::uint64_t> want;
            for (const auto& a : t["awaited_by"]) want.insert(a.get<std::uint64_t>());
            CHECK(awaited_by[id] == want);
        }
        CHECK(remote->size() >= expected.size() - 3);  // at least the main loop's tasks
        MESSAGE(python.label << ": CPython's remote reader lists " << remote->size() << " of them");
    }
}

TEST_CASE("read_asyncio_tasks: every pending task, its chain, thread and edges, as asyncio itself tells them, 3.7–3.15") {
    int covered = 0;
    for (const python_interpreter& python : machine_interpreters()) {
        if (python.major != 3 || python.minor < 7) continue;
        check_tasks(python);
        ++covered;
    }
    CHECK(covered >= 1);
}

// {task id: view} of a triage-pystack --tasks --json document, frames cut as the oracle's.
std::map<std::uint64_t, task_view> tasks_in(const nlohmann::json& doc, const std::map<std::uint64_t, task_view>& oracle) {
    std::map<std::uint64_t, task_view> out;
    const auto take = [&](const nlohmann::json& t, std::uint64_t thread) {
        const auto id = t["address"].get<std::uint64_t>();
        task_view& v = out[id];
        v.name = t["name"].get<std::string>();
        v.state = t["state"].get<std::string>();
        v.thread = thread;
        auto want = oracle.find(id);
        for (std::size_t i = 0; i < t["frames"].size(); ++i) {
            const auto& f = t["frames"][i];
            std::string function = f["function"].get<std::string>();
            function = function.substr(function.rfind('.') + 1);  // co_qualname (3.11+); the oracle has co_name
            const bool line = want == oracle.end() || i >= want->second.frames.size() ||
                              want->second.frames[i].find(':') != std::string::npos;
            v.frames.push_back(function + (line ? ":" + std::to_string(f["line"].get<int>()) : ""));
        }
        for (const auto& a : t["awaits"]) v.awaits.insert(a.get<std::uint64_t>());
    };
    for (const auto& row : doc["threads"]) {
        for (const auto& t : row["tasks"]) take(t, row["python_ident"].get<std::uint64_t>());
    }
    for (const auto& t : doc["tasks"]["elsewhere"]) take(t, 0);
    return out;
}

TEST_CASE("triage-pystack --tasks: live (blocking, nonblocking) and from a core, and processes without asyncio or its C module") {
    const python_interpreter python = service_python();
    INFO(python.label);
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    python_process victim{python, {victim_script("py_asyncio.py"), ready, "5"}};
    REQUIRE(victim.wait_for_file(ready));
    const auto oracle = oracle_of(nlohmann::json::parse(*read_file(ready)));
    const std::string pid = std::to_string(victim.pid());
    const std::string core = dir.path() + "/tasks.core";
    REQUIRE(run_tool(std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", pid + " -o " + core).exit_code == 0);
    for (const std::string& args : {pid + " --tasks --json", pid + " --tasks --nonblocking --json",
                                   "--core " + core + " --tasks --json"}) {
        CAPTURE(args);
        auto run = run_pystack(args);
        REQUIRE_MESSAGE(run.exit_code == 0, run.err);
        const auto doc = nlohmann::json::parse(run.out);
        CHECK(doc["tasks"]["error"].is_null());
        CHECK(doc["tasks"]["not_c_tasks"] == (python.minor <= 13 ? 2 : 0));
        CHECK(tasks_in(doc, oracle) == oracle);
    }
    auto text = run_pystack(pid + " --tasks");
    REQUIRE_MESSAGE(text.exit_code == 0, text.err);
    INFO(text.out);
    CHECK(text.out.find("Asyncio tasks: " + std::to_string(oracle.size()) + " pending") != std::string::npos);
    CHECK((text.out.find("; 2 not C tasks, left out") != std::string::npos) == (python.minor <= 13));
    CHECK(text.out.find("Asyncio tasks of this thread's loop: ") != std::string::npos);
    CHECK(text.out.find("\"parent\" waiting on _GatheringFuture 0x") != std::string::npos);
    CHECK(text.out.find("awaits \"child-0\" (0x") != std::string::npos);
    CHECK(text.out.find("running: the stack above") != std::string::npos);
    CHECK_MESSAGE(victim.running(), "the victim should be alive and not stopped; State: " << victim.state());

    // A process without asyncio: the stacks, and why there are no tasks.
    python_process plain{python, {victim_script("py_split_time.py"), dir.path() + "/plain"}};
    REQUIRE(plain.wait_for_file(dir.path() + "/plain"));
    auto none = run_pystack(std::to_string(plain.pid()) + " --tasks");
    REQUIRE_MESSAGE(none.exit_code == 0, none.err);
    CHECK(none.out.find("Asyncio tasks not read: ") != std::string::npos);
    CHECK(none.out.find("the process has not imported asyncio") != std::string::npos);
    CHECK(none.out.find("py_split_time.py") != std::string::npos);
    // asyncio without its C module: its tasks are pure-Python ones, not read.
    python_process pure{python, {victim_script("py_asyncio.py"), dir.path() + "/pure", "2", "pure"}};
    REQUIRE(pure.wait_for_file(dir.path() + "/pure"));
    auto refused = run_pystack(std::to_string(pure.pid()) + " --tasks");
    REQUIRE_MESSAGE(refused.exit_code == 0, refused.err);
    CHECK(refused.out.find("Asyncio tasks not read: ") != std::string::npos);
    CHECK(refused.out.find("runs without its C module (_asyncio)") != std::string::npos);
    // Versions without asyncio tasks are refused, never guessed.
    for (const auto& l : {cpython::layouts::v2_7, cpython::layouts::v3_6}) CHECK(!cpython::detail::asyncio::task_layout_of(l));
}

} // namespace asyncio_tasks_test
