// triage/report/python_top_view.hpp — the refreshing terminal view of the
// hottest Python functions (python_top.hpp), like `py-spy top`: sampled
// without stopping the process, redrawn every refresh, until q, a signal
// or the target's exit.
//
// Offers:
//  - `python_top_table(py, top, screen, sampling)`: one table instead of
//    the view: samples for `sampling.duration`, then renders `top` with
//    `screen`, whose status says why sampling ended early (the process
//    exited, or stop_requested).
//  - `run_python_top_view(py, top, screen, sampling, refresh)`: opens
// a terminal_view (put back on every way out), samples with
// cpython::sample_stacks, adds every tick to `top`, redraws the table
// every `refresh` of samples (then starts a new window of `top`), and
// between two at once when a key sorts it (1-4: python_top_sort in order)
// or the terminal is resized; q ends it. `screen` gives the header and the
// status line (empty: the keys, the refresh and the rate); its size
// follows the terminal's. Returns the sampler's summary and how the view
// ended, once the terminal is put back.
//  - `describe(summary)`: "1234 samples in 12.3 s (99.8 Hz)"; `describe(end)`
//    of a view: "quit after 1234 samples in 12.3 s (99.8 Hz)" (or "process
//    PID exited after", "interrupted after").
// Errors: sample_stacks's, and no_such_process when the process exited
// before a sample (nothing to show). Thread-safe: no (one view per process).
// Signal-safe: no. Target process: reads its memory at the sampling rate;
// never stops it.
//
//   triage::report::python_top top;
//   auto ended = TRIAGE_TRY(triage::report::run_python_top_view(py, top, screen, {.rate_hz = 100},
//                                                               std::chrono::seconds{1}));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/sampler.hpp"
#include "triage/report/python_top.hpp"

namespace triage::report {

struct python_top_view_end {
    pid_t pid = 0;  // the process viewed
    cpython::sampling_summary summary;
    bool quit = false;  // q was typed (else a signal, the sampling's stop_requested, or the target's exit)
};

struct python_top_table_end {
    cpython::sampling_summary summary;
    std::string text;  // the table, as render_python_top draws it
};

[[nodiscard]] TRIAGE_DECL result<python_top_table_end> python_top_table(cpython::live_python& py, python_top& top,
                                                                        python_top_screen screen,
                                                                        const cpython::sampling_options& sampling);

[[nodiscard]] TRIAGE_DECL std::string describe(const cpython::sampling_summary& summary);

[[nodiscard]] TRIAGE_DECL std::string describe(const python_top_view_end& end);

[[nodiscard]] TRIAGE_DECL result<python_top_view_end> run_python_top_view(cpython::live_python& py, python_top& top,
                                                                          python_top_screen screen,
                                                                          cpython::sampling_options sampling,
                                                                          std::chrono::nanoseconds refresh);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/python_top_view.ipp"
#endif
