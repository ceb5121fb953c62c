// triage-debuginfo — for each object a process (or a core) runs code from:
// is it still the file on disk, where its function names and DWARF come
// from, and what to install when they are missing.
//
//   triage-debuginfo PID [--json] [--verbose] [--no-debuginfod] [--debuginfod-budget MS]
//   triage-debuginfo --core CORE [--exe PATH] [--sysroot DIR] [--lib-search-path DIRS] [--json] [--verbose]
//
// One block per code object (report/debuginfo_text.hpp): the build-id of
// the running code, read from the target's memory (so a binary replaced on
// disk since it started shows as "replaced on disk", with both build-ids);
// the file its full symbols (.symtab) and its DWARF come from, and the way
// it was found: in the object itself, by build-id under /usr/lib/debug,
// by .gnu_debuglink with the CRC checked (a debug file of another build is
// named with both CRCs and not used), or from debuginfod when
// DEBUGINFOD_URLS is set (at most --debuginfod-budget ms, 30000; progress
// on stderr for downloads). A live process's files are looked up under
// /proc/PID/root: a process in a container resolves its own. On Debian, the
// package that installed the object and the debug package to install, at
// the version of the running build. The first line after the header says
// whether native stacks will be symbolised. --verbose lists every place
// tried; --json prints one document (docs/cli.md).
// --core reads a core file (ours, gcore's, the kernel's): the build-ids the
// core holds, the local files (under --sysroot DIR when the core comes from
// another machine; --exe PATH for its executable) compared with them.
// The target is never stopped: its maps, the first page of each object and
// its files are read.
// Exit codes: 0 success; 1 the process or core could not be read; 2 usage error.
#include <sys/types.h>

#include <chrono>
#include <string>

#include <fmt/core.h>
#include <unistd.h>

#include "triage/base/path.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/debuginfo_json.hpp"
#include "triage/report/debuginfo_report.hpp"
#include "triage/report/debuginfo_text.hpp"

namespace {

using namespace triage;

int run(int argc, char** argv) {
    report::command_line cli{"triage-debuginfo",
                             "Where each loaded object's symbols and debug information come from, and what to install."};
    pid_t pid = 0;
    std::string core;
    std::string exe;
    std::string sysroot;
    bool json = false;
    bool verbose = false;
    bool no_debuginfod = false;
    int budget_ms = 30'000;
    auto process = cli.pid("pid", pid, "process id");
    auto from_core = cli.add("--core", core, "read a core file instead of a process").excludes(process);
    cli.add("--exe", exe, "with --core: the local copy of its executable").needs(from_core);
    cli.add("--sysroot", sysroot, "with --core: the directory its paths are found under (a copy of its machine's files)")
        .needs(from_core);
    std::string search_path;
    cli.add("--lib-search-path", search_path,
            "with --core: directories (DIR[:DIR...]) where the files it names are found by file name")
        .needs(from_core);
    cli.require_one_of(process, from_core, "a pid or --core");
    cli.flag("--no-debuginfod", no_debuginfod, "never ask debuginfod servers (even with DEBUGINFOD_URLS set)");
    cli.add("--debuginfod-budget", budget_ms, "give up on debuginfod servers after this many ms in all")
        .range(100, 3'600'000);
    cli.flag("--verbose", verbose, "list every place tried");
    cli.flag("--json", json, "print one JSON document");
    if (auto code = cli.parse(argc, argv)) return *code;

    report::debuginfo_options options;
    options.locator.debuginfod = !no_debuginfod;
    options.locator.debuginfod_budget = std::chrono::milliseconds{budget_ms};
    bool progress_shown = false;
    if (::isatty(STDERR_FILENO)) {
        options.locator.debuginfod_progress = [&](long done, long total) {
            if (total <= 1 << 20) return;
            fmt::print(stderr, "\rtriage-debuginfo: downloading a debug file: {} of {} MiB", done >> 20, total >> 20);
            progress_shown = true;
        };
    }
    if (!sysroot.empty()) options.locator.root = sysroot;
    options.exe = exe;
    options.search_path = split_path_list(search_path);
    auto r = from_core.given() ? report::debuginfo_of_core(core, options) : report::debuginfo_of_process(pid, options);
    if (progress_shown) fmt::print(stderr, "\n");
    if (!r) return report::print_failure(cli.program(), r.error());
    fmt::print("{}", json ? report::to_json_text(*r) + "\n" : report::to_text(*r, verbose));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    return triage::report::run_program("triage-debuginfo", [&] { return run(argc, argv); });
}
