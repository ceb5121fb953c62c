// triage-stackdiff — which Python threads moved between two cores of one
// process (written minutes apart: is it stuck, or slowly progressing?).
//   triage-stackdiff CORE_A CORE_B [--exe PATH]
// Reads the Python stacks of each core (cpython::python_stacks(core)),
// then prints every thread that appeared, vanished or is elsewhere, with
// its frames before and after (innermost first), and how many did not
// move. Exit codes: 0 printed (whether or not they differ); 1 a core could
// not be read; 2 usage error.
#include <optional>
#include <string>

#include <fmt/core.h>

#include "triage/base/escape.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/python_format.hpp"
#include "triage/report/stack_diff.hpp"

int main(int argc, char** argv) {
    using namespace triage;
    report::command_line cli{"triage-stackdiff", "Python threads that moved between two cores of one process."};
    std::string core_a, core_b;
    std::optional<std::string> exe;
    cli.add("core_a", core_a, "the earlier core").required();
    cli.add("core_b", core_b, "the later core").required();
    cli.add("--exe", exe, "read the interpreter (python or libpython) from this file");
    if (auto code = cli.parse(argc, argv)) return *code;

    return report::run_program(cli.program(), [&] {
        auto a = cpython::python_stacks(core_a, {.exe = exe});
        if (!a) return report::print_failure(cli.program(), a.error());
        auto b = cpython::python_stacks(core_b, {.exe = exe});
        if (!b) return report::print_failure(cli.program(), b.error());
        const auto diff = report::diff_stacks(*a, *b);
        fmt::print("{} -> {}: {} threads the same, {} moved, appeared or vanished\n", escape_controls(core_a),
                   escape_controls(core_b), diff.same, diff.changes.size());
        for (const auto& c : diff.changes) {
            const auto& t = c.after ? *c.after : *c.before;
            fmt::print("\nThread {} ({:#x}) {}\n", t.tid ? std::to_string(*t.tid) : "?", t.python_ident,
                       !c.before ? "appeared" : !c.after ? "vanished" : "moved");
            for (const auto* side : {&c.before, &c.after}) {
                if (!*side) continue;
                fmt::print("  {}:\n", side == &c.before ? "before" : "after");
                for (const auto& f : (*side)->frames) fmt::print("    {}\n", f);
            }
        }
        return 0;
    });
}
