// The stack copy: what stack_range takes of a thread's stack (red zone,
// mapping end, bound), and that unwinding every thread of a stopped victim
// from the copy gives exactly the frames, and the same end, as unwinding
// the stopped process itself, before and after it is let go.
#include <doctest/doctest.h>

#include <vector>

#include "coredump/victim_checks.hpp"
#include "support/failure_text.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/stack_copy.hpp"
#include "triage/unwind/unwinder.hpp"
#include "unwind/unwind_checks.hpp"

using triage::test_support::failure_text;

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
        REQUIRE_MESSAGE(modules, failure_text(modules));
        auto live = memory::live_process::open(v.pid());
        REQUIRE(live);

        auto session = ptrace::session::attach(v.pid());
        REQUIRE_MESSAGE(session, failure_text(session));
        auto copy = unwind::copy_stacks(*session, *live);
        REQUIRE_MESSAGE(copy, failure_text(copy));
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

TEST_CASE("a prepared stack copy (maps and storage made before the stop) copies what an unprepared one copies, "
          "a stack mapped since included") {
    unwind_test::chain_victim v{unwind_test::chain_program("fp_cfi")};
    auto modules = unwind::module_set::of_process(v.pid());
    REQUIRE_MESSAGE(modules, failure_text(modules));
    auto live = memory::live_process::open(v.pid());
    REQUIRE(live);
    auto prepared = unwind::prepare_stack_copy(v.pid());
    REQUIRE_MESSAGE(prepared, failure_text(prepared));
    CHECK(prepared->storage.reserved() >= 2 * unwind::stack_copy_options{}.reserve_per_thread);

    auto session = ptrace::session::attach(v.pid());
    REQUIRE_MESSAGE(session, failure_text(session));
    // One trip for every thread's general registers: the same as per thread.
    auto general = session->general_registers();
    REQUIRE_MESSAGE(general, failure_text(general));
    REQUIRE(general->size() == session->threads().size());
    for (const auto& [tid, regs] : *general) {
        auto one = session->registers(tid);
        REQUIRE(one);
        CHECK(regs.rip == one->general.rip);
        CHECK(regs.rsp == one->general.rsp);
        CHECK(regs.rbp == one->general.rbp);
    }
    // As if the last thread's stack had been mapped after the preparation.
    const std::uint64_t last_rsp = general->back().second.rsp;
    std::erase_if(prepared->maps, [&](const procfs::mapping& m) { return m.contains(last_rsp); });
    auto with = unwind::copy_stacks(*session, *live, {}, std::move(*prepared));
    auto without = unwind::copy_stacks(*session, *live);
    REQUIRE(session->release());
    CHECK(coredump_test::running_freely(v));
    REQUIRE_MESSAGE(with, failure_text(with));
    REQUIRE_MESSAGE(without, failure_text(without));
    REQUIRE(with->threads.size() == without->threads.size());
    for (std::size_t i = 0; i < with->threads.size(); ++i) {
        CAPTURE(with->threads[i].tid);
        CHECK(with->threads[i].tid == without->threads[i].tid);
        CHECK(with->threads[i].stack.address == without->threads[i].stack.address);
        CHECK(with->threads[i].stack.size == without->threads[i].stack.size);
        CHECK(with->threads[i].stack.size > 0);
        auto a = unwind::unwind_thread(*modules, with->memory, with->threads[i].registers);
        auto b = unwind::unwind_thread(*modules, without->memory, without->threads[i].registers);
        REQUIRE(a);
        REQUIRE(b);
        CHECK(a->complete());
        CHECK(*a == *b);
    }
}
