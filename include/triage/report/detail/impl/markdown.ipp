// triage/report/detail/impl/markdown.ipp — the definitions of
// triage/report/detail/markdown.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/detail/markdown.hpp"

namespace triage::report::detail {

[[nodiscard]] TRIAGE_DECL std::string markdown_code(std::string_view text) {
    const std::string body = escape_controls(text);
    std::size_t longest = 0, run = 0;
    for (char c : body) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const std::string fence(longest + 1, '`');
    const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
    return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

} // namespace triage::report::detail
