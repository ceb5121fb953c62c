// The native unwinder on real processes, checked by oracles we did not
// write: the chain victim built with frame pointers and CFI, with CFI only,
// and with frame pointers only unwinds to the functions eu-stack and gdb
// name, in order, to the thread's first frame; each frame says whether CFI
// or the frame-pointer chain found it; symbols, offsets and lines agree
// with the ELF symbol table; a deleted binary still unwinds and symbolises
// (through /proc/PID/map_files); a signal handler on an alternate stack
// unwinds through __restore_rt back to the interrupted frames; every victim
// runs on afterwards.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "coredump/victim_checks.hpp"
#include "support/failure_text.hpp"
#include "support/scratch_dir.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/symbolize.hpp"
#include "triage/unwind/unwinder.hpp"
#include "unwind/unwind_checks.hpp"

using triage::test_support::failure_text;

using namespace triage;
using unwind_test::chain_victim;

namespace {

const std::vector<std::string> chain{"inner", "middle", "outer", "main"};
const std::vector<std::string> victim_functions{"inner", "middle", "outer", "main", "parked_inner", "parked_outer",
                                                "parked_start"};

} // namespace

TEST_CASE("the chain victim unwinds as eu-stack and gdb unwind it, in each build") {
    for (const std::string variant : {"fp_cfi", "nofp_cfi", "fp_nocfi"}) {
        CAPTURE(variant);
        chain_victim v{unwind_test::chain_program(variant)};
        const auto eu = unwind_test::eu_stack_names(v.pid());
        const auto gdb = unwind_test::gdb_names(v.pid());

        auto modules = unwind::module_set::of_process(v.pid());
        REQUIRE_MESSAGE(modules, failure_text(modules));
        CHECK(modules->skipped().empty());
        const auto stacks = unwind_test::unwind_live(*modules, v);

        const auto spinner = unwind_test::function_names(*modules, stacks.spinner);
        const auto parked = unwind_test::function_names(*modules, stacks.parked);
        const std::string spinner_line = unwind_test::joined(spinner), parked_line = unwind_test::joined(parked);
        CAPTURE(spinner_line);
        CAPTURE(parked_line);
        CHECK(stacks.spinner.complete());
        CHECK(stacks.parked.complete());
        REQUIRE(spinner.size() >= 5);
        CHECK(std::vector(spinner.begin(), spinner.begin() + 4) == chain);
        CHECK(spinner.back() == "_start");
        CHECK(unwind_test::only(parked, victim_functions) ==
              std::vector<std::string>{"parked_inner", "parked_outer", "parked_start"});
        CHECK(parked.back() == "__clone3");

        // The oracles: eu-stack names every frame as we do (same symbol
        // tables); gdb (its own unwinder, DWARF names: __GI___libc_read for
        // read) lists the frames both name in the same order, and all of
        // the victim's own.
        REQUIRE(eu.count(v.spinner) == 1);
        REQUIRE(eu.count(v.parked) == 1);
        CHECK(eu.at(v.spinner) == spinner);
        CHECK(eu.at(v.parked) == parked);
        REQUIRE(gdb.count(v.spinner) == 1);
        REQUIRE(gdb.count(v.parked) == 1);
        for (const auto& [tid, ours] : {std::pair{v.spinner, spinner}, std::pair{v.parked, parked}}) {
            CAPTURE(tid);
            const auto& theirs = gdb.at(tid);
            CHECK(unwind_test::only(theirs, victim_functions) == unwind_test::only(ours, victim_functions));
            const auto common = unwind_test::only(ours, theirs);
            CHECK(unwind_test::only(theirs, ours) == common);
            CHECK(common.size() >= 4);
        }

        // How each frame was found: the innermost from the registers; the
        // callers of our functions by CFI, or by frame pointer where the
        // build has no CFI for them (the callers of libc's read by CFI).
        const bool has_cfi = variant != "fp_nocfi";
        const auto expected = has_cfi ? unwind::frame_source::cfi : unwind::frame_source::frame_pointer;
        CHECK(stacks.spinner.frames[0].found_by == unwind::frame_source::initial_registers);
        CHECK(stacks.spinner.frames[0].activation);
        for (std::size_t i = 1; i < 4; ++i) {
            CAPTURE(i);
            CHECK(stacks.spinner.frames[i].found_by == expected);
            CHECK(!stacks.spinner.frames[i].activation);
            CHECK(stacks.spinner.frames[i].stack_pointer > stacks.spinner.frames[i - 1].stack_pointer);
        }
        CHECK(stacks.parked.frames[1].found_by == unwind::frame_source::cfi);  // parked_inner, below libc's read
        CHECK(stacks.parked.frames[2].found_by == expected);                   // parked_outer

        // Symbols: inner's start is the ELF symbol's; lines where -g was given.
        auto objects = elf::mapped_objects(v.pid());
        REQUIRE(objects);
        std::uint64_t inner_start = 0;
        for (const auto& object : *objects) {
            if (object.path != unwind_test::chain_program(variant) || !object.executable()) continue;
            auto file = elf::open_mapped(object);
            REQUIRE(file);
            auto symbol = file->find_symbol("inner");
            REQUIRE(symbol);
            inner_start = object.runtime_address(symbol->value);
        }
        const auto top = unwind::symbolize(*modules, stacks.spinner.frames[0]);
        CHECK(top.object == unwind_test::chain_program(variant));
        CHECK(top.function == "inner");
        CHECK(stacks.spinner.frames[0].pc - top.offset == inner_start);
        if (variant == "fp_nocfi") {
            CHECK(top.file.empty());
        } else {
            CHECK(top.file.ends_with("unwind_chain.c"));
            CHECK(top.line > 20);
        }
        CHECK(coredump_test::running_freely(v));
    }
}

TEST_CASE("a deleted binary unwinds and symbolises through /proc/PID/map_files") {
    test_support::scratch_dir dir{"unwind"};
    const std::string copy = dir / "unwind_chain_deleted";
    std::filesystem::copy_file(unwind_test::chain_program("nofp_cfi"), copy);
    chain_victim deleted{copy};
    std::filesystem::remove(copy);
    auto modules = unwind::module_set::of_process(deleted.pid());
    REQUIRE_MESSAGE(modules, failure_text(modules));
    CHECK(modules->skipped().empty());
    bool seen = false;
    for (const auto& object : modules->objects()) seen |= object.deleted && object.path == copy;
    CHECK(seen);

    auto memory = memory::live_process::open(deleted.pid());
    REQUIRE(memory);
    auto session = ptrace::session::attach(deleted.pid());
    REQUIRE(session);
    auto regs = session->registers(deleted.pid());
    REQUIRE(regs);
    auto stack = unwind::unwind_thread(*modules, *memory, regs->general);
    REQUIRE(session->release());
    REQUIRE(stack);
    CHECK(stack->complete());
    auto names = unwind_test::function_names(*modules, *stack);
    const std::string names_line = unwind_test::joined(names);
    CAPTURE(names_line);
    REQUIRE(names.size() >= 4);
    CHECK(std::vector(names.begin(), names.begin() + 4) == chain);
    CHECK(coredump_test::running_freely(deleted));
}

TEST_CASE("a handler on a sigaltstack unwinds through __restore_rt to the interrupted thread, as eu-stack") {
    chain_victim v{unwind_test::chain_program("nofp_cfi"), "signal"};
    REQUIRE(v.signalled != 0);
    const auto eu = unwind_test::eu_stack_names(v.pid());
    auto modules = unwind::module_set::of_process(v.pid());
    REQUIRE_MESSAGE(modules, failure_text(modules));
    auto memory = memory::live_process::open(v.pid());
    REQUIRE(memory);
    auto session = ptrace::session::attach(v.pid());
    REQUIRE(session);
    auto regs = session->registers(v.signalled);
    REQUIRE(regs);
    auto stack = unwind::unwind_thread(*modules, *memory, regs->general);
    REQUIRE(session->release());
    REQUIRE(stack);
    const auto names = unwind_test::function_names(*modules, *stack);
    const std::string names_line = unwind_test::joined(names);
    CAPTURE(names_line);
    CHECK(stack->complete());
    REQUIRE(eu.count(v.signalled) == 1);
    CHECK(eu.at(v.signalled) == names);
    const std::vector<std::string> expected{"handler_inner", "on_signal", "__restore_rt", "signalled_outer",
                                            "signalled_start"};
    CHECK(unwind_test::only(names, expected) == expected);
    // The frame __restore_rt returns to was interrupted, not called: an
    // activation, on the thread's own stack, far from the alternate one.
    auto restorer = std::find(names.begin(), names.end(), "__restore_rt");
    REQUIRE(restorer + 1 < names.end());
    const auto& interrupted = stack->frames[static_cast<std::size_t>(restorer - names.begin()) + 1];
    CHECK(interrupted.activation);
    CHECK(interrupted.found_by == unwind::frame_source::cfi);
    CHECK(coredump_test::running_freely(v));
}

TEST_CASE("line tables kept across runs: a second module set loads the first one's and names the same lines") {
    test_support::scratch_dir dir{"unwind-lines"};
    const std::string cache = dir / "lines";
    chain_victim v{unwind_test::chain_program("fp_cfi")};
    auto memory = memory::live_process::open(v.pid());
    REQUIRE(memory);
    auto session = ptrace::session::attach(v.pid());
    REQUIRE(session);
    auto regs = session->registers(v.pid());
    REQUIRE(regs);
    auto first = unwind::module_set::of_process(v.pid(), {.find_debug_file = {}, .line_cache_directory = cache});
    REQUIRE(first);
    auto stack = unwind::unwind_thread(*first, *memory, regs->general);
    REQUIRE(session->release());
    REQUIRE(stack);
    REQUIRE(!stack->frames.empty());
    auto lines_of = [&](unwind::module_set& modules) {
        std::vector<std::string> out;
        for (const auto& frame : stack->frames) {
            const auto s = unwind::symbolize(modules, frame);
            out.push_back(s.function + " " + s.file + ":" + std::to_string(s.line));
        }
        return out;
    };
    const auto uncached = lines_of(*first);
    CHECK(uncached.front().find("unwind_chain.c:") != std::string::npos);
    // The victim's table (and libc's, where its debug file is installed) was saved, by build-id.
    std::vector<std::string> saved;
    for (const auto& entry : std::filesystem::directory_iterator(cache)) saved.push_back(entry.path().filename());
    CAPTURE(unwind_test::joined(saved));
    auto program = elf::file::open(unwind_test::chain_program("fp_cfi"));
    REQUIRE(program);
    auto build_id = program->build_id();
    REQUIRE(build_id);
    CHECK(std::count(saved.begin(), saved.end(), elf::build_id_hex(*build_id) + ".lines") == 1);

    auto second = unwind::module_set::of_process(v.pid(), {.find_debug_file = {}, .line_cache_directory = cache});
    REQUIRE(second);
    CHECK(lines_of(*second) == uncached);
    // A cache file that is not a table is read again and replaced.
    for (const auto& name : saved) std::filesystem::resize_file(dir / ("lines/" + name), 100);
    auto third = unwind::module_set::of_process(v.pid(), {.find_debug_file = {}, .line_cache_directory = cache});
    REQUIRE(third);
    CHECK(lines_of(*third) == uncached);
    for (const auto& name : saved) CHECK(std::filesystem::file_size(dir / ("lines/" + name)) > 100);
    CHECK(coredump_test::running_freely(v));
}
