// triage/report/detail/python_json.hpp — Python frames as JSON, for every
// writer that prints a stack.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "triage/cpython/stack_walker.hpp"
#include "triage/report/detail/json.hpp"

namespace triage::report::detail {

// [{function, file, line (null: none)}], innermost first.
[[nodiscard]] inline nlohmann::ordered_json frames_json(const std::vector<cpython::python_frame>& frames) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& f : frames) out.push_back({{"function", f.function}, {"file", f.file}, {"line", or_null(f.line)}});
    return out;
}

} // namespace triage::report::detail
