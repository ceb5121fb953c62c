// triage/report/debuginfo_report.hpp — for each object a process (or a core)
// runs code from: is it the file on disk, where its function names and DWARF
// come from, and what to install when they are missing (triage-debuginfo).
//
// Offers:
//  - `debuginfo_of_process(pid, options)`: the process's code objects
//    (elf::mapped_objects, executable ones), each with the build-id read
//    from its mapped first page in the target's memory (what runs; the
//    mapped file's when the page is unreadable), the file now at its path
//    compared with it ("replaced on disk" when the build-ids differ), and
//    elf::locate_debug_info under /proc/PID/root.
//  - `debuginfo_of_core(core, options)`: the same for a core's NT_FILE
//    objects: the build-id the core holds for each (its first page, when
//    dumped), the local file (under `options.locator.root` as a sysroot,
//    or an `options.substitutes` path) compared with it.
//  - each `debuginfo_object` also names, on Debian (options.packages), the
//    installed package that owns the path and, when DWARF is missing, the
//    debug package to install: the first of debug_package_candidates that
//    apt knows, pinned to the installed version when the file on disk is
//    the running build ("version unknown" when it was replaced), else the
//    -dbgsym package of the debian-debug archive.
//  - `summary`: code objects, how many have full function names (.symtab)
//    and file:line (DWARF), and `native_symbolised` — "all", "partly",
//    "none" — with one line that says so and names what is missing.
// Errors: mapped_objects' (no_such_process, permission_denied) and
// core_file::open's; an object that cannot be opened is a row with `error`.
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc/PID/maps,
// the first page of each object through process_vm_readv, and files under
// /proc/PID/root; never stopped.
//
//   auto r = TRIAGE_TRY(triage::report::debuginfo_of_process(pid));
//   std::cout << r.summary.line << '\n';  // "native stacks will be symbolised: ..."
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/debug_file_locator.hpp"
#include "triage/report/debian_packages.hpp"

namespace triage::report {

struct debuginfo_object {
    std::string path;          // as the process names it
    bool deleted = false;      // "(deleted)" in maps
    std::string on_disk;       // "same", "replaced on disk", "missing on disk", "not verified" (no build-id to compare)
    std::string build_id;      // hex, of the running code; "" none
    std::string build_id_from;  // "memory" (the target's or the core's copy of its first page) or "file"
    std::string disk_build_id;  // hex, of the file now at the path, when it differs
    elf::debug_info_location debug;
    std::string error;  // the object could not be read: no debug search was made
    std::optional<debian_package> package;
    std::string install;  // what to install for its DWARF (empty: nothing needed or not Debian)
};

struct debuginfo_summary {
    std::size_t code_objects = 0;
    std::size_t with_symbols = 0;  // .symtab found
    std::size_t with_dwarf = 0;    // .debug_info found
    std::string native_symbolised;  // "all", "partly", "none"
    std::string line;
};

struct debuginfo_report {
    pid_t pid = 0;        // the process, or the pid recorded in the core
    std::string core;     // the core's path; empty for a live process
    std::string command;  // its command line (psargs for a core)
    std::vector<debuginfo_object> objects;
    debuginfo_summary summary;
};

struct debuginfo_options {
    elf::locator_options locator;  // for a core, `root` is the sysroot its paths are found under
    bool packages = true;          // name Debian packages (dpkg database, apt-cache)
    std::vector<std::pair<std::string, std::string>> substitutes;  // core: {path in the core, local file}
    std::string exe;  // core: the local file of its executable (the object holding AT_ENTRY)
    std::vector<std::string> search_path{};  // core: directories its files are then looked for in, by name
};

[[nodiscard]] TRIAGE_DECL result<debuginfo_report> debuginfo_of_process(pid_t pid, const debuginfo_options& options = {});

[[nodiscard]] TRIAGE_DECL result<debuginfo_report> debuginfo_of_core(const std::string& core,
                                                                     const debuginfo_options& options = {});

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/debuginfo_report.ipp"
#endif
