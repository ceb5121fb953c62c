// triage/report/impl/progress.ipp — the definitions of
// triage/report/progress.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/progress.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string human_bytes(std::uint64_t n) {
    constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int unit = 0;
    while (v >= 1024 && unit < 4) {
        v /= 1024;
        ++unit;
    }
    return unit == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[unit]);
}

} // namespace triage::report
