// triage/cpython/core_target.hpp — the first stages of reading Python stacks
// from a core file (ours, gdb's gcore, the kernel's): the core as memory,
// its mapped objects, and its interpreter image; then the kernel tid of each
// Python thread. Everything after (version, layout, runtime, walk) is the
// live pipeline over `python_core::core` (open_python.hpp).
//
// Offers:
//  - `open_python_core(core_path, exe, where)`: opens the core, refuses one whose
//    memory segments run past the end of the file (a truncated copy), groups
//    its NT_FILE mappings into mapped objects and finds the interpreter among
//    them (find_interpreter). `exe`, when given, is the local file to read
//    instead of the interpreter object the core names (the file on disk was
//    replaced, or the core comes from another machine): it replaces the
//    mapped file whose build-id, as the core holds it, equals the exe's; else
//    the mapped file of the same name; else the main executable. The
//    interpreter file actually read must be the build the process ran: its
//    build-id must equal the one in the core's copy of its first page (when
//    the core holds one; gdb's and the kernel's cores do, ours do). A file
//    the core names "PATH (deleted)" is read from PATH when its build-id is
//    the core's. `where.sysroot` and `where.search_path` say where the
//    other files the core names are found (coredump::core_file_options: a
//    copy of the machine the core comes from, a relocated application);
//    each object's `readable_path` is the local file chosen, by build-id.
//  - `python_core{core, image, executable, objects}`: `image.path` is the
//    path as the process mapped it, even when read from `exe`.
//  - `assign_core_tids(pycore, snapshot)`: fills the missing `tid`s
//    (2.7–3.10 record only the pthread_t): a pthread_t is the thread's TCB
//    address, which x86-64 glibc keeps in fs_base, recorded per thread in
//    NT_PRSTATUS; threads no fs_base matches go through assign_tids
//    (the tid inside the TCB), with the core's thread ids.
// Errors: core_file::open's (not_found, truncated, malformed, unsupported,
// invalid_argument when `core_path` or `exe` is not a regular file: "it is
// a directory"); errc::truncated when the end of the file cut its notes or
// memory segments (core_file reads such a core; stacks from it would not be
// trusted); errc::not_found "not a Python process" when no mapped object
// defines an interpreter (with a hint naming a python/libpython file that is
// missing on disk or another build), but first, without `exe`, when the
// executable the core names is gone (not_found: "was deleted or moved") or
// another build (inconsistent: "was replaced"), that, with "pass --exe";
// errc::inconsistent when the interpreter file (or `exe`) is another build
// than the core's.
// Thread-safe: yes (distinct objects). Signal-safe: no. Target process: none
// (reads the core and the files it names).
//
//   auto py = TRIAGE_TRY(triage::cpython::open_python_core("core.1234", std::nullopt));
//   auto target = TRIAGE_TRY(triage::cpython::open_python(py.core, py.image));
//   auto snapshot = TRIAGE_TRY(triage::cpython::make_walker(py.core, target).snapshot());
//   TRIAGE_TRY(triage::cpython::assign_core_tids(py, snapshot));
#pragma once

#include <elf.h>
#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "triage/base/path.hpp"
#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/base/path.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/procfs/auxv.hpp"
#include "triage/procfs/maps.hpp"

namespace triage::cpython {

struct python_core {
    coredump::core_file core;
    interpreter_image image;
    std::string executable;  // the mapped file holding the entry point ("" when unknown)
    std::vector<elf::mapped_object> objects;
};

namespace detail::core_target {

// The build-id in the core's own copy of the first page of `path` (never
// read from the file on disk); empty when the core holds none.
[[nodiscard]] TRIAGE_DECL std::vector<std::byte> held_build_id(const coredump::core_file& held, const std::string& path);

// The mapped file that holds the entry point (AT_ENTRY): the executable.
[[nodiscard]] TRIAGE_DECL std::string executable_path(const coredump::core_file& core);

// Which mapped path `exe` stands for (see the header comment).
[[nodiscard]] TRIAGE_DECL result<std::string> substituted_path(const coredump::core_file& held, const std::string& exe);

} // namespace detail::core_target

[[nodiscard]] TRIAGE_DECL result<python_core> open_python_core(const std::string& core_path, const std::optional<std::string>& exe,
                                                               const coredump::core_file_options& where = {});

[[nodiscard]] TRIAGE_DECL result<void> assign_core_tids(const python_core& py, stack_snapshot& snapshot);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/core_target.ipp"
#endif
