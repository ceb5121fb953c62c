// Native stacks of CPython interpreters spinning in a Python loop: Debian's
// stripped, static /usr/bin/python3.11 (its symbols come from
// python3.11-dbg's debug file, found by build-id under /usr/lib/debug) and
// a pyenv build (shared libpython with DWARF) unwind through
// _PyEval_EvalFrameDefault down to Py_BytesMain (main's tail call) and _start, naming the frames
// eu-stack names; the module set's debug-file hook is asked for the
// interpreter and what it returns is used, a path that does not open
// falling back to the standard search.
#include <doctest/doctest.h>

#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "coredump/victim_checks.hpp"
#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/unwinder.hpp"
#include "unwind/unwind_checks.hpp"

using triage::test_support::failure_text;

using namespace triage;

namespace {

const char* const spin = "print('ready', flush=True)\nwhile True:\n    pass\n";

// The main thread of `pid` unwound live, as function names.
std::vector<std::string> main_thread_names(unwind::module_set& modules, pid_t pid) {
    auto memory = unwind_test::value_of(memory::live_process::open(pid), "opening memory");
    auto session = unwind_test::value_of(ptrace::session::attach(pid), "attaching");
    auto regs = unwind_test::value_of(session.registers(pid), "reading registers");
    auto stack = unwind_test::value_of(unwind::unwind_thread(modules, memory, regs.general), "unwinding");
    (void)session.release();
    CHECK(stack.complete());
    return unwind_test::function_names(modules, stack);
}

// From the first _PyEval_EvalFrameDefault on: the part of a spinning
// interpreter's stack that does not move between two stops.
std::vector<std::string> from_eval_loop(const std::vector<std::string>& names) {
    auto at = std::find(names.begin(), names.end(), "_PyEval_EvalFrameDefault");
    return {at, names.end()};
}

void check_interpreter(const std::string& python) {
    CAPTURE(python);
    test_support::victim v{{python, "-c", spin}};
    const auto eu = unwind_test::eu_stack_names(v.pid());
    auto modules = unwind::module_set::of_process(v.pid());
    REQUIRE_MESSAGE(modules, failure_text(modules));
    const auto names = main_thread_names(*modules, v.pid());
    const std::string names_line = unwind_test::joined(names);
    CAPTURE(names_line);
    const auto tail = from_eval_loop(names);
    REQUIRE(tail.size() >= 4);
    CHECK(std::find(tail.begin(), tail.end(), "Py_BytesMain") != tail.end());  // main tail-calls it
    CHECK(std::find(tail.begin(), tail.end(), "__libc_start_call_main") != tail.end());
    CHECK(tail.back() == "_start");
    REQUIRE(eu.count(v.pid()) == 1);
    CHECK(from_eval_loop(eu.at(v.pid())) == tail);
    CHECK(coredump_test::running_freely(v));
}

} // namespace

TEST_CASE("Debian's stripped python3.11 and a pyenv build unwind through the eval loop as eu-stack does") {
    REQUIRE(std::filesystem::exists("/usr/bin/python3.11"));
    check_interpreter("/usr/bin/python3.11");
    const auto pyenv = test_support::pyenv_interpreters();
    REQUIRE_MESSAGE(!pyenv.empty(), "no pyenv build found under " << test_support::pyenv_root().string());
    auto chosen = std::find_if(pyenv.begin(), pyenv.end(), [](const auto& p) { return p.major == 3 && p.minor == 11; });
    if (chosen == pyenv.end()) chosen = std::prev(pyenv.end());
    MESSAGE("pyenv build covered: " << chosen->label);
    check_interpreter(chosen->path);
}

TEST_CASE("the debug-file hook is asked for the interpreter; its file is used; one that does not open falls back") {
    test_support::scratch_dir dir{"unwind"};
    test_support::victim v{{"/usr/bin/python3.11", "-c", spin}};
    auto objects = elf::mapped_objects(v.pid());
    REQUIRE(objects);
    auto python = std::find_if(objects->begin(), objects->end(),
                               [](const auto& o) { return o.path == "/usr/bin/python3.11" && o.executable(); });
    REQUIRE(python != objects->end());
    auto file = elf::open_mapped(*python);
    REQUIRE(file);
    auto id = file->build_id();
    REQUIRE(id);
    std::string hex_id;
    for (std::byte b : *id) {
        char two[3];
        std::snprintf(two, sizeof two, "%02x", static_cast<unsigned>(b));
        hex_id += two;
    }
    const std::string standard = "/usr/lib/debug/.build-id/" + hex_id.substr(0, 2) + "/" + hex_id.substr(2) + ".debug";
    REQUIRE(std::filesystem::exists(standard));
    // A link of our own to the same debug file: libdwfl names the file it opened.
    const std::string ours = dir / "python3.11.debug";
    std::filesystem::create_symlink(standard, ours);

    for (const bool opens : {true, false}) {
        CAPTURE(opens);
        std::vector<std::string> asked;
        unwind::module_set_options options;
        options.find_debug_file = [&](const elf::mapped_object& object) -> std::optional<std::string> {
            asked.push_back(object.path);
            if (object.path != "/usr/bin/python3.11") return std::nullopt;
            return opens ? ours : dir / "missing.debug";
        };
        auto modules = unwind::module_set::of_process(v.pid(), options);
        REQUIRE(modules);
        const auto names = main_thread_names(*modules, v.pid());
        CHECK(std::find(asked.begin(), asked.end(), "/usr/bin/python3.11") != asked.end());
        CHECK(std::find(names.begin(), names.end(), "_PyEval_EvalFrameDefault") != names.end());
        Dwfl_Module* module = ::dwfl_addrmodule(modules->handle(), python->low);
        REQUIRE(module != nullptr);
        const char* debug_file = nullptr;
        (void)::dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &debug_file);
        REQUIRE(debug_file != nullptr);
        CHECK(std::string{debug_file} == (opens ? ours : standard));
    }
}
