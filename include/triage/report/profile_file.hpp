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
//    tie), nullptr when there is none; `describe_hottest(p)`: its innermost
//    frame and share, "f (file.py:12) in 40% of the samples" ("" if none).
//  - `record_profile_file(py, path, options)`: the whole recording: the
//    file is created first (a path that cannot be written fails before a
//    sample is taken; `replace`: an existing regular file is replaced,
//    never a link, device or FIFO; else the path must not exist), then
//    cpython::sample_stacks runs with `options.sampling` (each tick folded,
//    then handed to `on_tick`, e.g. for a progress line), then the file is
//    written in `format` (default: by the path's ending). When
//    `options.sampling.stop_requested` ends it, the file holds what was
//    sampled, unless `discard_when_stopped`: then it is removed and the
//    result is errc::interrupted. A failed recording or write removes it.
//    Returns the path, the profile and the sampler's summary.
// Errors: those of to_pprof (a profile too large to encode); record_profile_file
// adds errno errors creating or writing the file, those of sample_stacks,
// and errc::interrupted (above).
// Thread-safe: yes (const); record_profile_file as sample_stacks. Signal-safe:
// no. Target process: none, but record_profile_file samples it as
// sample_stacks does (never stopped unless `sampling.native`).
//
//   auto bytes = TRIAGE_TRY(triage::report::profile_bytes(p, triage::report::profile_format_for(path), rec));
//   auto rec = TRIAGE_TRY(triage::report::record_profile_file(py, "out.svg", {.sampling = {.rate_hz = 100}}));
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/sampler.hpp"
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

[[nodiscard]] TRIAGE_DECL std::string describe_hottest(const profile& p);

struct profile_file_options {
    cpython::sampling_options sampling{};
    profile_options keep{};
    std::optional<profile_format> format{};  // nullopt: by the path's ending
    std::string name{};                      // the profile's title; "": "triage PID"
    bool replace = true;                     // an existing regular file is replaced; false: it must not exist
    unsigned mode = 0666;                    // of a new file (the umask applies)
    bool discard_when_stopped = false;       // stop_requested removes the file: errc::interrupted
    std::function<void(const cpython::sampling_tick&, const profile&)> on_tick{};  // after each tick is folded
};

struct recorded_profile_file {
    std::string path;
    profile folded;
    cpython::sampling_summary summary;
};

[[nodiscard]] TRIAGE_DECL result<recorded_profile_file> record_profile_file(cpython::live_python& py, const std::string& path,
                                                                           const profile_file_options& options);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/profile_file.ipp"
#endif
