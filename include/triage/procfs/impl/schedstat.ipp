// triage/procfs/impl/schedstat.ipp — the definitions of
// triage/procfs/schedstat.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/schedstat.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<schedstat> parse_schedstat(std::string_view text) {
    text = trim(text);
    std::uint64_t fields[3]{};
    for (std::uint64_t& field : fields) {
        auto value = parse_unsigned<std::uint64_t>(next_token(text, ' '));
        // Nanoseconds past 2^63 are ~292 years of CPU: not a real file.
        if (!value || *value > static_cast<std::uint64_t>(INT64_MAX)) {
            return fail(errc::malformed, "parsing schedstat: expected three numbers");
        }
        field = *value;
    }
    if (!text.empty()) return fail(errc::malformed, "parsing schedstat: more than three fields");
    return schedstat{std::chrono::nanoseconds{static_cast<std::int64_t>(fields[0])},
                     std::chrono::nanoseconds{static_cast<std::int64_t>(fields[1])}, fields[2]};
}

[[nodiscard]] TRIAGE_DECL result<schedstat> read_schedstat(const proc_dir& dir, pid_t tid) {
    char buffer[128];  // three 20-digit numbers at most
    std::string_view text = TRIAGE_TRY(dir.read(tid, "schedstat", buffer));
    auto s = parse_schedstat(text);
    if (!s) return fail(std::move(s.error()).within("reading " + dir.path(tid, "schedstat")));
    return s;
}

[[nodiscard]] TRIAGE_DECL result<schedstat> read_schedstat(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_schedstat(dir, tid);
}

} // namespace triage::procfs
