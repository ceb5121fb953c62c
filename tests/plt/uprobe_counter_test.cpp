// plt::uprobe_counter on tests/victims/plt/plt_loop.c, whose four threads
// call strlen through the PLT exactly 1000, 2000, 3000 and 4000 times when
// told to: the counts per thread must be exact for every way the program
// was built (classic PLT, IBT .plt.sec, BIND_NOW, non-PIE, static; and
// -fno-plt, counted at libc's strlen, which plt::place_probe finds from the
// GOT slot), and the target's text must be what the file holds after the
// counter is closed, and after a process holding one is killed with
// SIGKILL — while the counter is open, the kernel's breakpoint is there.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "plt/loop_victim.hpp"
#include "support/failure_text.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/plt/call_sites.hpp"
#include "triage/plt/probe_placement.hpp"
#include "triage/plt/uprobe_counter.hpp"

using triage::test_support::failure_text;

namespace {

// Where strlen's calls are counted (plt::place_probe): the probe, its
// runtime address in the victim, whether it is at the function (-fno-plt),
// and the bytes the probed file holds there.
struct strlen_stub {
    triage::plt::probe_point probe;
    std::uint64_t runtime = 0;
    bool at_function = false;
    std::vector<std::byte> file_bytes;
};

strlen_stub find_strlen_stub(const loop_victim& v) {
    auto file = triage::elf::file::open(v.program);
    REQUIRE(file);
    auto sites = triage::plt::call_sites(*file);
    REQUIRE(sites);
    const triage::plt::call_site* site = nullptr;
    for (const auto& s : *sites)
        if (s.function == "strlen") site = &s;
    REQUIRE(site != nullptr);
    auto objects = triage::elf::mapped_objects(v.pid);
    REQUIRE(objects);
    const triage::elf::mapped_object* caller = nullptr;
    for (const auto& o : *objects)
        if (o.path == v.program) caller = &o;
    REQUIRE(caller != nullptr);
    auto mem = triage::memory::proc_mem::open(v.pid);
    REQUIRE(mem);
    auto placed = triage::plt::place_probe(*mem, *objects, *caller, *file, *site);
    REQUIRE_MESSAGE(placed, failure_text(placed));
    CHECK(placed->at_function == (site->kind == triage::plt::stub_kind::got_only));
    strlen_stub out{placed->point, placed->runtime_address, placed->at_function, {}};
    std::ifstream in(placed->point.path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(placed->point.offset));
    out.file_bytes.resize(16);
    in.read(reinterpret_cast<char*>(out.file_bytes.data()), 16);
    REQUIRE(in);
    return out;
}

std::vector<std::byte> text_now(pid_t pid, std::uint64_t address) {
    auto mem = triage::memory::proc_mem::open(pid);
    REQUIRE(mem);
    std::vector<std::byte> bytes(16);
    REQUIRE(triage::memory::read_exact(*mem, address, bytes));
    return bytes;
}

} // namespace

TEST_CASE("uprobe counts of strlen's calls are exact per thread, for every build (-fno-plt: at the function)") {
    for (const std::string variant : {"classic", "ibt", "bindnow", "nopie", "static", "noplt"}) {
        CAPTURE(variant);
        loop_victim v(variant);
        const auto stub = find_strlen_stub(v);
        {
            auto counter = triage::plt::uprobe_counter::open(v.pid, {stub.probe});
            REQUIRE_MESSAGE(counter, failure_text(counter));
            CHECK(text_now(v.pid, stub.runtime)[0] == std::byte{0xcc});  // the kernel's breakpoint
            REQUIRE(counter->start());
            const auto tids = v.run();
            REQUIRE(counter->stop());
            auto counts = counter->read();
            REQUIRE(counts);
            std::map<pid_t, std::uint64_t> by_tid;
            for (const auto& c : *counts) by_tid[c.tid] += c.calls;
            CHECK(by_tid.size() == 5);  // four workers and the main thread
            for (const auto& [k, tid] : tids) {
                CAPTURE(k);
                CHECK(by_tid[tid] == static_cast<std::uint64_t>((k + 1) * 1000));
            }
            // A static executable's libc calls its ifuncs through the same stubs (the main thread's
            // snprintf calls strlen there), and a probe at the function (-fno-plt) counts libc's own
            // calls too; elsewhere the main thread makes no call through the stub.
            if (variant != "static" && !stub.at_function) CHECK(by_tid[v.pid] == 0);
        }
        CHECK(text_now(v.pid, stub.runtime) == stub.file_bytes);
        const std::string state = v.state();
        CHECK((state == "S" || state == "R"));
    }
}

TEST_CASE("an open counter counts only between start() and stop(), while its breakpoint is in place all along") {
    loop_victim v("classic");
    const auto stub = find_strlen_stub(v);
    auto counter = triage::plt::uprobe_counter::open(v.pid, {stub.probe});
    REQUIRE_MESSAGE(counter, failure_text(counter));
    REQUIRE(counter->start());
    REQUIRE(counter->stop());
    CHECK(text_now(v.pid, stub.runtime)[0] == std::byte{0xcc});
    v.run();  // 10000 calls, all after stop()
    auto counts = counter->read();
    REQUIRE(counts);
    CHECK(counts->size() == 5);
    for (const auto& c : *counts) CHECK(c.calls == 0);
    auto cost = triage::plt::teardown_cost(v.pid, stub.probe);
    REQUIRE_MESSAGE(cost, failure_text(cost));
    CHECK(cost->count() > 0);
}

TEST_CASE("threads born after the counter opened are counted exactly from when add_new_threads finds them") {
    loop_victim v("classic", true);
    const auto stub = find_strlen_stub(v);
    auto counter = triage::plt::uprobe_counter::open(v.pid, {stub.probe});
    REQUIRE_MESSAGE(counter, failure_text(counter));
    REQUIRE(counter->start());
    auto none = counter->add_new_threads();
    REQUIRE(none);
    CHECK(*none == 0);
    v.start_threads();
    auto added = counter->add_new_threads();
    REQUIRE(added);
    CHECK(*added == 4);
    const auto tids = v.run();
    auto counts = counter->read();
    REQUIRE(counts);
    std::map<pid_t, std::uint64_t> by_tid;
    for (const auto& c : *counts) by_tid[c.tid] += c.calls;
    for (const auto& [k, tid] : tids) {
        CAPTURE(k);
        CHECK(by_tid[tid] == static_cast<std::uint64_t>((k + 1) * 1000));
    }
}

TEST_CASE("a tracer killed with SIGKILL while counting leaves the target's text as the file holds it, and running") {
    loop_victim v("classic");
    const auto stub = find_strlen_stub(v);
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t tracer = ::fork();
    REQUIRE(tracer >= 0);
    if (tracer == 0) {
        auto counter = triage::plt::uprobe_counter::open(v.pid, {stub.probe});
        const char ok = counter ? '1' : '0';
        (void)!::write(ready[1], &ok, 1);
        for (;;) ::pause();
    }
    ::close(ready[1]);
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    ::close(ready[0]);
    REQUIRE(ok == '1');
    CHECK(text_now(v.pid, stub.runtime)[0] == std::byte{0xcc});
    ::kill(tracer, SIGKILL);
    ::waitpid(tracer, nullptr, 0);
    CHECK(text_now(v.pid, stub.runtime) == stub.file_bytes);
    v.run();  // the threads make their calls and finish: the target runs on
    const std::string state = v.state();
    CHECK((state == "S" || state == "R"));
}

TEST_CASE("uprobe_counter: out of descriptors is errc::limit_exceeded, and the probes opened so far are closed") {
    loop_victim v("classic");
    const auto stub = find_strlen_stub(v);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        rlimit few{32, 32};  // lowered for good: in this child only
        if (::setrlimit(RLIMIT_NOFILE, &few) != 0) ::_exit(3);
        std::vector<triage::plt::probe_point> probes(64, stub.probe);  // 64 probes x 5 threads
        auto counter = triage::plt::uprobe_counter::open(v.pid, probes);
        ::_exit(!counter && counter.error().code == triage::errc::limit_exceeded ? 0 : 1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(text_now(v.pid, stub.runtime) == stub.file_bytes);
}

TEST_CASE("uprobe_counter: a thread that cannot get all its probes gets none, so adding it again cannot count twice") {
    loop_victim v("classic", true);  // only the main thread until start_threads
    const auto stub = find_strlen_stub(v);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Room for the main thread's 8 probes and some, not for 4 more threads' 32.
        rlimit few{40, 40};
        if (::setrlimit(RLIMIT_NOFILE, &few) != 0) ::_exit(3);
        std::vector<triage::plt::probe_point> probes(8, stub.probe);
        auto counter = triage::plt::uprobe_counter::open(v.pid, probes);
        if (!counter) ::_exit(4);
        ::kill(v.pid, SIGUSR1);  // the four threads start
        if (!wait_for(v.dir + "/started")) ::_exit(5);
        auto added = counter->add_new_threads();
        if (added || added.error().code != triage::errc::limit_exceeded) ::_exit(6);
        auto counts = counter->read();
        if (!counts) ::_exit(7);
        std::map<pid_t, std::size_t> probes_of;
        for (const auto& c : *counts) ++probes_of[c.tid];
        for (const auto& [tid, n] : probes_of) {
            if (n != probes.size()) ::_exit(8);  // a half-added thread
        }
        ::_exit(probes_of.size() >= 1 && probes_of.size() < 5 ? 0 : 9);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(text_now(v.pid, stub.runtime) == stub.file_bytes);
}

TEST_CASE("uprobe_counter: a bad offset and a process that is gone are clear errors") {
    loop_victim v("classic");
    auto bad = triage::plt::uprobe_counter::open(v.pid, {{v.program, 1u << 30}});
    REQUIRE(!bad);
    CHECK(bad.error().code == triage::errc::invalid_argument);
    auto gone = triage::plt::uprobe_counter::open(0x3fffffff, {{v.program, 0}});
    REQUIRE(!gone);
    CHECK(gone.error().code == triage::errc::no_such_process);
}
