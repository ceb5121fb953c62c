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
//    for a thread threading does not know), then the frames; with native
//    stacks, the merged stack: `[C] function+0x1f in object (file:line)`
//    lines with the Python frames in place of the evaluation loop's, and
//    "(no Python)" after the header of a thread that runs none; with
//    greenlets, the thread's greenlets under its stack (each switched-out
//    one's frames indented under it).
// Every target-supplied string (names, files, the walk's error) is escaped
// with escape_controls (base/escape.hpp): a function named "\x1b[2J" cannot
// clear the reader's screen. No format spec is accepted.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   for (const auto& t : snapshot.threads) fmt::print("{}\n", t);
//   fmt::print("{}\n", snapshot.threads[0].frames.at(0));   // find_anchor (service.py:41)
#pragma once

#include <algorithm>
#include <initializer_list>
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
                 const std::optional<error>& failure, bool frames_written = false) {
    for (const auto& f : frames) out = fmt::format_to(out, "\n    {}", f);
    if (frames.empty() && !frames_written && !failure) out = fmt::format_to(out, "\n    (no Python frames)");
    if (!consistent) out = fmt::format_to(out, "\n    (this stack changed while it was read; it may be torn)");
    if (failure) out = fmt::format_to(out, "\n    (stack incomplete: {})", escape_controls(failure->message()));
    return out;
}

// A frame's arguments and locals, one per line under it:
// `        arg x = 42`; why they could not be read.
template <class Out>
Out write_locals(Out out, const cpython::frame_variables* v) {
    if (v == nullptr) return out;
    if (v->failure) return fmt::format_to(out, "\n        (locals not read: {})", escape_controls(v->failure->message()));
    for (const auto& l : v->values) {
        out = fmt::format_to(out, "\n        {} {} = {}", cpython::kind_name(l.kind), escape_controls(l.name),
                             escape_controls(l.repr));
    }
    return out;
}

// A native frame: `[C] function+0x1f in object (file:line)`, the pc where
// there is no symbol, and a note on an evaluation-loop frame left without
// Python frames.
template <class Out>
Out write_native_frame(Out out, const cpython::merged_frame& f) {
    const auto& s = f.symbol;
    out = fmt::format_to(out, "\n    [C] ");
    if (!s.function.empty()) out = fmt::format_to(out, "{}+{:#x}", escape_controls(s.function), s.offset);
    else out = fmt::format_to(out, "{:#x}", f.native.pc);
    if (!s.object.empty()) out = fmt::format_to(out, " in {}", escape_controls(s.object.substr(s.object.rfind('/') + 1)));
    if (!s.file.empty()) out = fmt::format_to(out, " ({}:{})", escape_controls(s.file), s.line);
    if (f.eval_loop) out = fmt::format_to(out, " (no Python frames matched)");
    return out;
}

// A merged stack (native frames, Python frames in place of the evaluation
// loop's), one per line, and what is wrong with it.
template <class Out>
Out write_merged(Out out, const cpython::thread_stack& t) {
    for (const auto& f : t.native) {
        if (!f.python) {
            out = write_native_frame(out, f);
            continue;
        }
        out = fmt::format_to(out, "\n    {}", f.py);
        if (!t.locals.empty()) out = write_locals(out, cpython::locals_of(t, f.py));
    }
    if (!t.consistent) out = fmt::format_to(out, "\n    (this stack changed while it was read; it may be torn)");
    if (t.failure) out = fmt::format_to(out, "\n    (Python stack incomplete: {})", escape_controls(t.failure->message()));
    if (t.native_failure)
        out = fmt::format_to(out, "\n    (native stack incomplete: {})", escape_controls(t.native_failure->message()));
    return out;
}

// " (1 running, 12 suspended)": how many of `items` are in each of `states`
// (in that order; states none is in are left out).
template <class Out, class Items, class State>
Out write_state_counts(Out out, const Items& items, std::initializer_list<State> states) {
    const char* separator = " (";
    for (const State state : states) {
        const auto n = std::count_if(items.begin(), items.end(), [&](const auto& item) { return item.state == state; });
        if (n == 0) continue;
        out = fmt::format_to(out, "{}{} {}", separator, n, cpython::to_string(state));
        separator = ", ";
    }
    return fmt::format_to(out, ")");
}

// A greenlet's line: `greenlet 0x7f3a… GreenThread suspended (parent
// 0x7f3a…)`, then a switched-out one's frames, indented eight spaces.
template <class Out>
Out write_greenlet(Out out, const cpython::greenlet_stack& g) {
    out = fmt::format_to(out, "\n    greenlet {:#x} {}{} {}", g.address, escape_controls(g.type), g.main ? " (main)" : "",
                         cpython::to_string(g.state));
    if (g.parent != 0) out = fmt::format_to(out, " (parent {:#x})", g.parent);
    if (g.state == cpython::greenlet_state::running) out = fmt::format_to(out, ": the stack above");
    for (const auto& f : g.frames) out = fmt::format_to(out, "\n        {}", f);
    if (g.failure) out = fmt::format_to(out, "\n        (not read in full: {})", escape_controls(g.failure->message()));
    return out;
}

// A thread's greenlets under its stack: how many in each state, then each.
template <class Out>
Out write_greenlets(Out out, const std::vector<cpython::greenlet_stack>& greenlets) {
    if (greenlets.empty()) return out;
    out = fmt::format_to(out, "\n    Greenlets of this thread: {}", greenlets.size());
    out = write_state_counts(out, greenlets,
                             {cpython::greenlet_state::running, cpython::greenlet_state::suspended,
                              cpython::greenlet_state::not_started, cpython::greenlet_state::dead});
    for (const auto& g : greenlets) out = write_greenlet(out, g);
    return out;
}

// A task's line: `task 0x7f3a… "fetch-3" waiting on _asyncio.Future
// 0x7f3a…, awaits "child" (0x7f3a…)`, then the coroutines it is suspended
// in, indented eight spaces. `all` names the tasks it awaits.
template <class Out>
Out write_task(Out out, const cpython::asyncio_task& t, const std::vector<cpython::asyncio_task>& all) {
    out = fmt::format_to(out, "\n    task {:#x} ", t.address);
    if (!t.name.empty()) out = fmt::format_to(out, "\"{}\" ", escape_controls(t.name));
    out = fmt::format_to(out, "{}", cpython::to_string(t.state));
    if (t.awaiting != 0) out = fmt::format_to(out, " on {} {:#x}", escape_controls(t.awaiting_type), t.awaiting);
    if (t.state == cpython::task_state::running) out = fmt::format_to(out, ": the stack above");
    const char* separator = ", awaits ";
    for (const std::uint64_t a : t.awaits) {
        auto named = std::find_if(all.begin(), all.end(), [&](const auto& o) { return o.address == a; });
        if (named != all.end() && !named->name.empty())
            out = fmt::format_to(out, "{}\"{}\" ({:#x})", separator, escape_controls(named->name), a);
        else out = fmt::format_to(out, "{}{:#x}", separator, a);
        separator = ", ";
    }
    for (const auto& f : t.frames) out = fmt::format_to(out, "\n        {}", f);
    if (t.failure) out = fmt::format_to(out, "\n        (not read in full: {})", escape_controls(t.failure->message()));
    return out;
}

// A thread's asyncio tasks under its stack: how many in each state, then each.
template <class Out>
Out write_tasks(Out out, const std::vector<cpython::asyncio_task>& tasks) {
    if (tasks.empty()) return out;
    out = fmt::format_to(out, "\n    Asyncio tasks of this thread's loop: {}", tasks.size());
    out = write_state_counts(out, tasks, {cpython::task_state::running, cpython::task_state::waiting, cpython::task_state::ready});
    for (const auto& t : tasks) out = write_task(out, t, tasks);
    return out;
}

// A thread's stack block: Python frames (with locals), or the merged stack.
template <class Out>
Out write_stack(Out out, const cpython::thread_stack& t) {
    if (!t.native.empty() || t.native_failure) {
        if (t.python_ident == 0 && t.frames.empty()) out = fmt::format_to(out, " (no Python)");
        return write_merged(out, t);
    }
    if (!t.locals.empty()) {
        for (std::size_t i = 0; i < t.frames.size(); ++i) {
            out = fmt::format_to(out, "\n    {}", t.frames[i]);
            out = write_locals(out, cpython::locals_of(t, t.frames[i]));
        }
        return write_frames(out, {}, t.consistent, t.failure, !t.frames.empty());
    }
    return write_frames(out, t.frames, t.consistent, t.failure);
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
        out = triage::report::detail::write_stack(out, t);
        out = triage::report::detail::write_greenlets(out, t.greenlets);
        return triage::report::detail::write_tasks(out, t.tasks);
    }
};
