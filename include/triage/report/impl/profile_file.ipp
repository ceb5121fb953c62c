// triage/report/impl/profile_file.ipp — the definitions of
// triage/report/profile_file.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <fmt/core.h>

#include "triage/report/flamegraph.hpp"
#include "triage/report/pprof.hpp"
#include "triage/report/profile_file.hpp"
#include "triage/report/profile_formats.hpp"

namespace triage::report {

TRIAGE_DECL std::optional<profile_format> profile_format_named(std::string_view name) noexcept {
    if (name == "collapsed") return profile_format::collapsed;
    if (name == "speedscope") return profile_format::speedscope;
    if (name == "pprof") return profile_format::pprof;
    if (name == "flamegraph") return profile_format::flamegraph;
    return std::nullopt;
}

TRIAGE_DECL profile_format profile_format_for(std::string_view path) noexcept {
    if (path.ends_with(".svg")) return profile_format::flamegraph;
    if (path.ends_with(".json")) return profile_format::speedscope;
    if (path.ends_with(".pb.gz") || path.ends_with(".pprof")) return profile_format::pprof;
    return profile_format::collapsed;
}

TRIAGE_DECL result<std::string> profile_bytes(const profile& p, profile_format format, const profile_recording& recording) {
    switch (format) {
    case profile_format::pprof: return to_pprof(p, {recording.period, recording.start, recording.duration});
    case profile_format::flamegraph: {
        flamegraph_options o;
        o.title = recording.name;
        o.subtitle = fmt::format("{} samples{} at {:.0f} Hz over {:.1f} s{}", p.samples(), p.options().idle ? "" : " on a CPU",
                                 recording.achieved_rate, std::chrono::duration<double>(recording.duration).count(),
                                 p.options().gil_only ? ", GIL holder only" : "");
        return to_flamegraph(p, o);
    }
    case profile_format::speedscope: return to_speedscope(p, recording.name, recording.period);
    case profile_format::collapsed: break;
    }
    return to_collapsed(p);
}

TRIAGE_DECL const profile_stack* hottest_stack(const profile& p) noexcept {
    const profile_stack* top = nullptr;
    for (const profile_stack& s : p.stacks()) {
        if (!s.frames.empty() && (top == nullptr || s.samples > top->samples)) top = &s;
    }
    return top;
}

} // namespace triage::report
