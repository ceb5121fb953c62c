// triage/elf/debug_file_locator.hpp — where a loaded object's function names
// and DWARF come from, found the ways gdb and elfutils look, with every way
// tried and why it failed.
//
// Offers `locate_debug_info(object, options)` → `debug_info_location`:
//  - `symbols`: the file whose .symtab names the object's functions (the
//    object itself when not stripped, else a debug file); empty when only
//    .dynsym is left (exported names only).
//  - `dwarf`: the file with .debug_info (types, file:line), and
//    `alternate`: the dwz file its .gnu_debugaltlink names, when found.
//  - `attempts`: each place tried, in order, with its outcome ("found",
//    "no such file", "CRC mismatch: the file's CRC is 0x…, .gnu_debuglink
//    expects 0x…", "build-id mismatch", "no .debug_info"...).
// The ways, in gdb's order (a way is tried while the symbols or the DWARF
// are still missing):
//  1. embedded: .symtab and .debug_info in the object itself;
//  2. build-id: DIR/.build-id/xx/yyyy.debug for each debug directory
//     (default /usr/lib/debug), accepted when its build-id is the object's;
//  3. .gnu_debuglink: NAME next to the object, in its .debug/, and in
//     DIR/<the object's directory>/, accepted when its CRC-32 is the one the
//     link records (a debug file for another build is the classic trap: it
//     is named, with both CRCs, and not used);
//  4. debuginfod (elf/debuginfod_fetch.hpp), only when DEBUGINFOD_URLS is
//     set and `options.debuginfod` allows, within `options.debuginfod_budget`.
// The DWARF file's .gnu_debugaltlink is then resolved: the path it records
// (relative to the DWARF file's directory), else DIR/.build-id/xx/yyyy.debug
// by the alternate's build-id, else debuginfod; accepted when the build-id
// matches.
// Paths the process names (its object, its debug directories) are looked
// up under `options.root` — /proc/PID/root for a live process, so a
// process in a container or chroot resolves its own files (pystack #327) —
// then, when `options.host_debug_directories`, the debug directories are
// tried from our own root as well (debug packages installed on the host).
// `object.build_id` should come from the target's memory (elf::
// build_id_in_image): when the file on disk was replaced, a debug file
// matching the disk's build-id must not be taken for the running code; and
// with `object.other_build` (the only file at hand is another build) its
// own sections and its .gnu_debuglink are not used either.
// Errors: only opening the object itself fails (errc::not_found,
// permission_denied, malformed); every other failure is an attempt's
// outcome.
// Thread-safe: yes (distinct calls). Signal-safe: no. Target process: none
// touched (reads files, under /proc/PID/root when asked).
//
//   auto where = TRIAGE_TRY(triage::elf::locate_debug_info(
//       {.path = "/usr/bin/python3.11", .opened = object.readable_path, .build_id = id},
//       {.root = "/proc/" + std::to_string(pid) + "/root"}));
//   if (where.dwarf.empty()) for (auto& a : where.attempts) std::cout << a.path << ": " << a.outcome << '\n';
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/path.hpp"
#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/debuginfod_fetch.hpp"

namespace triage::elf {

enum class debug_way : unsigned char { embedded, build_id, debuglink, debuginfod };

[[nodiscard]] constexpr std::string_view to_string(debug_way way) noexcept {
    switch (way) {
    case debug_way::embedded: return "embedded";
    case debug_way::build_id: return "build-id";
    case debug_way::debuglink: return "debuglink";
    case debug_way::debuginfod: return "debuginfod";
    }
    return "?";
}

struct debug_attempt {
    debug_way way = debug_way::embedded;
    std::string path;     // the file tried (a URL list for debuginfod)
    std::string outcome;  // "found" or why it was not used
    bool used = false;
};

struct debug_info_location {
    std::string symbols;  // has .symtab; empty: .dynsym only
    debug_way symbols_from = debug_way::embedded;
    std::string dwarf;  // has .debug_info; empty: none found
    debug_way dwarf_from = debug_way::embedded;
    std::string alternate;  // the dwz file of `dwarf`, when it names one and it was found
    bool alternate_missing = false;  // `dwarf` names a dwz file that was not found: its DWARF is incomplete
    std::vector<debug_attempt> attempts;
};

struct debugged_object {
    std::string path{};    // as the process names it (/proc/PID/maps, NT_FILE)
    std::string opened{};  // where to read its bytes (/proc/PID/map_files/..., a local copy); empty: root + path
    std::vector<std::byte> build_id{};  // of the running code (target memory); empty: unknown
    bool other_build = false;  // `opened` is not the running build (replaced on disk): only build-id ways apply
};

struct locator_options {
    std::string root = "/";  // the process's filesystem root (/proc/PID/root, a sysroot)
    std::vector<std::string> debug_directories{"/usr/lib/debug"};
    bool host_debug_directories = true;  // also search them outside `root`
    bool debuginfod = true;              // ask debuginfod (when DEBUGINFOD_URLS is set)
    std::chrono::milliseconds debuginfod_budget{30'000};
    std::function<void(long done, long total)> debuginfod_progress{};
};

[[nodiscard]] TRIAGE_DECL result<debug_info_location> locate_debug_info(const debugged_object& object,
                                                                        const locator_options& options = {});

namespace detail {
// `path` (absolute, as a process names it) under `root` ("/" leaves it, and
// so does a path that is under `root` already: a chrooted process's maps
// read from outside, a core written from outside).
} // namespace detail

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/debug_file_locator.ipp"
#endif
