// GIL waiters (cpython/gil_wait.hpp through python_stacks): on every
// interpreter on the machine, threads spinning in Python are each either the
// GIL's holder, waiting for it, or between two waits; threads sleeping or
// waiting on a lock never wait for the GIL; 2.7 and 3.6 report no waiters
// (their GIL is not one struct). The main thread, in Thread.join, is not
// judged: 3.13 was seen waking from the join and waiting for the GIL. The oracle is the victim's design
// (tests/victims/py_gil_contention.py), checked over many reads.
#include <doctest/doctest.h>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "cpython/python_victim.hpp"
#include "support/failure_text.hpp"
#include "support/scratch_dir.hpp"
#include "triage/cpython/gil_wait.hpp"
#include "triage/cpython/layouts/all.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/procfs/syscall.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::testing;

namespace {

// The function a thread of the victim runs, from its innermost frames.
std::string role_of(const cpython::thread_stack& t) {
    for (const auto& f : t.frames) {
        for (const char* role : {"spin", "sleeper", "locked"}) {
            if (f.name == role) return role;
        }
    }
    return "other";
}

} // namespace

TEST_CASE("threads spinning in Python hold the GIL or wait for it; sleeping and locked threads never wait for it") {
    for (const auto& python : machine_interpreters()) {
        CAPTURE(python.label);
        test_support::scratch_dir dir{"gil"};
        const std::string ready = dir.path() + "/ready";
        python_process victim{python, {victim_script("py_gil_contention.py"), ready}};
        REQUIRE(victim.wait_for_file(ready));
        const bool knows_waiters = python.major * 100 + python.minor >= 307;
        std::map<std::string, int> waiting, seen;
        // 40 reads; for versions that know waiters, more (up to 200) while
        // fewer than 10 caught a spinner waiting: how often one is caught
        // blocked depends on how the machine schedules the three.
        int reads = 0;
        for (int k = 0; k < 40 || (knows_waiters && waiting["spin"] < 10 && k < 200); ++k, ++reads) {
            const bool nonblocking = k % 2 == 1;
            auto report = cpython::python_stacks(victim.pid(), {.nonblocking = nonblocking,
                                                                .cpu_window = std::chrono::milliseconds{0}});
            REQUIRE_MESSAGE(report, failure_text(report));
            for (const auto& t : report->threads) {
                const std::string role = role_of(t);
                ++seen[role];
                CHECK_FALSE((t.holds_gil && t.waits_for_gil));
                if (t.waits_for_gil) ++waiting[role];
            }
        }
        CHECK(seen["spin"] == 3 * reads);
        CHECK(seen["sleeper"] == reads);
        CHECK(seen["locked"] == reads);
        CHECK(waiting["sleeper"] == 0);
        CHECK(waiting["locked"] == 0);
        if (knows_waiters) {
            // Of three spinners at most one holds the GIL: over 40 to 200
            // reads, many of the others are caught blocked on it.
            CHECK(waiting["spin"] >= 10);
        } else {
            CHECK(waiting["spin"] == 0);
        }
        MESSAGE(python.label << ": spinners waiting for the GIL in " << waiting["spin"] << " of " << seen["spin"]
                             << " reads");
        victim.stop();
    }
}

TEST_CASE("waits_for_gil: blocked in futex() on an address inside the GIL's locks, and nothing else") {
    const auto range = cpython::gil_wait_range(cpython::layouts::v3_11, 0x1000);
    REQUIRE(range);
    // locked at +16, then switch_number; cond at +32 ... switch_mutex ends at +208.
    CHECK(range->low == 0x1020);
    CHECK(range->high == 0x10D0);
    auto in = [](long number, std::uint64_t address) {
        procfs::syscall_info s;
        s.kind = procfs::syscall_kind::in_syscall;
        s.number = number;
        s.arguments[0] = address;
        return s;
    };
    CHECK(cpython::waits_for_gil(in(202, 0x1020), *range));
    CHECK(cpython::waits_for_gil(in(202, 0x10CF), *range));
    CHECK_FALSE(cpython::waits_for_gil(in(202, 0x10D0), *range));  // past the struct
    CHECK_FALSE(cpython::waits_for_gil(in(202, 0x1010), *range));  // `locked` itself is no lock
    CHECK_FALSE(cpython::waits_for_gil(in(0, 0x1020), *range));    // read(), not futex()
    CHECK_FALSE(cpython::waits_for_gil(procfs::syscall_info{}, *range));  // running
    CHECK_FALSE(cpython::gil_wait_range(cpython::layouts::v3_11, 0));  // GIL not known
    CHECK_FALSE(cpython::gil_wait_range(cpython::layouts::v2_7, 0x1000));  // no struct _gil_runtime_state
}
