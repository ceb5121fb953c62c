// triage/report/python_top.hpp — the hottest Python functions of a live
// process, as `py-spy top` shows them: the ticks of cpython::sample_stacks
// counted per function, and a screen of text drawn from the counts.
//
// Offers:
//  - `python_top{options}`: `add(tick)` counts, for each function (name
//    and file; with `options.lines`, also the line), its own samples (it is
//    the innermost frame of a thread's stack) and its total samples (it is
//    anywhere in the stack: once per stack, however deep its recursion), in
//    the current window and since the start; `next_window()` starts a new
//    window (one refresh of a view). Which stacks count: those of threads on
//    a CPU (all with `options.idle`), only the GIL holder's with
//    `options.gil_only`; the others are counted as left out. Per window and
//    since the start (`python_top_counts`): ticks, stacks counted and left
//    out, threads on a CPU, ticks in which a thread held the GIL, the rate
//    achieved; `gil_holder()`: the thread that held the GIL most.
//    `sorted(key)`: the functions, hottest first; `python_top_sort_named`
//    gives a key from its name.
//  - `render_python_top(top, screen)`: a screen of plain text (no terminal
//    escapes: the caller draws it), every line at most `screen.width`
//    display columns, at most `screen.height` lines (0: no limit): a header
//    (pid, Python version, command line; samples — ticks, each one look at
//    every thread —, rate achieved of asked, threads on a CPU of all, GIL
//    share and its main holder; what was left out), then one row per
//    function, sorted by `screen.sort`:
//      %Own  %Total  OwnTime  TotalTime  Function (file:line)
//    Percentages are of the window's ticks (100% = one thread there for the
//    whole window, as top's CPU%; threads add up past 100%); times are
//    since the start: samples × the period achieved. Function and file
//    names are escaped (escape_controls); a file too long for the width
//    loses its start ("...ms/py_split_time.py"), then a line its end.
//    Widths count East Asian wide characters as two columns.
// Thread-safe: no (one python_top per thread). Signal-safe: no.
// Target process: none (plain values).
//
//   triage::report::python_top top{{}};
//   TRIAGE_TRY(triage::cpython::sample_stacks(py, options, [&](const auto& tick) { top.add(tick); }));
//   triage::report::python_top_screen screen;
//   screen.pid = pid;
//   screen.width = 120;
//   std::fputs(triage::report::render_python_top(top, screen).c_str(), stdout);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/cpython/sampler.hpp"

namespace triage::report {

struct python_top_options {
    bool idle = false;      // count stacks of threads not on a CPU
    bool gil_only = false;  // count only the stack of the thread holding the GIL
    bool lines = false;     // one row per function and line (else per function and file)
};

struct python_top_function {
    std::string function;
    std::string file;
    int line = 0;                  // 0: not kept (options.lines off), or none
    std::uint64_t own = 0;         // this window: the innermost frame
    std::uint64_t total = 0;       // this window: anywhere in the stack
    std::uint64_t own_all = 0;     // since the start
    std::uint64_t total_all = 0;
};

// What a window (or everything since the start) saw.
struct python_top_counts {
    std::uint64_t ticks = 0;
    std::uint64_t thread_samples = 0;  // thread stacks seen, counted or not
    std::uint64_t samples = 0;         // thread stacks counted
    std::uint64_t idle = 0;            // left out: the thread was not on a CPU
    std::uint64_t gil_dropped = 0;     // left out: not holding the GIL (options.gil_only)
    std::uint64_t empty = 0;           // no Python frame (a C thread, or one between calls)
    std::uint64_t on_cpu = 0;          // thread stacks of threads on a CPU
    std::uint64_t gil_ticks = 0;       // ticks in which a thread held the GIL
    std::uint64_t intervals = 0;       // ticks that followed another, and
    std::chrono::nanoseconds span{0};  // the time between them

    // Ticks per second over `span`; 0 before two ticks.
    [[nodiscard]] double achieved_rate() const noexcept {
        return span.count() > 0 ? static_cast<double>(intervals) * 1e9 / static_cast<double>(span.count()) : 0;
    }
};

struct python_top_thread {
    std::string label;            // "1234 MainThread" (tid and threading's name), or "ident 139…"
    std::uint64_t gil_ticks = 0;  // this window
    std::uint64_t gil_ticks_all = 0;
};

// What rows are sorted by (the columns, left to right).
enum class python_top_sort { own, total, own_time, total_time };

// The key a name gives: "own", "total", "own-time", "total-time" (as
// triage-top's --sort takes them); nullopt for any other.
[[nodiscard]] TRIAGE_DECL std::optional<python_top_sort> python_top_sort_named(std::string_view name) noexcept;

class python_top {
public:
    explicit python_top(python_top_options options = {}) : options_{options} {}

    TRIAGE_DECL void add(const cpython::sampling_tick& tick);
    // A new window: its counts start again from zero; those since the start go on.
    TRIAGE_DECL void next_window();

    [[nodiscard]] const python_top_options& options() const noexcept { return options_; }
    [[nodiscard]] const std::vector<python_top_function>& functions() const noexcept { return functions_; }
    [[nodiscard]] const python_top_counts& window() const noexcept { return window_; }
    [[nodiscard]] const python_top_counts& cumulative() const noexcept { return all_; }
    [[nodiscard]] const std::vector<python_top_thread>& threads() const noexcept { return threads_; }
    // Threads in the latest tick.
    [[nodiscard]] std::size_t thread_count() const noexcept { return thread_count_; }
    // The thread that held the GIL in most of the window's ticks (since the
    // start when none did in the window); nullptr when none ever did.
    [[nodiscard]] TRIAGE_DECL const python_top_thread* gil_holder() const;
    // The functions, hottest first by `key`; ties by the next columns, then by name.
    [[nodiscard]] TRIAGE_DECL std::vector<const python_top_function*> sorted(python_top_sort key) const;

private:
    [[nodiscard]] TRIAGE_DECL std::uint32_t function_index(const cpython::python_frame& frame);
    [[nodiscard]] TRIAGE_DECL std::uint32_t thread_index(const cpython::thread_sample& t);

    python_top_options options_;
    std::vector<python_top_function> functions_;
    std::unordered_map<std::string, std::uint32_t> function_ids_;  // by function, file, line
    std::vector<std::uint64_t> last_stack_;                        // per function: the stack it was last counted in
    std::uint64_t stack_number_ = 0;
    std::vector<python_top_thread> threads_;
    std::map<std::tuple<std::uint64_t, pid_t>, std::uint32_t> thread_ids_;  // by ident and tid
    python_top_counts window_, all_;
    std::optional<std::chrono::nanoseconds> last_at_;
    std::size_t thread_count_ = 0;
    std::string key_;  // scratch
};

struct python_top_screen {
    pid_t pid = 0;
    std::string python_version;  // "3.11.2"; "" unknown
    std::string command;         // the target's command line (escaped when drawn); "" none
    double rate_hz = 0;          // asked: shown, and the period of times before a rate is achieved
    python_top_sort sort = python_top_sort::own;
    std::size_t width = 0;       // display columns; 0: no limit
    std::size_t height = 0;      // lines; 0: no limit
    std::size_t max_rows = 0;    // function rows; 0: as many as fit
    std::string status;          // the last line (keys, or why sampling ended); "" none
};

[[nodiscard]] TRIAGE_DECL std::string render_python_top(const python_top& top, const python_top_screen& screen);

namespace detail::python_top {

// Display columns of escaped text: 2 for East Asian wide and fullwidth
// characters, 0 for combining marks and zero-width characters, 1 for others.
[[nodiscard]] TRIAGE_DECL std::size_t display_width(std::string_view text) noexcept;

// `text` cut to at most `columns` display columns: its start kept and "..."
// at its end (`keep_end`: its end kept, "..." first).
[[nodiscard]] TRIAGE_DECL std::string fit(std::string_view text, std::size_t columns, bool keep_end = false);

// "0.25s", "12m05s", "3h07m".
[[nodiscard]] TRIAGE_DECL std::string duration_text(double seconds);

} // namespace detail::python_top

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/python_top.ipp"
#endif
