// triage/procfs/impl/maps.ipp — the definitions of
// triage/procfs/maps.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/maps.hpp"

namespace triage::procfs::detail {

[[nodiscard]] TRIAGE_DECL result<mapping> parse_maps_line(std::string_view line, std::size_t line_number) {
    auto bad = [&] { return fail(errc::malformed, "parsing maps line " + std::to_string(line_number)); };
    mapping m;
    std::string_view range = next_token(line);
    std::string_view perms = next_token(line);
    std::string_view offset = next_token(line);
    std::string_view device = next_token(line);
    std::string_view inode = next_token(line);
    std::string_view start = next_token(range, '-');
    auto s = parse_unsigned<std::uint64_t>(start, 16);
    auto e = parse_unsigned<std::uint64_t>(range, 16);
    auto o = parse_unsigned<std::uint64_t>(offset, 16);
    std::string_view major = next_token(device, ':');
    auto dmaj = parse_unsigned<std::uint32_t>(major, 16);
    auto dmin = parse_unsigned<std::uint32_t>(device, 16);
    auto ino = parse_unsigned<std::uint64_t>(inode);
    if (!s || !e || !o || !dmaj || !dmin || !ino || perms.size() != 4 || *e < *s) return bad();
    m.start = *s;
    m.end = *e;
    m.readable = perms[0] == 'r';
    m.writable = perms[1] == 'w';
    m.executable = perms[2] == 'x';
    m.shared = perms[3] == 's';
    m.offset = *o;
    m.dev_major = *dmaj;
    m.dev_minor = *dmin;
    m.inode = *ino;
    // The path is the rest of the line after the padding; it may contain spaces.
    std::string_view path = line;
    while (!path.empty() && path.front() == ' ') path.remove_prefix(1);
    constexpr std::string_view deleted_suffix = " (deleted)";
    if (path.ends_with(deleted_suffix) && m.inode != 0) {
        m.deleted = true;
        path.remove_suffix(deleted_suffix.size());
    }
    m.path = std::string{path};
    return m;
}

} // namespace triage::procfs::detail

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<std::vector<mapping>> parse_maps(std::string_view text) {
    std::vector<mapping> out;
    std::size_t line_number = 0;
    while (!text.empty()) {
        std::string_view line = next_line(text);
        ++line_number;
        if (line.empty()) continue;
        out.push_back(TRIAGE_TRY(detail::parse_maps_line(line, line_number)));
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL result<std::vector<mapping>> read_maps(pid_t pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/maps";
    auto text = read_file(path);
    if (!text) {
        error e = std::move(text.error());
        if (e.code == errc::not_found) e.code = errc::no_such_process;
        return fail(std::move(e));
    }
    return parse_maps(*text);
}

} // namespace triage::procfs
