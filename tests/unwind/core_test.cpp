// Unwinding the threads of a core file, with the core as the memory source
// and the modules of its NT_FILE notes: a core our writer made
// (coredump::dump_process) and one gdb's gcore made of the same victim give
// the frames of the live process (the parked thread to the byte: it sits
// in read(); the spinning one to the same functions), and the functions
// eu-stack --core names.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "coredump/victim_checks.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/unwinder.hpp"
#include "unwind/unwind_checks.hpp"

using triage::test_support::failure_text;

using namespace triage;

TEST_CASE("cores by our writer and by gcore unwind to the live frames and to eu-stack --core's") {
    test_support::scratch_dir dir{"unwind"};
    const std::string program = unwind_test::chain_program("fp_cfi");
    unwind_test::chain_victim v{program};

    auto live_modules = unwind::module_set::of_process(v.pid());
    REQUIRE_MESSAGE(live_modules, failure_text(live_modules));
    const auto live = unwind_test::unwind_live(*live_modules, v);
    const auto live_spinner = unwind_test::function_names(*live_modules, live.spinner);
    const auto live_parked = unwind_test::function_names(*live_modules, live.parked);

    const std::string ours = dir / "ours.core";
    coredump::dump_options options;
    options.first_tid = v.spinner;
    auto report = coredump::dump_process(v.pid(), ours, options);
    REQUIRE_MESSAGE(report, failure_text(report));
    auto gcore = test_support::run_command({"gcore", "-o", dir / "gdb", std::to_string(v.pid())});
    REQUIRE_MESSAGE(gcore.exit_code == 0, gcore.err);
    const std::string theirs = dir / ("gdb." + std::to_string(v.pid()));
    CHECK(coredump_test::running_freely(v));

    for (const std::string& path : {ours, theirs}) {
        CAPTURE(path);
        auto core = coredump::core_file::open(path);
        REQUIRE_MESSAGE(core, failure_text(core));
        REQUIRE(core->process());
        auto modules = unwind::module_set::build(elf::group_mapped_objects(core->maps(), 0), core->process()->pid);
        REQUIRE_MESSAGE(modules, failure_text(modules));
        CHECK(modules->skipped().empty());

        auto eu = test_support::run_command({"eu-stack", "--core", path, "-e", program});
        REQUIRE_MESSAGE(eu.exit_code == 0, eu.err);
        const auto oracle = unwind_test::parse_eu_stack(eu.out);

        std::size_t compared = 0;
        for (const auto& thread : core->threads()) {
            CAPTURE(thread.tid);
            auto stack = unwind::unwind_thread(*modules, *core, thread.general);
            REQUIRE_MESSAGE(stack, failure_text(stack));
            CHECK(stack->complete());
            const auto names = unwind_test::function_names(*modules, *stack);
            const std::string names_line = unwind_test::joined(names);
            CAPTURE(names_line);
            REQUIRE(oracle.count(thread.tid) == 1);
            CHECK(oracle.at(thread.tid) == names);
            if (thread.tid == v.parked) {
                CHECK(stack->frames == live.parked.frames);
                CHECK(names == live_parked);
                ++compared;
            } else if (thread.tid == v.spinner) {
                CHECK(names == live_spinner);
                ++compared;
            }
        }
        CHECK(compared == 2);
    }
}
