// Registers and stacks that lie: a thread at pc 0 with rsp 0, registers
// pointing at unmapped memory, a frame-pointer chain that loops (through
// CFI and through the frame-pointer fallback), a zero return address, a
// depth bound, and stacks of random words. Every walk ends, within the
// bound, with a reason and an error naming where; none is "complete".
#include <doctest/doctest.h>

#include <sys/user.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "support/failure_text.hpp"
#include "triage/memory/buffer_source.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/unwinder.hpp"
#include "unwind/unwind_checks.hpp"

using triage::test_support::failure_text;

using namespace triage;

namespace {

// A stack image: `words` from address `base` on.
struct fake_stack {
    std::uint64_t base = 0;
    std::vector<std::uint64_t> words;

    [[nodiscard]] memory::buffer_source source() const {
        return memory::buffer_source{base, std::as_bytes(std::span{words})};
    }
};

user_regs_struct registers(std::uint64_t rip, std::uint64_t rsp, std::uint64_t rbp) {
    user_regs_struct r{};
    r.rip = rip;
    r.rsp = rsp;
    r.rbp = rbp;
    return r;
}

unwind::native_stack walk(unwind::module_set& modules, const memory::buffer_source& memory,
                          const user_regs_struct& regs, unwind::unwind_options options = {}) {
    auto stack = unwind::unwind_thread(modules, memory, regs, options);
    REQUIRE_MESSAGE(stack, failure_text(stack));
    CHECK(!stack->complete());
    CHECK(stack->failure.has_value());
    CHECK(stack->frames.size() <= options.max_frames);
    return std::move(*stack);
}

} // namespace

TEST_CASE("hostile registers and stacks end with a reason, never hang") {
    unwind_test::chain_victim with_cfi{unwind_test::chain_program("fp_cfi")};
    unwind_test::chain_victim without_cfi{unwind_test::chain_program("fp_nocfi")};
    auto cfi_modules = unwind::module_set::of_process(with_cfi.pid());
    auto fp_modules = unwind::module_set::of_process(without_cfi.pid());
    REQUIRE(cfi_modules);
    REQUIRE(fp_modules);
    // Real code addresses: a pc in inner's loop, and the return address in middle.
    const auto cfi_live = unwind_test::unwind_live(*cfi_modules, with_cfi);
    const auto fp_live = unwind_test::unwind_live(*fp_modules, without_cfi);
    REQUIRE(cfi_live.spinner.frames.size() >= 2);
    REQUIRE(fp_live.spinner.frames.size() >= 2);

    const std::uint64_t x = 0x7ffd00010000;  // where the fake stack's frame pointer points
    memory::buffer_source empty;

    SUBCASE("pc 0, rsp 0: the innermost frame is listed, then no unwind information") {
        auto stack = walk(*cfi_modules, empty, registers(0, 0, 0));
        REQUIRE(stack.frames.size() == 1);
        CHECK(stack.frames[0].pc == 0);
        CHECK(stack.stopped == unwind::stop_reason::no_unwind_info);
    }
    SUBCASE("rip, rsp and rbp in unmapped memory: the unreadable word is named") {
        auto stack = walk(*cfi_modules, empty, registers(0x1000, 0x2000, 0x3000));
        CHECK(stack.frames.size() == 1);
        CHECK(stack.stopped == unwind::stop_reason::unreadable_memory);
        CHECK(stack.failure->code == errc::bad_address);
        CHECK(stack.failure->message().find("0x3008") != std::string::npos);
    }
    SUBCASE("a real pc with rsp in unmapped memory: CFI needs the stack and says so") {
        const auto& inner = cfi_live.spinner.frames[0];
        auto stack = walk(*cfi_modules, empty, registers(inner.pc, 0x2000, 0x3000));
        CHECK(stack.frames.size() == 1);
        CHECK(stack.stopped == unwind::stop_reason::unreadable_memory);
    }
    SUBCASE("a looping frame-pointer chain under CFI: the stack pointer stops increasing") {
        // [x] = x (the saved rbp points to itself), [x+8] = a return address in middle.
        fake_stack fake{x - 0x40, std::vector<std::uint64_t>(32)};
        fake.words[0x40 / 8] = x;
        fake.words[0x48 / 8] = cfi_live.spinner.frames[1].pc;
        auto stack = walk(*cfi_modules, fake.source(), registers(cfi_live.spinner.frames[0].pc, x - 0x40, x));
        CHECK(stack.frames.size() == 2);
        CHECK(stack.stopped == unwind::stop_reason::stack_not_increasing);
        CHECK(stack.failure->code == errc::inconsistent);
    }
    SUBCASE("a looping frame-pointer chain without CFI: the fallback refuses it") {
        fake_stack fake{x - 0x40, std::vector<std::uint64_t>(32)};
        fake.words[0x40 / 8] = x;
        fake.words[0x48 / 8] = fp_live.spinner.frames[1].pc;
        auto stack = walk(*fp_modules, fake.source(), registers(fp_live.spinner.frames[0].pc, x - 0x40, x));
        CHECK(stack.frames.size() == 2);
        CHECK(stack.frames[1].found_by == unwind::frame_source::frame_pointer);
        CHECK(stack.stopped == unwind::stop_reason::stack_not_increasing);
    }
    SUBCASE("a zero return address: CFI gives pc 0, which is not the outermost frame") {
        fake_stack fake{x - 0x40, std::vector<std::uint64_t>(32)};
        auto stack = walk(*cfi_modules, fake.source(), registers(cfi_live.spinner.frames[0].pc, x - 0x40, x));
        CHECK(stack.frames.size() == 1);
        CHECK(stack.stopped == unwind::stop_reason::zero_pc);
    }
    SUBCASE("the depth bound") {
        auto memory = memory::live_process::open(with_cfi.pid());
        REQUIRE(memory);
        // The parked thread's registers still hold: it sits in read().
        auto session = ptrace::session::attach(with_cfi.pid());
        REQUIRE(session);
        auto regs = session->registers(with_cfi.parked);
        REQUIRE(regs);
        auto stack = unwind::unwind_thread(*cfi_modules, *memory, regs->general, {.max_frames = 2});
        REQUIRE(session->release());
        REQUIRE(stack);
        CHECK(stack->frames.size() == 2);
        CHECK(stack->stopped == unwind::stop_reason::depth_limit);
        CHECK(stack->failure->code == errc::limit_exceeded);
    }
    SUBCASE("stacks of random words, with pcs in the victim's code and nowhere") {
        std::mt19937_64 random{20261202};
        const std::uint64_t code = cfi_live.spinner.frames[0].pc;
        for (int round = 0; round < 300; ++round) {
            fake_stack fake{x - 0x1000, std::vector<std::uint64_t>(1024)};
            for (auto& word : fake.words) {
                switch (random() % 4) {
                case 0: word = random(); break;
                case 1: word = code + random() % 0x200 - 0x100; break;
                case 2: word = fake.base + random() % 0x2000; break;
                default: word = 0;
                }
            }
            const std::uint64_t rsp = fake.base + (random() % 0x1000 & ~7ull);
            const memory::buffer_source memory = fake.source();
            auto stack = unwind::unwind_thread(*cfi_modules, memory,
                                               registers(round % 2 ? code : random(), rsp, fake.words[random() % 1024]),
                                               {.max_frames = 64});
            REQUIRE(stack);
            CHECK(stack->frames.size() <= 64);
            CHECK(!stack->frames.empty());
            if (!stack->complete()) CHECK(stack->failure.has_value());
        }
    }
}
