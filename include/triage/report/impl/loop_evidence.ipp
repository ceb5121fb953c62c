// triage/report/impl/loop_evidence.ipp — the definitions of
// triage/report/loop_evidence.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/loop_evidence.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL loop_evidence loop_evidence_of(std::span<const std::vector<cpython::python_frame>> samples) {
    loop_evidence out;
    out.samples = samples.size();
    if (samples.empty() || std::ranges::any_of(samples, [](const auto& s) { return s.empty(); })) return out;
    // frame(s, level): level 0 is the outermost.
    auto frame = [](const std::vector<cpython::python_frame>& s, std::size_t level) -> const cpython::python_frame& {
        return s[s.size() - 1 - level];
    };
    std::size_t shallowest = samples.front().size();
    for (const auto& s : samples) shallowest = std::min(shallowest, s.size());
    std::optional<std::size_t> anchor;
    for (std::size_t level = 0; level < shallowest; ++level) {
        const auto& first = frame(samples.front(), level);
        if (!std::ranges::all_of(samples, [&](const auto& s) { return frame(s, level).code == first.code; })) break;
        anchor = level;
        if (!std::ranges::all_of(samples, [&](const auto& s) { return frame(s, level).line == first.line; })) break;
    }
    if (!anchor) return out;
    out.anchor = frame(samples.back(), *anchor);
    out.whole_stack_same = *anchor + 1 == shallowest &&
                           std::ranges::all_of(samples, [&](const auto& s) { return s.size() == shallowest; });
    for (const auto& s : samples) {
        const int line = frame(s, *anchor).line.value_or(0);
        if (!out.went_back && !out.lines.empty() && line != 0 && out.lines.back() != 0 && line < out.lines.back()) {
            out.went_back = true;
            out.back_from = out.lines.back();
            out.back_to = line;
        }
        out.lines.push_back(line);
    }
    return out;
}

} // namespace triage::report
