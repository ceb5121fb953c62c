// triage/report/detail/json.hpp — small pieces shared by the JSON writers.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace triage::report::detail {

// The value, or JSON null.
template <class T>
[[nodiscard]] nlohmann::ordered_json or_null(const std::optional<T>& value) {
    return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

// The document as our programs print it: ensure_ascii (target strings may
// hold C1 controls such as U+009B, which a terminal obeys even inside a JSON
// string) and invalid UTF-8 replaced, never thrown.
[[nodiscard]] inline std::string json_text(const nlohmann::ordered_json& doc, int indent) {
    return doc.dump(indent, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace triage::report::detail
