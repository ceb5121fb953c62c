// triage/procfs/impl/cmdline.ipp — the definitions of
// triage/procfs/cmdline.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/cmdline.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL std::vector<std::string> parse_cmdline(std::string_view bytes) {
    std::vector<std::string> args;
    while (!bytes.empty()) {
        std::size_t nul = bytes.find('\0');
        args.emplace_back(bytes.substr(0, nul));
        bytes.remove_prefix(nul == std::string_view::npos ? bytes.size() : nul + 1);
    }
    return args;
}

[[nodiscard]] TRIAGE_DECL std::string join_cmdline(const std::vector<std::string>& args) {
    std::string line;
    for (const auto& arg : args) {
        if (!line.empty()) line += ' ';
        line += arg;
    }
    return line;
}

[[nodiscard]] TRIAGE_DECL result<std::vector<std::string>> read_cmdline(const proc_dir& dir, pid_t tid) {
    std::string bytes = TRIAGE_TRY(dir.read_all(tid, "cmdline"));
    return parse_cmdline(bytes);
}

[[nodiscard]] TRIAGE_DECL result<std::vector<std::string>> read_cmdline(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_cmdline(dir, tid);
}

} // namespace triage::procfs
