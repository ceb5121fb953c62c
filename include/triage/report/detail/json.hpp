// triage/report/detail/json.hpp — small pieces shared by the JSON writers.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace triage::report::detail {

// The value, or JSON null.
template <class T>
[[nodiscard]] nlohmann::ordered_json or_null(const std::optional<T>& value) {
    return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

} // namespace triage::report::detail
