// triage/base/impl/text.ipp — the definitions of
// triage/base/text.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/text.hpp"

namespace triage {

[[nodiscard]] TRIAGE_DECL std::string hex(std::uint64_t value) {
    char buf[2 + 16] = {'0', 'x'};
    auto [end, ec] = std::to_chars(buf + 2, buf + sizeof buf, value, 16);
    return std::string{buf, end};
}

} // namespace triage
