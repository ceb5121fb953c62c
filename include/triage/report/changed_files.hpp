// triage/report/changed_files.hpp — the code a process runs that is no
// longer the file on disk (step 5 of INCIDENT.md: the interpreter in the
// service's virtualenv was not the file at its path any more).
//
// Offers: `changed_files(objects)` / `changed_files(pid)` →
// `changed_files_report`: of every mapped ELF object loaded as code (the
// program and its libraries, elf/mapped_object.hpp), those whose path now
// holds another file or nothing (elf::compare_with_disk: by build-id, by
// inode when the mapped file has none), or that the kernel marks
// " (deleted)"; how many were checked, and which could not be (their error).
// Errors: changed_files(pid) returns mapped_objects' errors
// (no_such_process, permission_denied); an object that cannot be compared
// is listed in `unchecked`, not an error.
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc/PID/maps
// and opens the mapped files through /proc/PID/map_files or /proc/PID/root;
// nothing is attached or stopped.
//
//   auto files = TRIAGE_TRY(triage::report::changed_files(pid));
//   for (const auto& f : files.changed)
//       fmt::print("{}: {}\n", f.path, triage::elf::to_string(f.match));
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/error.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/mapped_object.hpp"

namespace triage::report {

struct changed_file {
    std::string path;     // as the process mapped it
    elf::disk_match match = elf::disk_match::same;  // what is at the path now
    bool deleted = false;  // " (deleted)" in /proc/PID/maps

    friend bool operator==(const changed_file&, const changed_file&) = default;
};

struct unchecked_file {
    std::string path;
    error why;
};

struct changed_files_report {
    std::size_t checked = 0;               // objects loaded as code
    std::vector<changed_file> changed;     // in address order
    std::vector<unchecked_file> unchecked; // could not be compared
};

[[nodiscard]] TRIAGE_DECL changed_files_report changed_files(std::span<const elf::mapped_object> objects);

[[nodiscard]] TRIAGE_DECL result<changed_files_report> changed_files(pid_t pid);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/changed_files.ipp"
#endif
