// triage/report/impl/stack_diff.ipp — the definitions of
// triage/report/stack_diff.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/stack_diff.hpp"

namespace triage::report::detail::stack_diff {

[[nodiscard]] TRIAGE_DECL bool same_thread(const cpython::thread_stack& a, const cpython::thread_stack& b) {
    return a.tid && b.tid ? *a.tid == *b.tid : a.python_ident == b.python_ident;
}

[[nodiscard]] TRIAGE_DECL bool same_frames(const cpython::thread_stack& a, const cpython::thread_stack& b) {
    return std::ranges::equal(a.frames, b.frames, [](const cpython::python_frame& x, const cpython::python_frame& y) {
        return x.function == y.function && x.file == y.file && x.line == y.line;
    });
}

} // namespace triage::report::detail::stack_diff

namespace triage::report {

[[nodiscard]] TRIAGE_DECL stack_diff diff_stacks(const cpython::python_stacks_report& before, const cpython::python_stacks_report& after) {
    namespace d = detail::stack_diff;
    stack_diff out;
    for (const auto& t : after.threads) {
        auto was = std::ranges::find_if(before.threads, [&](const auto& b) { return d::same_thread(b, t); });
        if (was == before.threads.end()) out.changes.push_back({std::nullopt, t});
        else if (d::same_frames(*was, t)) ++out.same;
        else out.changes.push_back({*was, t});
    }
    for (const auto& t : before.threads) {
        if (std::ranges::none_of(after.threads, [&](const auto& a) { return d::same_thread(t, a); }))
            out.changes.push_back({t, std::nullopt});
    }
    return out;
}

} // namespace triage::report
