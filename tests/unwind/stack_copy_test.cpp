// The stack copy: what stack_range takes of a thread's stack (red zone,
// mapping end, bound), and that unwinding every thread of a stopped victim
// from the copy gives exactly the frames, and the same end, as unwinding
// the stopped process itself, before and after it is let go.
#include <doctest/doctest.h>

#include <vector>

#include "coredump/victim_checks.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/stack_copy.hpp"
#include "triage/unwind/unwinder.hpp"
#include "unwind/unwind_checks.hpp"

using namespace triage;

TEST_CASE("stack_range: from rsp minus the red zone to the mapping's end, bounded, clipped") {
    std::vector<procfs::mapping> maps(2);
    maps[0].start = 0x10000;
    maps[0].end = 0x20000;
    maps[1].start = 0x7f0000000000;
    maps[1].end = 0x7f0000200000;  // 2 MiB
    unwind::stack_copy_options options;

    auto r = unwind::stack_range(0x18000, maps, options);
    CHECK(r.address == 0x18000 - 128);
    CHECK(r.size == 0x20000 - (0x18000 - 128));
    r = unwind::stack_range(0x10040, maps, options);  // the red zone would leave the mapping
    CHECK(r.address == 0x10000);
    CHECK(r.size == 0x10000);
    r = unwind::stack_range(0x7f0000001000, maps, options);  // deeper than the bound
    CHECK(r.address == 0x7f0000001000 - 128);
    CHECK(r.size == options.max_stack_bytes);
    r = unwind::stack_range(0x5000, maps, options);  // garbage rsp
    CHECK(r.size == 0);
}

TEST_CASE("unwinding from the stack copy gives the frames of the stopped process") {
    for (const std::string variant : {"fp_cfi", "fp_nocfi"}) {
        CAPTURE(variant);
        unwind_test::chain_victim v{unwind_test::chain_program(variant)};
        auto modules = unwind::module_set::of_process(v.pid());
        REQUIRE_MESSAGE(modules, modules.error().message());
        auto live = memory::live_process::open(v.pid());
        REQUIRE(live);

        auto session = ptrace::session::attach(v.pid());
        REQUIRE_MESSAGE(session, session.error().message());
        auto copy = unwind::copy_stacks(*session, *live);
        REQUIRE_MESSAGE(copy, copy.error().message());
        std::vector<unwind::native_stack> stopped;
        std::vector<pid_t> tids;
        for (const auto& thread : copy->threads) {
            tids.push_back(thread.tid);
            CHECK(thread.stack.size > 0);
            CHECK(thread.stack.size <= unwind::stack_copy_options{}.max_stack_bytes);
            auto stack = unwind::unwind_thread(*modules, *live, thread.registers);
            REQUIRE(stack);
            stopped.push_back(std::move(*stack));
        }
        CHECK(tids == session->threads());
        REQUIRE(session->release());
        CHECK(coredump_test::running_freely(v));

        REQUIRE(copy->threads.size() == 2);
        for (std::size_t i = 0; i < copy->threads.size(); ++i) {
            CAPTURE(copy->threads[i].tid);
            auto from_copy = unwind::unwind_thread(*modules, copy->memory, copy->threads[i].registers);
            REQUIRE(from_copy);
            CHECK(stopped[i].complete());
            CHECK(stopped[i].frames.size() >= 5);
            CHECK(*from_copy == stopped[i]);
        }
    }
}
