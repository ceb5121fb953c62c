// triage-pystack — the Python stack of every thread of a live CPython
// process, read from the outside: no gdb, no debug symbols, no code run in
// the target.
//
//   triage-pystack PID [--nonblocking | --native] [--locals] [--greenlets] [--tasks] [--json] [--cpu-window MS]
//   triage-pystack --core CORE [--exe PATH] [--sysroot DIR] [--lib-search-path DIRS] [--native] [--locals] [--greenlets] [--tasks] [--json]
//
// Blocking (default): every thread is stopped with ptrace for one consistent
// snapshot, and released at once; the output says for how long it was
// stopped. --nonblocking: the target is never stopped; stacks that moved
// while they were read are read again (a few times) and flagged if they
// still disagree.
// Each thread: its kernel tid (and its tid inside the process's PID
// namespace, when that is another one), name, whether it holds the GIL,
// whether it was running or idle, and its CPU use, hottest first; then its
// frames, innermost first, as `function (file:line)`. CPU% is measured over
// a short window (--cpu-window, 10 ms by default; 0 turns it off) before
// the target is touched, never above 100% for one thread; running or idle
// is the thread's state as the window ends.
// --core: the same report from a core file (ours, gdb's gcore, the
// kernel's); "pid" is the pid recorded in the core, the command line is the
// core's (at most 79 bytes), names are known only for the main thread,
// "state" is "unknown" and CPU% null. --exe PATH reads the interpreter
// (python or libpython) from PATH instead of the path the core names; its
// build-id must match the core's. A core from another machine or a
// relocated application (PyInstaller-style): --sysroot DIR is a copy of its
// machine's files, --lib-search-path DIR[:DIR...] directories where its
// objects are found by file name; each file is matched by build-id, and the
// objects found only as another build, or not at all, are named.
// --native: each thread's native (C) stack too, with its Python frames in
// place of the evaluation-loop frames that run them, and the threads that
// run no Python: `[C] function+0x1f in object (file:line)` lines, unwound
// with CFI (frame pointers where an object has none) and named from the
// objects' symbols or their debug files (triage-debuginfo says which).
// Live, the registers and stack bytes are copied in the same stop as the
// Python stacks, and unwound after the release. With --core and --sysroot,
// debug files are looked for under the sysroot too. Line tables are kept
// across runs in $TRIAGE_CACHE_DIR/lines (default ~/.cache/triage/lines;
// TRIAGE_CACHE_DIR= for none).
// --locals: under each frame, its arguments, local variables and cells
// (`arg x = 42`), each value a bounded repr read from the target's memory
// (None, bool, int, float, str and bytes cut with "…", containers as type,
// length and first items, anything else `<Type at 0x…>`); read in the same
// stop as the stacks (--nonblocking: right after them, so a frame that
// moved on may show newer values).
// --greenlets: every greenlet of the process (eventlet, gevent, plain
// greenlet), under its thread's stack: state, parent, and a switched-out
// one's frames (docs/cli.md says which greenlet releases are known).
// --tasks: every pending asyncio task (3.7–3.15), under the thread running
// its loop: name, state, the coroutines it waits in, the tasks it awaits.
// Exit codes: 0 success; 1 the target is not Python, is an unsupported
// version, a zombie, vanished, or cannot be read; 2 usage error.
//
// The work is one library call, cpython::python_stacks (its header shows
// the staged pipeline underneath); the report is printed by report/.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "triage/base/path.hpp"
#include "triage/elf/line_cache.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/pystack_json.hpp"
#include "triage/report/pystack_text.hpp"

namespace {

using namespace triage;

struct options {
    pid_t pid = 0;
    bool nonblocking = false;
    bool native = false;
    bool locals = false;
    bool greenlets = false;
    bool tasks = false;
    bool json = false;
    int cpu_window_ms = 10;
    std::string core;  // --core: read a core file instead of a process
    std::optional<std::string> exe;
    std::string sysroot;
    std::string lib_search_path;  // DIR[:DIR...]
};


int run(int argc, char** argv) {
    report::command_line cli{"triage-pystack",
                             "Python stacks of every thread of a live CPython process (2.7, 3.6-3.15), read from outside, "
                             "or of a core file"};
    options opt;
    auto pid = cli.pid("pid", opt.pid, "process id of the Python process");
    auto core = cli.add("--core", opt.core, "read the stacks from this core file instead of a process").excludes(pid);
    cli.add("--exe", opt.exe, "with --core: read the interpreter (python or libpython) from this file").needs(core);
    auto nonblocking = cli.flag("--nonblocking", opt.nonblocking, "never stop the target (stacks may be torn; they are re-read)")
                           .excludes(core);
    cli.flag("--native", opt.native,
             "also the native (C) frames, Python frames in place of the interpreter's, and threads without Python")
        .excludes(nonblocking);
    cli.add("--sysroot", opt.sysroot,
            "with --core: a copy of its machine's files; the objects it names and their debug files are found under it")
        .needs(core);
    cli.add("--lib-search-path", opt.lib_search_path,
            "with --core: directories (DIR[:DIR...]) where the objects it names are found by file name")
        .needs(core);
    cli.flag("--locals", opt.locals, "also each frame's arguments and local variables, with bounded reprs");
    cli.flag("--greenlets", opt.greenlets, "also every greenlet (eventlet, gevent): its state and a suspended one's stack");
    cli.flag("--tasks", opt.tasks, "also every asyncio task: its state, the coroutines it waits in, the tasks it awaits");
    cli.flag("--json", opt.json, "print one JSON document");
    cli.add("--cpu-window", opt.cpu_window_ms, "milliseconds over which CPU use is measured (0: off)")
        .range(0, 60000)
        .excludes(core);
    cli.require_one_of(pid, core, "a pid or --core");
    if (auto code = cli.parse(argc, argv)) return *code;

    auto stacks = core.given()
                      ? cpython::python_stacks(opt.core, {.exe = opt.exe,
                                                         .native = opt.native,
                                                         .sysroot = opt.sysroot,
                                                         .lib_search_path = split_path_list(opt.lib_search_path),
                                                         .line_cache_directory = elf::default_line_cache_directory(),
                                                         .locals = opt.locals,
                                                         .greenlets = opt.greenlets,
                                                         .tasks = opt.tasks})
                      : cpython::python_stacks(opt.pid, {.nonblocking = opt.nonblocking,
                                                         .cpu_window = std::chrono::milliseconds{opt.cpu_window_ms},
                                                         .native = opt.native,
                                                         .line_cache_directory = elf::default_line_cache_directory(),
                                                         .locals = opt.locals,
                                                         .greenlets = opt.greenlets,
                                                         .tasks = opt.tasks});
    if (!stacks) return report::print_failure(cli.program(), stacks.error());
    if (opt.json) {
        fmt::print("{}\n", report::to_json_text(*stacks));
    } else {
        fmt::print("{}", report::to_text(*stacks));
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    return triage::report::run_program("triage-pystack", [&] { return run(argc, argv); });
}
