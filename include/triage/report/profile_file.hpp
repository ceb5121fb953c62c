// triage/report/profile_file.hpp — a recorded profile as the bytes of a
// file in the format asked, and the names of those formats: what
// triage-record and triage-gcore --stacks share.
//
// Offers:
//  - `profile_format` (collapsed, speedscope, pprof, flamegraph),
//    `profile_format_named(name)` (nullopt for an unknown name) and
//    `profile_format_for(path)`: by the file's ending (.svg flamegraph,
//    .json speedscope, .pb.gz or .pprof pprof, else collapsed).
//  - `profile_bytes(p, format, recording)`: the file's bytes;
//    `recording` says what the formats that carry it show (the name, the
//    period, when and how long it sampled, the rate achieved).
//  - `hottest_stack(p)`: the stack with the most samples (first seen on a
//    tie), nullptr when there is none.
// Errors: those of to_pprof (a profile too large to encode).
// Thread-safe: yes (const). Signal-safe: no. Target process: none.
//
//   auto bytes = TRIAGE_TRY(triage::report::profile_bytes(p, triage::report::profile_format_for(path), rec));
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/report/profile.hpp"

namespace triage::report {

enum class profile_format { collapsed, speedscope, pprof, flamegraph };

struct profile_recording {
    std::string name;                                 // e.g. "triage-record 1234"
    std::chrono::nanoseconds period{};                // 1 / the rate asked
    std::chrono::system_clock::time_point start{};    // when sampling began
    std::chrono::nanoseconds duration{};              // how long it sampled
    double achieved_rate = 0;                         // ticks per second
};

[[nodiscard]] TRIAGE_DECL std::optional<profile_format> profile_format_named(std::string_view name) noexcept;

[[nodiscard]] TRIAGE_DECL profile_format profile_format_for(std::string_view path) noexcept;

[[nodiscard]] TRIAGE_DECL result<std::string> profile_bytes(const profile& p, profile_format format,
                                                            const profile_recording& recording);

[[nodiscard]] TRIAGE_DECL const profile_stack* hottest_stack(const profile& p) noexcept;

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/profile_file.ipp"
#endif
