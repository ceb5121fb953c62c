// triage/report/detail/markdown.hpp — target-supplied text inside Markdown.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/escape.hpp"

namespace triage::report::detail {

// `text` as a Markdown code span: controls escaped (escape_controls), fenced
// with one backtick more than the longest run inside it, so that nothing in
// it is read as Markdown (emphasis, links, HTML) and it cannot end the span.
// Not for table cells (a '|' would end the cell).
[[nodiscard]] TRIAGE_DECL std::string markdown_code(std::string_view text);

} // namespace triage::report::detail

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/detail/impl/markdown.ipp"
#endif
