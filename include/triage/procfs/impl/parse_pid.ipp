// triage/procfs/impl/parse_pid.ipp — the definitions of
// triage/procfs/parse_pid.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/parse_pid.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<pid_t> parse_pid(std::string_view text) {
    auto value = parse_unsigned<unsigned>(text);
    if (value && *value >= 1 && *value <= static_cast<unsigned>(pid_max_limit)) return static_cast<pid_t>(*value);
    return fail(errc::invalid_argument, {},
                "'" + escape_controls(text) + "' is not a process id (a decimal number from 1 to " + std::to_string(pid_max_limit) + ")");
}

} // namespace triage::procfs
