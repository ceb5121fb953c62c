// triage/report/detail/python_json.hpp — Python frames as JSON, for every
// writer that prints a stack.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "triage/base/config.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/report/detail/json.hpp"

namespace triage::report::detail {

// [{function, file, line (null: none)}], innermost first.
[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json frames_json(const std::vector<cpython::python_frame>& frames);

} // namespace triage::report::detail

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/detail/impl/python_json.ipp"
#endif
