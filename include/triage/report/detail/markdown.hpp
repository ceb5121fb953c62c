// triage/report/detail/markdown.hpp — target-supplied text inside Markdown.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "triage/base/escape.hpp"

namespace triage::report::detail {

// `text` as a Markdown code span: controls escaped (escape_controls), fenced
// with one backtick more than the longest run inside it, so that nothing in
// it is read as Markdown (emphasis, links, HTML) and it cannot end the span.
// Not for table cells (a '|' would end the cell).
[[nodiscard]] inline std::string markdown_code(std::string_view text) {
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
