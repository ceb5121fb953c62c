// triage/elf/impl/mapped_object.ipp — the definitions of
// triage/elf/mapped_object.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/elf/mapped_object.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL std::uint64_t runtime_address(const section_info& section, const mapped_object& object) noexcept {
    return section.address + object.load_bias;
}

} // namespace triage::elf

namespace triage::elf::detail {

[[nodiscard]] TRIAGE_DECL std::string map_files_path(pid_t pid, const procfs::mapping& m) {
    std::string range = hex(m.start).substr(2) + "-" + hex(m.end).substr(2);
    return "/proc/" + std::to_string(pid) + "/map_files/" + range;
}

[[nodiscard]] TRIAGE_DECL std::string root_path(const mapped_object& object) {
    if (object.pid <= 0) return object.path;
    const std::string proc_root = "/proc/" + std::to_string(object.pid) + "/root";
    std::array<char, 4096> target{};
    const ssize_t n = ::readlink(proc_root.c_str(), target.data(), target.size());
    std::string_view path = object.path;
    if (n > 1 && static_cast<std::size_t>(n) < target.size()) {
        const std::string_view root(target.data(), static_cast<std::size_t>(n));
        if (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/') path.remove_prefix(root.size());
    }
    return proc_root + std::string(path);
}

[[nodiscard]] TRIAGE_DECL bool same_inode(const struct stat& st, const mapped_object& object) {
    return st.st_ino == object.inode && major(st.st_dev) == object.dev_major && minor(st.st_dev) == object.dev_minor;
}

[[nodiscard]] TRIAGE_DECL std::uint64_t system_page_size() {
    long size = ::sysconf(_SC_PAGESIZE);
    return size > 0 ? static_cast<std::uint64_t>(size) : 4096;
}

} // namespace triage::elf::detail

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL result<file> open_mapped(const mapped_object& object) {
    if (object.pid <= 0) return file::open(object.readable_path.empty() ? object.path : object.readable_path);
    auto exact = file::open(object.readable_path);
    if (exact) return exact;
    std::string fallback = detail::root_path(object);
    if (object.deleted) {
        return fail(std::move(exact.error())
                        .within("reading " + object.path + " (deleted) as mapped by process " +
                                std::to_string(object.pid)));
    }
    unique_fd fd = TRIAGE_TRY(open_file(fallback));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, "inspecting " + fallback);
    if (!detail::same_inode(st, object)) {
        return fail(errc::inconsistent,
                    "reading " + object.path + " as mapped by process " + std::to_string(object.pid) +
                        ": the file on disk is not the one mapped",
                    "read it through " + object.readable_path + " (needs root or CAP_SYS_ADMIN)");
    }
    return file::from_fd(std::move(fd), fallback);
}

[[nodiscard]] TRIAGE_DECL std::vector<mapped_object> group_mapped_objects(std::span<const procfs::mapping> maps, pid_t pid) {
    std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>, std::optional<std::vector<segment>>> by_inode;
    auto segments_of = [&](const mapped_object& object) -> std::optional<std::vector<segment>> {
        auto key = std::make_tuple(object.dev_major, object.dev_minor, object.inode);
        auto at = by_inode.find(key);
        if (at != by_inode.end()) return at->second;
        std::optional<std::vector<segment>> segments;
        if (auto f = open_mapped(object)) segments = f->load_segments();
        by_inode.emplace(key, segments);
        return segments;
    };
    return group_mapped_objects(maps, pid, segments_of, detail::system_page_size());
}

[[nodiscard]] TRIAGE_DECL result<std::vector<mapped_object>> mapped_objects(pid_t pid) {
    auto maps = TRIAGE_TRY(procfs::read_maps(pid));
    return group_mapped_objects(maps, pid);
}

[[nodiscard]] TRIAGE_DECL result<disk_match> compare_with_disk(const mapped_object& object) {
    file mapped = TRIAGE_TRY(open_mapped(object));
    std::string on_disk = detail::root_path(object);
    struct stat st {};
    if (::stat(on_disk.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return disk_match::missing_on_disk;
        return fail_errno(errno, "inspecting " + on_disk);
    }
    auto mapped_id = mapped.build_id();
    if (!mapped_id) return detail::same_inode(st, object) ? disk_match::no_build_id : disk_match::replaced_no_build_id;
    auto disk = file::open(on_disk);
    if (!disk) {
        if (disk.error().code == errc::malformed) return disk_match::different_build_id;  // not even ELF now
        return fail(std::move(disk.error()));
    }
    auto disk_id = disk->build_id();
    return disk_id && *disk_id == *mapped_id ? disk_match::same : disk_match::different_build_id;
}

} // namespace triage::elf
