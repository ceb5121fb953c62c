// triage/report/impl/debuginfo_report.ipp — the definitions of
// triage/report/debuginfo_report.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>
#include <span>

#include "triage/base/path.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/report/debuginfo_report.hpp"

namespace triage::report {

namespace detail {

// The build-id of the image whose first page is mapped at [start, end) of `memory`.
template <class Memory>
[[nodiscard]] std::vector<std::byte> build_id_at(Memory& memory, std::uint64_t start, std::uint64_t end) {
    return elf::build_id_in_image([&](std::uint64_t offset, std::span<std::byte> into) -> std::size_t {
        if (offset > end - start || into.size() > end - start - offset) return 0;
        auto n = memory.read(start + offset, into);
        return n ? *n : 0;
    });
}

// How the file at `local` compares with the running code's build-id `id`.
inline void compare_disk(debuginfo_object& row, const std::string& local, const std::vector<std::byte>& id) {
    struct ::stat st{};
    if (::stat(local.c_str(), &st) != 0) {
        row.on_disk = "missing on disk";
        return;
    }
    auto disk = elf::file::open(local);
    auto disk_id = disk ? disk->build_id() : std::nullopt;
    if (id.empty()) {
        row.on_disk = "not verified";
    } else if (disk_id && std::ranges::equal(*disk_id, id)) {
        row.on_disk = "same";
    } else {
        row.on_disk = "replaced on disk";
        if (disk_id) row.disk_build_id = elf::build_id_hex(*disk_id);
    }
}

inline void locate(debuginfo_object& row, elf::debugged_object object, const elf::locator_options& locator) {
    auto where = elf::locate_debug_info(object, locator);
    if (!where && !object.opened.empty() && row.on_disk != "missing on disk") {
        // map_files refused: the path as the process sees it, which may hold another build
        object.opened.clear();
        object.other_build = row.on_disk == "replaced on disk";
        where = elf::locate_debug_info(object, locator);
    }
    if (!where) {
        row.error = where.error().message();
        return;
    }
    row.debug = std::move(*where);
    // Shown as the process names them: without the /proc/PID/root in front.
    const std::string& root = locator.root;
    auto shown = [&](std::string& path) {
        if (root.starts_with("/proc/") && path.starts_with(root + "/")) path.erase(0, root.size());
    };
    shown(row.debug.symbols);
    shown(row.debug.dwarf);
    shown(row.debug.alternate);
    for (auto& a : row.debug.attempts) shown(a.path);
}


// Packages, install hints and the summary, once every row is filled.
inline void finish(debuginfo_report& report, const debuginfo_options& options) {
    if (options.packages) {
        std::vector<std::string> paths;
        for (const auto& row : report.objects) paths.push_back(row.path);
        auto owners = owning_packages(options.locator.root.empty() ? "/" : options.locator.root, paths);
        if (owners) {
            std::vector<std::string> wanted;
            for (auto& row : report.objects) {
                auto it = owners->find(row.path);
                if (it == owners->end()) continue;
                row.package = it->second;
                if (row.debug.dwarf.empty() && row.error.empty())
                    for (auto& name : debug_package_candidates(*row.package)) wanted.push_back(name);
            }
            std::sort(wanted.begin(), wanted.end());
            wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
            const std::set<std::string> known = known_to_apt(wanted);
            for (auto& row : report.objects) {
                if (!row.package || !row.debug.dwarf.empty() || !row.error.empty()) continue;
                auto candidates = debug_package_candidates(*row.package);
                auto pick = std::find_if(candidates.begin(), candidates.end(), [&](auto& n) { return known.contains(n); });
                const bool archive = pick == candidates.end();
                const std::string name = archive ? candidates.back() : *pick;
                if (row.on_disk == "same" && !row.package->version.empty()) {
                    row.install = "apt install " + name + "=" + row.package->version;
                } else {
                    row.install = "apt install " + name + " (version unknown: the running build is not the installed " +
                                  row.package->name + " " + row.package->version + ")";
                }
                if (archive) row.install += " (from the debian-debug archive)";
            }
        }
    }

    debuginfo_summary& s = report.summary;
    std::vector<std::string> names_only, no_names;
    for (const auto& row : report.objects) {
        ++s.code_objects;
        if (!row.debug.symbols.empty()) ++s.with_symbols;
        if (!row.debug.dwarf.empty()) ++s.with_dwarf;
        if (row.debug.symbols.empty()) (row.error.empty() ? names_only : no_names).push_back(std::string{file_name(row.path)});
    }
    const std::string counts = std::to_string(s.with_symbols) + " of " + std::to_string(s.code_objects) +
                               " code objects have full function names, " + std::to_string(s.with_dwarf) +
                               " have file:line";
    auto list = [](const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
        return out;
    };
    if (s.code_objects > 0 && s.with_symbols == s.code_objects) {
        s.native_symbolised = "all";
        s.line = "native stacks will be symbolised: " + counts;
    } else if (s.with_symbols == 0 && names_only.empty()) {
        s.native_symbolised = "none";
        s.line = "native stacks will not be symbolised: no code object could be read";
    } else {
        s.native_symbolised = s.with_symbols > 0 ? "partly" : "none";
        s.line = "native stacks will be " + std::string{s.with_symbols > 0 ? "partly " : "poorly "} +
                 "symbolised: " + counts;
        if (!names_only.empty()) s.line += "; only exported names (.dynsym) in " + list(names_only);
        if (!no_names.empty()) s.line += "; unreadable: " + list(no_names);
    }
}

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<debuginfo_report> debuginfo_of_process(pid_t pid, const debuginfo_options& options) {
    debuginfo_report report;
    report.pid = pid;
    if (auto args = procfs::read_cmdline(pid)) report.command = procfs::join_cmdline(*args);
    auto objects = TRIAGE_TRY(elf::mapped_objects(pid));
    auto memory = memory::live_process::open(pid);
    const std::string root = "/proc/" + std::to_string(pid) + "/root";
    elf::locator_options locator = options.locator;
    locator.root = root;
    for (const elf::mapped_object& object : objects) {
        if (!object.executable()) continue;
        debuginfo_object row;
        row.path = object.path;
        row.deleted = object.deleted;
        std::vector<std::byte> id;
        const procfs::mapping& first = object.mappings.front();
        if (memory && first.offset == 0) id = detail::build_id_at(*memory, first.start, first.end);
        row.build_id_from = "memory";
        if (id.empty()) {
            if (auto mapped = elf::open_mapped(object)) {
                if (auto own = mapped->build_id()) id = std::move(*own);
            }
            row.build_id_from = "file";
        }
        if (!id.empty()) row.build_id = elf::build_id_hex(id);
        const std::string local = elf::detail::root_path(object);
        detail::compare_disk(row, local, id);
        // The path as the process names it, for its debuglink directories.
        std::string own_path = local.starts_with(root) ? local.substr(root.size()) : object.path;
        detail::locate(row, {own_path, object.readable_path, id}, locator);
        report.objects.push_back(std::move(row));
    }
    detail::finish(report, options);
    return report;
}

[[nodiscard]] TRIAGE_DECL result<debuginfo_report> debuginfo_of_core(const std::string& core_path,
                                                                     const debuginfo_options& options) {
    coredump::core_file_options core_options;
    core_options.read_mapped_files = false;  // what the core holds, never the disk's bytes
    core_options.sysroot = options.locator.root;
    core_options.search_path = options.search_path;
    auto core = TRIAGE_TRY(coredump::core_file::open(core_path, core_options));
    std::vector<std::pair<std::string, std::string>> substitutes = options.substitutes;
    if (!options.exe.empty()) {
        for (const auto& entry : core.auxv()) {
            if (entry.type != AT_ENTRY) continue;
            for (const auto& f : core.mapped_files())
                if (entry.value >= f.start && entry.value < f.end) substitutes.emplace_back(f.path, options.exe);
        }
    }
    debuginfo_report report;
    report.core = core_path;
    if (auto process = core.process()) {
        report.pid = process->pid;
        report.command = process->psargs;
    }
    // Per object (path), in address order: executable? its first page?
    struct seen {
        std::string path;
        bool deleted = false;
        bool executable = false;
        std::uint64_t first_start = 0, first_end = 0;
    };
    std::vector<seen> order;
    for (const procfs::mapping& m : core.maps()) {
        auto it = std::find_if(order.begin(), order.end(), [&](const seen& s) { return s.path == m.path; });
        if (it == order.end()) it = order.insert(order.end(), seen{m.path, m.deleted});
        it->executable = it->executable || m.executable;
        if (m.offset == 0 && it->first_end == 0) {
            it->first_start = m.start;
            it->first_end = m.end;
        }
    }
    for (const seen& object : order) {
        if (!object.executable) continue;
        debuginfo_object row;
        row.path = object.path;
        row.deleted = object.deleted;
        std::vector<std::byte> id;
        if (object.first_end != 0) id = detail::build_id_at(core, object.first_start, object.first_end);
        row.build_id_from = "memory";
        // The local file the core reader chose (under the sysroot, in the
        // search path: the very build when one is there).
        std::string local = core.local_file(object.path);
        if (local.empty()) local = under_root(options.locator.root, object.path);
        for (const auto& [in_core, substitute] : substitutes)
            if (in_core == object.path) local = substitute;
        if (id.empty()) {
            row.build_id_from = "file";
            if (auto f = elf::file::open(local))
                if (auto own = f->build_id()) id = std::move(*own);
        }
        if (!id.empty()) row.build_id = elf::build_id_hex(id);
        detail::compare_disk(row, local, id);
        if (row.on_disk == "missing on disk") {
            row.error = "cannot read " + local + " (not found): give it with --exe, --sysroot or --lib-search-path";
        } else {
            detail::locate(row, {object.path, local, id, row.on_disk == "replaced on disk"}, options.locator);
        }
        report.objects.push_back(std::move(row));
    }
    detail::finish(report, options);
    return report;
}

} // namespace triage::report
