// triage/procfs/impl/cgroup_memory.ipp — the definitions of
// triage/procfs/cgroup_memory.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/cgroup_memory.hpp"

namespace triage::procfs::detail {

// A number from a cgroup file; none for "max" and v1's "unlimited"
// (PAGE_COUNTER_MAX pages: anything at or above 2^62 is no limit).
[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> cgroup_number(const std::string& file) {
    auto text = read_file(file);
    if (!text) return std::nullopt;
    auto value = parse_unsigned<std::uint64_t>(trim(*text));
    if (!value || *value >= (std::uint64_t{1} << 62)) return std::nullopt;
    return value;
}

// `key`'s value in a memory.stat file; 0 when absent.
[[nodiscard]] TRIAGE_DECL std::uint64_t memory_stat(const std::string& file, std::string_view key) {
    auto text = read_file(file);
    if (!text) return 0;
    std::string_view rest = *text;
    while (!rest.empty()) {
        std::string_view line = next_line(rest);
        if (next_token(line, ' ') == key) return parse_unsigned<std::uint64_t>(trim(line)).value_or(0);
    }
    return 0;
}

[[nodiscard]] TRIAGE_DECL bool is_directory(const std::string& path) {
    struct ::stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace triage::procfs::detail

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<cgroup_memory> read_cgroup_memory(pid_t pid) {
    const std::string file = "/proc/" + std::to_string(pid) + "/cgroup";
    auto text = read_file(file);
    if (!text) return fail(std::move(text.error()));
    std::optional<std::string> v1, v2;
    std::string_view rest = *text;
    while (!rest.empty()) {
        std::string_view line = next_line(rest);
        std::string_view id = next_token(line, ':');
        std::string_view controllers = next_token(line, ':');
        if (id == "0" && controllers.empty()) v2 = std::string{line};
        std::string_view list = controllers;
        while (!list.empty())
            if (next_token(list, ',') == "memory") v1 = std::string{line};
    }
    cgroup_memory out;
    std::string root;
    if (v1 && detail::is_directory("/sys/fs/cgroup/memory" + *v1)) {
        out.path = *v1;
        root = "/sys/fs/cgroup/memory";
    } else if (v2) {
        for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
            if (detail::cgroup_number(std::string{mount} + *v2 + "/memory.current") ||
                ::access((std::string{mount} + *v2 + "/memory.current").c_str(), R_OK) == 0) {
                root = mount;
                break;
            }
        }
        out.path = *v2;
        out.v2 = true;
    }
    if (root.empty())
        return fail(errc::not_found, "reading the memory cgroup of pid " + std::to_string(pid),
                    "no memory controller is mounted where its cgroup (" + (v2 ? *v2 : v1.value_or("?")) + ") would be");
    std::string level = out.path;
    for (;;) {
        const std::string dir = root + (level == "/" ? "" : level);
        auto limit = detail::cgroup_number(dir + (out.v2 ? "/memory.max" : "/memory.limit_in_bytes"));
        if (limit) {
            const std::uint64_t usage = detail::cgroup_number(dir + (out.v2 ? "/memory.current" : "/memory.usage_in_bytes")).value_or(0);
            const std::uint64_t inactive = detail::memory_stat(dir + "/memory.stat", out.v2 ? "inactive_file" : "total_inactive_file");
            const std::uint64_t working = usage > inactive ? usage - inactive : 0;
            const std::uint64_t room = *limit > working ? *limit - working : 0;
            if (!out.limit || room < *out.headroom()) {
                out.limit = limit;
                out.working_set = working;
                out.limited_at = level;
            }
        }
        if (level == "/" || level.empty()) break;
        const auto slash = level.find_last_of('/');
        level = slash == 0 || slash == std::string::npos ? "/" : level.substr(0, slash);
    }
    return out;
}

} // namespace triage::procfs
