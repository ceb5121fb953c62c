// triage/procfs/impl/auxv.ipp — the definitions of
// triage/procfs/auxv.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/auxv.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<std::vector<auxv_entry>> parse_auxv(std::span<const std::byte> bytes) {
    constexpr std::size_t pair = 2 * sizeof(std::uint64_t);
    if (bytes.size() % pair != 0)
        return fail(errc::malformed, "parsing auxv: " + std::to_string(bytes.size()) + " bytes is not a whole number of pairs");
    std::vector<auxv_entry> out;
    out.reserve(bytes.size() / pair);
    for (std::size_t at = 0; at < bytes.size(); at += pair) {
        auxv_entry e;
        std::memcpy(&e.type, bytes.data() + at, sizeof e.type);
        std::memcpy(&e.value, bytes.data() + at + sizeof e.type, sizeof e.value);
        if (e.type == AT_NULL) break;
        out.push_back(e);
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL result<std::vector<auxv_entry>> read_auxv(const proc_dir& dir, pid_t tid) {
    std::string bytes = TRIAGE_TRY(dir.read_all(tid, "auxv"));
    auto entries = parse_auxv(std::as_bytes(std::span{bytes}));
    if (!entries) return fail(std::move(entries.error()).within("reading " + dir.path(tid, "auxv")));
    return entries;
}

[[nodiscard]] TRIAGE_DECL result<std::vector<auxv_entry>> read_auxv(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_auxv(dir, tid);
}

} // namespace triage::procfs
