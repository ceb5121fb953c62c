// triage/report/python_format.hpp — {fmt} formatters for Python stacks.
//
// Offers: `fmt::formatter` for
//  - `cpython::python_frame`: `function (file:line)`, or `function (file)`
//    when the instruction has no line;
//  - `cpython::python_thread`: a header line (`Thread 0x7f3a… "name" (tid 1260)`,
//    and `holds the GIL`), then each frame on its own line, indented four
//    spaces, innermost first, then notes on a torn or incomplete stack;
//  - `cpython::thread_stack`: the same block as triage-pystack prints it:
//    `Thread 1260 (ns 42) "request-7" (python3) holds GIL running 99.1%`
//    (the Python name, then the OS name where it differs; the OS name alone
//    for a thread threading does not know), then the frames.
// Every target-supplied string (names, files, the walk's error) is escaped
// with escape_controls (base/escape.hpp): a function named "\x1b[2J" cannot
// clear the reader's screen. No format spec is accepted.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   for (const auto& t : snapshot.threads) fmt::print("{}\n", t);
//   fmt::print("{}\n", snapshot.threads[0].frames.at(0));   // find_anchor (service.py:41)
#pragma once

#include <optional>
#include <vector>

#include <fmt/core.h>

#include "triage/base/escape.hpp"
#include "triage/cpython/python_stacks_report.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/procfs/stat.hpp"

namespace triage::report::detail {

// Formatters that take no spec.
struct plain_formatter {
    constexpr auto parse(fmt::format_parse_context& ctx) {
        if (ctx.begin() != ctx.end() && *ctx.begin() != '}') ctx.on_error("triage formatters take no spec");
        return ctx.begin();
    }
};

// The frames of a stack, one per line, and what is wrong with it.
template <class Out>
Out write_frames(Out out, const std::vector<cpython::python_frame>& frames, bool consistent,
                 const std::optional<error>& failure) {
    for (const auto& f : frames) out = fmt::format_to(out, "\n    {}", f);
    if (frames.empty() && !failure) out = fmt::format_to(out, "\n    (no Python frames)");
    if (!consistent) out = fmt::format_to(out, "\n    (this stack changed while it was read; it may be torn)");
    if (failure) out = fmt::format_to(out, "\n    (stack incomplete: {})", escape_controls(failure->message()));
    return out;
}

} // namespace triage::report::detail

template <>
struct fmt::formatter<triage::cpython::python_frame> : triage::report::detail::plain_formatter {
    template <class Context>
    auto format(const triage::cpython::python_frame& f, Context& ctx) const {
        auto out = fmt::format_to(ctx.out(), "{} ({}", triage::escape_controls(f.function), triage::escape_controls(f.file));
        if (f.line) out = fmt::format_to(out, ":{}", *f.line);
        return fmt::format_to(out, ")");
    }
};

template <>
struct fmt::formatter<triage::cpython::python_thread> : triage::report::detail::plain_formatter {
    template <class Context>
    auto format(const triage::cpython::python_thread& t, Context& ctx) const {
        auto out = fmt::format_to(ctx.out(), "Thread {:#x}", t.python_ident);
        if (!t.python_name.empty()) out = fmt::format_to(out, " \"{}\"", triage::escape_controls(t.python_name));
        if (t.tid) out = fmt::format_to(out, " (tid {})", *t.tid);
        if (t.holds_gil) out = fmt::format_to(out, " holds the GIL");
        return triage::report::detail::write_frames(out, t.frames, t.consistent, t.failure);
    }
};

template <>
struct fmt::formatter<triage::cpython::thread_stack> : triage::report::detail::plain_formatter {
    template <class Context>
    auto format(const triage::cpython::thread_stack& t, Context& ctx) const {
        auto out = t.tid ? fmt::format_to(ctx.out(), "Thread {}", *t.tid) : fmt::format_to(ctx.out(), "Thread ?");
        if (t.ns_tid) out = fmt::format_to(out, " (ns {})", *t.ns_tid);
        // The Python name first; the OS name after it when it says something else (3.14+ sets the
        // OS name from the Python one, cut to 15 bytes).
        const bool os_name_differs = !t.python_name.empty() && !t.name.empty() && t.name != t.python_name &&
                                     !(t.name.size() == 15 && t.python_name.starts_with(t.name));
        out = fmt::format_to(out, " \"{}\"", triage::escape_controls(t.python_name.empty() ? t.name : t.python_name));
        if (os_name_differs) out = fmt::format_to(out, " ({})", triage::escape_controls(t.name));
        out = fmt::format_to(out, "{} {}",
                             t.holds_gil ? " holds GIL" : (t.waits_for_gil ? " waits for GIL" : ""),
                             triage::procfs::state_word(t.state));
        if (t.cpu_percent) out = fmt::format_to(out, " {:.1f}%", *t.cpu_percent);
        return triage::report::detail::write_frames(out, t.frames, t.consistent, t.failure);
    }
};
