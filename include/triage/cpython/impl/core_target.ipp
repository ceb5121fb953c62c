// triage/cpython/impl/core_target.ipp — the definitions of
// triage/cpython/core_target.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/core_target.hpp"

namespace triage::cpython::detail::core_target {

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> held_build_id(const coredump::core_file& held, const std::string& path) {
    for (const coredump::mapped_file& f : held.mapped_files()) {
        if (f.path != path || f.offset != 0) continue;
        return elf::build_id_in_image([&](std::uint64_t offset, std::span<std::byte> into) -> std::size_t {
            if (offset > f.end - f.start || into.size() > f.end - f.start - offset) return 0;
            auto n = held.read(f.start + offset, into);
            return n ? *n : 0;
        });
    }
    return {};
}

[[nodiscard]] TRIAGE_DECL std::string executable_path(const coredump::core_file& core) {
    auto entry = procfs::find_auxv(core.auxv(), AT_ENTRY);
    if (!entry) return {};
    for (const coredump::mapped_file& f : core.mapped_files())
        if (f.contains(*entry)) return f.path;
    return {};
}

[[nodiscard]] TRIAGE_DECL result<std::string> substituted_path(const coredump::core_file& held, const std::string& exe) {
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
                    "pass --exe with the very file the process ran, or --sysroot / --lib-search-path where copies of its files are");
    }
    return target;
}

} // namespace triage::cpython::detail::core_target

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<python_core> open_python_core(const std::string& core_path, const std::optional<std::string>& exe,
                                                               const coredump::core_file_options& where) {
    namespace d = detail::core_target;
    // The core's own bytes only, for the build-ids it holds.
    coredump::core_file_options held_only;
    held_only.read_mapped_files = false;
    auto held = TRIAGE_TRY(coredump::core_file::open(core_path, held_only));
    coredump::core_file_options options = where;
    options.read_mapped_files = true;
    std::string substituted;
    if (exe) {
        substituted = TRIAGE_TRY(d::substituted_path(held, *exe));
        options.substitutes.emplace_back(substituted, *exe);
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
    const std::string substituted_clean = without_deleted(substituted);
    auto maps = core.maps();
    if (exe) {
        for (procfs::mapping& m : maps)
            if (m.path == substituted_clean) m.path = *exe;
    }
    python_core out{std::move(core), {}, {}, {}};
    // Each object is read from the local file the core file reader chose
    // (under the sysroot, in the search path, by build-id); one it found
    // none for, from where it would be.
    auto local = [&](const elf::mapped_object& o) {
        if (exe && o.path == *exe) return o.path;
        std::string chosen = out.core.local_file(o.path);
        return !chosen.empty() ? chosen : under_root(where.sysroot, o.path);
    };
    out.objects = elf::group_mapped_objects(maps, 0, [&](const elf::mapped_object& o) {
        auto f = elf::file::open(local(o));
        return f ? std::optional{f->load_segments()} : std::nullopt;
    }, elf::detail::system_page_size());
    for (elf::mapped_object& o : out.objects) o.readable_path = local(o);
    out.executable = without_deleted(d::executable_path(out.core));

    // The check of each NT_FILE path, as the core file reader judged it.
    auto check_of = [&](const std::string& path) {
        const auto& files = out.core.mapped_files();
        for (std::size_t i = 0; i < files.size(); ++i)
            if (without_deleted(files[i].path) == path && files[i].offset == 0) return out.core.file_check_of(i);
        return coredump::file_check::not_checked;
    };
    auto image = find_interpreter(out.objects);
    if (!image) {
        // The executable may hold the interpreter (a static python): if it
        // is gone or another build, say so rather than "not Python".
        if (!exe && !out.executable.empty()) {
            auto check = check_of(out.executable);
            const std::string found = out.core.local_file(out.executable);
            const std::string what =
                check == coredump::file_check::missing ? " was deleted or moved since the process ran"
                : found == out.executable              ? " was replaced by another build since the process ran"
                                                       : ": the file found, " + found + ", is another build";
            if (check == coredump::file_check::missing || check == coredump::file_check::mismatch) {
                return fail(check == coredump::file_check::missing ? errc::not_found : errc::inconsistent,
                            "reading Python stacks from " + core_path + ": the executable " + out.executable + what,
                            "pass --exe with the very file the process ran, or --sysroot / --lib-search-path where copies of its files are");
            }
        }
        for (const coredump::mapped_file& f : out.core.mapped_files()) {
            std::string path = without_deleted(f.path);
            std::string_view name = file_name(path);
            if (f.offset != 0 || !(name.starts_with("python") || name.starts_with("libpython"))) continue;
            auto check = check_of(path);
            if (check == coredump::file_check::missing || check == coredump::file_check::mismatch) {
                return fail(check == coredump::file_check::missing ? errc::not_found : errc::inconsistent,
                            "reading the interpreter " + path + " the core names: the file " + std::string(to_string(check)),
                            "pass --exe with the very file the process ran, or --sysroot / --lib-search-path where copies of its files are");
            }
        }
        return fail(errc::not_found,
                    "reading Python stacks from " + core_path + ": it is not the core of a Python process",
                    image.error().message());
    }
    // The image names the path the process mapped, even when read from --exe.
    std::string read_from = image->path;
    for (const elf::mapped_object& o : out.objects)
        if (o.path == image->path) read_from = o.readable_path;
    if (exe && image->path == *exe) image->path = substituted_clean;
    // The interpreter file read must be the build the process ran.
    for (const coredump::mapped_file& f : held.mapped_files()) {
        if (without_deleted(f.path) != image->path || f.offset != 0) continue;
        auto in_core = d::held_build_id(held, f.path);
        if (in_core.empty()) break;
        auto file = elf::file::open(read_from);
        auto on_disk = file ? file->build_id() : std::nullopt;
        if (!on_disk || *on_disk != in_core) {
            return fail(errc::inconsistent,
                        "reading " + read_from + " for the core " + core_path +
                            ": its build-id differs from the one in the core (another build of the file)",
                        "pass --exe with the very file the process ran, or --sysroot / --lib-search-path where copies of its files are");
        }
        break;
    }
    out.image = std::move(*image);
    return out;
}

[[nodiscard]] TRIAGE_DECL result<void> assign_core_tids(const python_core& py, stack_snapshot& snapshot) {
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
