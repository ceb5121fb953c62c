// triage/elf/mapped_object.hpp — the ELF objects mapped into a process: which
// file, where (load bias), and whether the file on disk is still the one the
// process runs.
//
// Offers:
//  - `mapped_object`: path and (dev, inode) as in /proc/PID/maps, `deleted`,
//    the load bias (runtime address = file address + load_bias), the address
//    span, its mappings, and `readable_path`, how to open the very file the
//    process mapped: /proc/PID/map_files/START-END (the mapped inode, even
//    when the path was deleted or replaced; needs CAP_SYS_ADMIN or
//    CAP_CHECKPOINT_RESTORE), or the path itself when there is no pid (0, as
//    for a core). open_mapped() falls back to the path as the process sees
//    it, through /proc/PID/root (for a chrooted process, whose maps name its
//    files with its root's path in front, without that prefix), accepting
//    it only when its (dev, inode) is the mapped one.
//  - `group_mapped_objects(maps, pid, segments_of, page_size)`, pure: groups
//    the file-backed mappings into objects and computes each bias from the
//    PT_LOAD segments `segments_of(object)` returns (elf/load_bias.hpp has the
//    exact rule). Grouping, in address order: a mapping continues the object
//    of the previous file-backed mapping when it maps the same file (dev,
//    inode), at a non-zero file offset no lower than the previous mapping's,
//    at or above that object's end;
//    anonymous mappings between (a .bss) do not interrupt an object. So two
//    loaded copies of one file (dlmopen), or a loaded library and an mmap of
//    the same file as data, are separate objects: each starts at file offset
//    0 or follows another file's mapping. Objects for which segments_of gives
//    nothing (not ELF, unreadable) or whose mappings begin no segment are left
//    out. Known gap: a file whose several PT_LOAD segments all start in its
//    first page is split into several objects.
//  - `group_mapped_objects(maps, pid)` and `mapped_objects(pid)`: the same,
//    reading segments from each object's file (open_mapped), once per inode.
//  - `open_mapped(object)`: the elf::file the process mapped.
//  - `compare_with_disk(object)`: is the file now at the object's path (as the
//    process sees it, /proc/PID/root/PATH) the one mapped? By build-id; when
//    the mapped file has none, by (dev, inode). `same` also covers a deleted
//    path that holds a file with the same build-id again (a reinstall).
//  - `runtime_address(section, object)`: section.address + load_bias.
// Errors: read_maps' errors (errc::no_such_process), open errors naming the
// path (errc::permission_denied with a hint; errc::inconsistent when the only
// readable path holds a different file).
// Thread-safe: yes (distinct objects). Signal-safe: no. Target process: reads
// /proc/PID/maps and opens files through /proc/PID/map_files or
// /proc/PID/root; nothing is attached or stopped.
//
//   for (auto& object : TRIAGE_TRY(triage::elf::mapped_objects(pid))) {
//       auto file = TRIAGE_TRY(triage::elf::open_mapped(object));
//       if (auto s = file.find_symbol("_PyRuntime")) runtime = s->value + object.load_bias;
//   }
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/load_bias.hpp"
#include "triage/elf/segment.hpp"
#include "triage/procfs/maps.hpp"

namespace triage::elf {

struct mapped_object {
    std::string path;           // as in /proc/PID/maps, without " (deleted)"
    bool deleted = false;       // " (deleted)" in maps: removed or replaced on disk
    std::uint32_t dev_major = 0;
    std::uint32_t dev_minor = 0;
    std::uint64_t inode = 0;
    std::uint64_t load_bias = 0;  // runtime address = file address + load_bias
    std::uint64_t low = 0;        // lowest start of its mappings
    std::uint64_t high = 0;       // highest end of its mappings
    std::vector<procfs::mapping> mappings;
    std::string readable_path;  // /proc/PID/map_files/START-END; without a pid, the local file to read
                                // (`path`, or a copy of it: a core's file under a sysroot)
    pid_t pid = 0;              // the process it was read from; 0 when none (a core)

    [[nodiscard]] bool contains(std::uint64_t address) const noexcept { return address >= low && address < high; }
    // Loaded as code: some mapping is executable (a data mmap of a library is not).
    [[nodiscard]] bool executable() const noexcept {
        for (const auto& m : mappings)
            if (m.executable) return true;
        return false;
    }
    [[nodiscard]] std::uint64_t runtime_address(std::uint64_t file_address) const noexcept {
        return file_address + load_bias;
    }
    [[nodiscard]] std::uint64_t file_address(std::uint64_t runtime) const noexcept { return runtime - load_bias; }
};

[[nodiscard]] TRIAGE_DECL std::uint64_t runtime_address(const section_info& section, const mapped_object& object) noexcept;

enum class disk_match {
    same,                  // the file at the path has the mapped build-id
    different_build_id,    // it has another build-id, or none while the mapped one has one
    missing_on_disk,       // nothing at the path any more
    no_build_id,           // the mapped file has no build-id; the path still holds its inode
    replaced_no_build_id,  // the mapped file has no build-id; the path holds another file
};

[[nodiscard]] constexpr std::string_view to_string(disk_match m) noexcept {
    switch (m) {
    case disk_match::same: return "same";
    case disk_match::different_build_id: return "different build-id";
    case disk_match::missing_on_disk: return "missing on disk";
    case disk_match::no_build_id: return "no build-id";
    case disk_match::replaced_no_build_id: return "replaced (no build-id)";
    }
    return "?";
}

namespace detail {
[[nodiscard]] TRIAGE_DECL std::string map_files_path(pid_t pid, const procfs::mapping& m);

// The object's path as the process sees it, opened from here through
// /proc/PID/root. The kernel names mapped files from the reader's root when
// it can reach them, so a chrooted process's maps carry its root's path as a
// prefix, which is taken off first (a process in another mount namespace has
// them named from its own root already).
[[nodiscard]] TRIAGE_DECL std::string root_path(const mapped_object& object);

[[nodiscard]] TRIAGE_DECL bool same_inode(const struct stat& st, const mapped_object& object);

[[nodiscard]] TRIAGE_DECL std::uint64_t system_page_size();
} // namespace detail

template <class SegmentsOf>
    requires std::is_invocable_r_v<std::optional<std::vector<segment>>, SegmentsOf&, const mapped_object&>
[[nodiscard]] std::vector<mapped_object> group_mapped_objects(std::span<const procfs::mapping> maps, pid_t pid,
                                                              SegmentsOf&& segments_of, std::uint64_t page_size) {
    std::vector<const procfs::mapping*> ordered;
    ordered.reserve(maps.size());
    for (const auto& m : maps) ordered.push_back(&m);
    std::stable_sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->start < b->start; });

    std::vector<mapped_object> groups;
    std::optional<std::size_t> current;  // the object of the last file-backed mapping
    for (const procfs::mapping* m : ordered) {
        if (!m->is_file()) {
            if (m->inode != 0 || !m->path.empty()) current.reset();  // [heap], [stack], ...: not a .bss
            continue;
        }
        if (current) {
            mapped_object& g = groups[*current];
            bool same_file = g.inode == m->inode && g.dev_major == m->dev_major && g.dev_minor == m->dev_minor;
            if (same_file && m->offset != 0 && m->offset >= g.mappings.back().offset && m->start >= g.high) {
                g.mappings.push_back(*m);
                g.high = m->end;
                continue;
            }
        }
        mapped_object g;
        g.path = m->path;
        g.deleted = m->deleted;
        g.dev_major = m->dev_major;
        g.dev_minor = m->dev_minor;
        g.inode = m->inode;
        g.low = m->start;
        g.high = m->end;
        g.mappings.push_back(*m);
        g.pid = pid;
        g.readable_path = pid > 0 ? detail::map_files_path(pid, *m) : m->path;
        groups.push_back(std::move(g));
        current = groups.size() - 1;
    }

    std::vector<mapped_object> out;
    for (mapped_object& g : groups) {
        std::optional<std::vector<segment>> segments = segments_of(std::as_const(g));
        if (!segments) continue;
        auto bias = load_bias(g.mappings, *segments, page_size);
        if (!bias) continue;
        g.load_bias = *bias;
        out.push_back(std::move(g));
    }
    return out;
}

// The file the process has mapped for `object`, even if deleted or replaced
// on disk since.
[[nodiscard]] TRIAGE_DECL result<file> open_mapped(const mapped_object& object);

[[nodiscard]] TRIAGE_DECL std::vector<mapped_object> group_mapped_objects(std::span<const procfs::mapping> maps, pid_t pid);

[[nodiscard]] TRIAGE_DECL result<std::vector<mapped_object>> mapped_objects(pid_t pid);

[[nodiscard]] TRIAGE_DECL result<disk_match> compare_with_disk(const mapped_object& object);

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/mapped_object.ipp"
#endif
