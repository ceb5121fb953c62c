// triage/report/profile_formats.hpp — a profile (profile.hpp) written in the
// formats other tools read.
//
// Offers:
//  - `to_collapsed(p)`: Brendan Gregg's folded stacks, what flamegraph.pl,
//    inferno and speedscope import: one line per distinct stack, frames
//    outermost first joined by ';', a space, the sample count. A frame is
//    "function (file:line)" ("function (file)" without lines); with
//    by_thread the thread's label is the first frame. ';' and control
//    characters in names (a hostile co_name or file name) are escaped
//    (escape_controls; ';' as "\x3b"), so a line always splits as folded.
//  - `to_speedscope(p, name, period)`: speedscope's file format
//    (https://www.speedscope.app/file-format-schema.json): the frames
//    shared, one "sampled" profile per thread label, each sample's stack
//    outermost first, weighted by the sampling period in seconds.
// Thread-safe: yes (const). Signal-safe: no. Target process: none.
//
//   std::ofstream{"out.folded"} << triage::report::to_collapsed(p);
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/report/profile.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_collapsed(const profile& p);

[[nodiscard]] TRIAGE_DECL std::string to_speedscope(const profile& p, std::string_view name,
                                                    std::chrono::nanoseconds period);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/profile_formats.ipp"
#endif
