// triage/report/detail/impl/python_json.ipp — the definitions of
// triage/report/detail/python_json.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/detail/python_json.hpp"

namespace triage::report::detail {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json frames_json(const std::vector<cpython::python_frame>& frames) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& f : frames) out.push_back({{"function", f.function}, {"file", f.file}, {"line", or_null(f.line)}});
    return out;
}

} // namespace triage::report::detail
