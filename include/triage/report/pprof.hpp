// triage/report/pprof.hpp — a profile (profile.hpp) as a pprof profile: the
// gzip-compressed `perftools.profiles.Profile` protocol buffer
// (github.com/google/pprof, proto/profile.proto) that `go tool pprof`,
// Pyroscope and Parca read.
//
// Offers:
//  - `to_pprof(p, options)`: the gzip-compressed message, what a .pb.gz
//    file holds; `to_pprof_message(p, options)`: the same message
//    uncompressed.
// What the message holds:
//  - sample_type [{"samples","count"}, {kind,"nanoseconds"}], kind "cpu",
//    or "wall" when the profile kept idle samples (profile_options.idle);
//    period_type {kind,"nanoseconds"} and period from `options.period`;
//    time_nanos from `options.start`, duration_nanos from `options.duration`.
//  - one Function (ids from 1) per distinct function and file: name and
//    system_name the function, filename the file; one Location (id: the
//    frame's index in frames() + 1) per profile frame, one line {function,
//    line; no line when lines were not kept}; no Mapping (Python frames
//    have no address).
//  - one Sample per profile stack: location ids leaf first (pprof's order;
//    stacks() are outermost first), values {samples, samples × period}; with
//    by_thread, the label "thread" (the thread's label, "1234 MainThread")
//    and, when the label starts with a tid, "thread_id" (that number).
//  - the string table, "" first. Target strings (names, files, labels) are
//    kept as they are — controls too — but bytes that are not valid UTF-8
//    become U+FFFD: strict protobuf readers refuse a string that is not.
// Errors: errc::invalid_argument for a period that is not positive or a
//    negative duration; errc::limit_exceeded for a sample count × period
//    past int64 nanoseconds, or a message past protobuf's 2 GiB; errc::system
//    when zlib fails.
// Thread-safe: yes (const). Signal-safe: no. Target process: none.
//
//   auto gz = TRIAGE_TRY(triage::report::to_pprof(p, {.period = 10ms, .start = began, .duration = took}));
//   std::ofstream{"out.pb.gz", std::ios::binary} << gz;   // go tool pprof -top out.pb.gz
#pragma once

#include <chrono>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/report/profile.hpp"

namespace triage::report {

struct pprof_options {
    std::chrono::nanoseconds period{};                // between two samples of a thread (1 / rate)
    std::chrono::system_clock::time_point start{};    // when sampling began (epoch: not written)
    std::chrono::nanoseconds duration{};              // how long it sampled (0: not written)
};

[[nodiscard]] TRIAGE_DECL result<std::string> to_pprof_message(const profile& p, const pprof_options& options);

[[nodiscard]] TRIAGE_DECL result<std::string> to_pprof(const profile& p, const pprof_options& options);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/pprof.ipp"
#endif
