// triage/cpython/core_target.hpp — the first stages of reading Python stacks
// from a core file (ours, gdb's gcore, the kernel's): the core as memory,
// its mapped objects, and its interpreter image; then the kernel tid of each
// Python thread. Everything after (version, layout, runtime, walk) is the
// live pipeline over `python_core::core` (python_target.hpp).
//
// Offers:
//  - `open_python_core(core_path, exe)`: opens the core, refuses one whose
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
//    the core's.
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

#include "triage/base/result.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/stack_walker.hpp"
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

[[nodiscard]] inline std::string_view file_name(std::string_view path) { return path.substr(path.rfind('/') + 1); }

// The build-id in the core's own copy of the first page of `path` (never
// read from the file on disk); empty when the core holds none.
[[nodiscard]] inline std::vector<std::byte> held_build_id(const coredump::core_file& held, const std::string& path) {
    for (const coredump::mapped_file& f : held.mapped_files()) {
        if (f.path != path || f.offset != 0) continue;
        return coredump::detail::image_build_id([&](std::uint64_t offset, std::span<std::byte> into) -> std::size_t {
            if (offset > f.end - f.start || into.size() > f.end - f.start - offset) return 0;
            auto n = held.read(f.start + offset, into);
            return n ? *n : 0;
        });
    }
    return {};
}

// The mapped file that holds the entry point (AT_ENTRY): the executable.
[[nodiscard]] inline std::string executable_path(const coredump::core_file& core) {
    auto entry = procfs::find_auxv(core.auxv(), AT_ENTRY);
    if (!entry) return {};
    for (const coredump::mapped_file& f : core.mapped_files())
        if (f.contains(*entry)) return f.path;
    return {};
}

[[nodiscard]] inline std::string without_deleted(std::string path) {
    constexpr std::string_view suffix = " (deleted)";
    if (path.ends_with(suffix)) path.resize(path.size() - suffix.size());
    return path;
}

// Which mapped path `exe` stands for (see the header comment).
[[nodiscard]] inline result<std::string> substituted_path(const coredump::core_file& held, const std::string& exe) {
    auto file = TRIAGE_TRY(elf::file::open(exe));
    auto exe_id = file.build_id();
    std::vector<std::string> paths;
    for (const coredump::mapped_file& f : held.mapped_files())
        if (std::find(paths.begin(), paths.end(), f.path) == paths.end()) paths.push_back(f.path);
    if (exe_id) {
        for (const std::string& p : paths)
            if (held_build_id(held, p) == *exe_id) return p;
    }
    std::string target;
    for (const std::string& p : paths)
        if (file_name(without_deleted(p)) == file_name(exe)) target = p;
    if (target.empty()) target = executable_path(held);
    if (target.empty()) {
        return fail(errc::not_found, "finding which file of the core " + exe + " stands for",
                    "the core names no file called " + std::string(file_name(exe)) + " and records no entry point");
    }
    auto in_core = held_build_id(held, target);
    if (!in_core.empty() && (!exe_id || *exe_id != in_core)) {
        return fail(errc::inconsistent,
                    "reading " + exe + " for " + without_deleted(target) +
                        ": its build-id differs from the one in the core (another build of the file)",
                    "pass --exe with the very file the process ran");
    }
    return target;
}

} // namespace detail::core_target

[[nodiscard]] inline result<python_core> open_python_core(const std::string& core_path, const std::optional<std::string>& exe) {
    namespace d = detail::core_target;
    // The core's own bytes only, for the build-ids it holds.
    coredump::core_file_options held_only;
    held_only.read_mapped_files = false;
    auto held = TRIAGE_TRY(coredump::core_file::open(core_path, held_only));
    coredump::core_file_options options;
    std::string substituted;
    if (exe) {
        substituted = TRIAGE_TRY(d::substituted_path(held, *exe));
        options.substitutes.emplace_back(substituted, *exe);
    }
    // A file deleted since it was mapped may be back at its path (a
    // reinstall): read it there when its build-id is the core's (the core
    // file reader checks).
    for (const coredump::mapped_file& f : held.mapped_files()) {
        std::string clean = d::without_deleted(f.path);
        bool listed = std::any_of(options.substitutes.begin(), options.substitutes.end(),
                                  [&](const auto& s) { return s.first == f.path; });
        if (clean != f.path && !listed) options.substitutes.emplace_back(f.path, std::move(clean));
    }
    auto core = TRIAGE_TRY(coredump::core_file::open(core_path, std::move(options)));
    if (core.truncated_segments() > 0 || core.truncated_notes()) {
        return fail(errc::truncated,
                    "reading " + core_path + ": " +
                        (core.truncated_notes() ? std::string{"its notes run"}
                                                : std::to_string(core.truncated_segments()) + " of its " +
                                                      std::to_string(core.segments().size()) + " memory segments lie") +
                        " past the end of the file",
                    "the core is truncated (an interrupted dump or copy, or a core size limit)");
    }
    // maps() strips " (deleted)"; the substitute is keyed by the NT_FILE path.
    const std::string substituted_clean = d::without_deleted(substituted);
    auto maps = core.maps();
    if (exe) {
        for (procfs::mapping& m : maps)
            if (m.path == substituted_clean) m.path = *exe;
    }
    python_core out{std::move(core), {}, {}, {}};
    out.objects = elf::group_mapped_objects(maps, 0);
    out.executable = d::without_deleted(d::executable_path(out.core));

    // The check of each NT_FILE path, as the core file reader judged it.
    auto check_of = [&](const std::string& path) {
        const auto& files = out.core.mapped_files();
        for (std::size_t i = 0; i < files.size(); ++i)
            if (d::without_deleted(files[i].path) == path && files[i].offset == 0) return out.core.file_check_of(i);
        return coredump::file_check::not_checked;
    };
    auto image = find_interpreter(out.objects);
    if (!image) {
        // The executable may hold the interpreter (a static python): if it
        // is gone or another build, say so rather than "not Python".
        if (!exe && !out.executable.empty()) {
            auto check = check_of(out.executable);
            if (check == coredump::file_check::missing || check == coredump::file_check::mismatch) {
                return fail(check == coredump::file_check::missing ? errc::not_found : errc::inconsistent,
                            "reading Python stacks from " + core_path + ": the executable " + out.executable +
                                (check == coredump::file_check::missing ? " was deleted or moved since the process ran"
                                                                        : " was replaced by another build since the process ran"),
                            "pass --exe with the very file the process ran");
            }
        }
        for (const coredump::mapped_file& f : out.core.mapped_files()) {
            std::string path = d::without_deleted(f.path);
            std::string_view name = d::file_name(path);
            if (f.offset != 0 || !(name.starts_with("python") || name.starts_with("libpython"))) continue;
            auto check = check_of(path);
            if (check == coredump::file_check::missing || check == coredump::file_check::mismatch) {
                return fail(check == coredump::file_check::missing ? errc::not_found : errc::inconsistent,
                            "reading the interpreter " + path + " the core names: the file " + std::string(to_string(check)),
                            "pass --exe with the very file the process ran");
            }
        }
        return fail(errc::not_found,
                    "reading Python stacks from " + core_path + ": it is not the core of a Python process",
                    image.error().message());
    }
    // The image names the path the process mapped, even when read from --exe.
    const std::string read_from = image->path;
    if (exe && image->path == *exe) image->path = substituted_clean;
    // The interpreter file read must be the build the process ran.
    for (const coredump::mapped_file& f : held.mapped_files()) {
        if (d::without_deleted(f.path) != image->path || f.offset != 0) continue;
        auto in_core = d::held_build_id(held, f.path);
        if (in_core.empty()) break;
        auto file = elf::file::open(read_from);
        auto on_disk = file ? file->build_id() : std::nullopt;
        if (!on_disk || *on_disk != in_core) {
            return fail(errc::inconsistent,
                        "reading " + read_from + " for the core " + core_path +
                            ": its build-id differs from the one in the core (another build of the file)",
                        "pass --exe with the very file the process ran");
        }
        break;
    }
    out.image = std::move(*image);
    return out;
}

[[nodiscard]] inline result<void> assign_core_tids(const python_core& py, stack_snapshot& snapshot) {
    std::vector<pid_t> tids;
    for (const coredump::core_thread& t : py.core.threads()) tids.push_back(t.tid);
    for (python_thread& t : snapshot.threads) {
        if (t.tid || t.python_ident == 0) continue;
        for (const coredump::core_thread& c : py.core.threads()) {
            if (c.general.fs_base == t.python_ident) {
                t.tid = c.tid;
                break;
            }
        }
    }
    return assign_tids(py.core, snapshot, tids);
}

} // namespace triage::cpython
