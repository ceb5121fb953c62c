// triage/report/hotloop_verdict.hpp — the hotloop report as one paragraph a
// person can paste into an incident channel.
//
// Offers: `verdict(report, style)` → one paragraph, no newline, stating
// only what was measured: the hottest thread, its CPU% and where it runs
// (user space, or which system call), its system calls (counted, with a
// window) or else its waits in the kernel (voluntary context switches),
// the GIL, its innermost Python frame and caller; "in a loop in F" only
// when every sample was in F called from the same place and F's line went
// back (loop_evidence.hpp), "on the same line in all N samples" when that
// is all they show; the other hot threads; the files changed on disk; the
// core; how often and how long the process was stopped. With no hot
// thread, it says so and tells the same of the busiest.
// Target-supplied strings (command line, thread, function and file names,
// paths) are escaped by `style`: text → escape_controls (functions in
// backticks), markdown → code spans (detail/markdown.hpp), plain → as they
// are (for a JSON writer, which escapes by its own rules).
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto r = TRIAGE_TRY(triage::report::hotloop(pid));
//   fmt::print("{}\n", triage::report::verdict(r, triage::report::verdict_style::text));
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "triage/base/escape.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/report/detail/markdown.hpp"
#include "triage/report/hotloop_report.hpp"

namespace triage::report {

enum class verdict_style : std::uint8_t { text, markdown, plain };

namespace detail::verdict {

struct quoting {
    verdict_style style;
    // A name or a path from the target, set off as code.
    [[nodiscard]] std::string code(std::string_view s) const {
        if (style == verdict_style::markdown) return markdown_code(s);
        return "`" + (style == verdict_style::text ? escape_controls(s) : std::string{s}) + "`";
    }
    // A command line, a path or a thread name: escaped, not set off in text.
    [[nodiscard]] std::string name(std::string_view s) const {
        if (style == verdict_style::markdown) return markdown_code(s);
        return style == verdict_style::text ? escape_controls(s) : std::string{s};
    }
};

[[nodiscard]] inline long long ms(std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

[[nodiscard]] inline std::string where(const thread_report& row) {
    if (!row.activity) return "";
    const auto& a = *row.activity;
    if (a.in_user_space()) return " in user space";
    if (a.kind == procfs::activity::in_syscall) return fmt::format(" (seen in the system call {})", ptrace::syscall_display_name(*a.syscall_number));
    return fmt::format(" ({})", procfs::to_string(a.kind));
}

[[nodiscard]] inline std::string system_calls(const hot_thread& h, const hotloop_report& r) {
    if (h.row.syscalls && r.syscall_window) {
        const auto& s = *h.row.syscalls;
        if (s.total == 0) return fmt::format(", making no system calls (none in {} ms, counted with ptrace)", ms(*r.syscall_window));
        auto top = std::ranges::max_element(s.syscalls, {}, [](const auto& kv) { return kv.second; });
        return fmt::format(", making {} system calls in {} ms (most often {})", s.total, ms(*r.syscall_window), top->first);
    }
    if (!h.voluntary_switches) return "";
    if (*h.voluntary_switches == 0)
        return fmt::format(", never waiting in the kernel (no voluntary context switch in {} ms; system calls not counted)", ms(r.window));
    return fmt::format(", waiting in the kernel {} times in {} ms (voluntary context switches)", *h.voluntary_switches, ms(r.window));
}

[[nodiscard]] inline std::string python_place(const hot_thread& h, const hotloop_report& r, const quoting& q) {
    if (!h.row.python) return r.python_failure ? "; its Python stack could not be read" : "";
    const auto& py = *h.row.python;
    std::string out = py.holds_gil ? ", holding the GIL" : py.waits_for_gil ? ", waiting for the GIL" : ", not holding the GIL";
    if (py.frames.empty()) return out + ", with no Python frames";
    auto place = [&](const cpython::python_frame& f) {
        std::string file = f.line ? fmt::format("{}:{}", f.file, *f.line) : f.file;
        return fmt::format("{} ({})", q.code(f.function), q.name(file));
    };
    out += ", in " + place(py.frames.front());
    if (py.frames.size() > 1) out += ", called from " + place(py.frames[1]);
    const auto& loop = h.loop;
    if (loop.looping()) {
        out += fmt::format(". It is in a loop in {}: in all {} samples over {} ms it was in that function, called from the same "
                           "place, and its line went back from {} to {}",
                           q.code(loop.anchor->function), loop.samples, ms(r.window), loop.back_from, loop.back_to);
    } else if (loop.same_line()) {
        out += fmt::format(". It was on that same line in all {} samples over {} ms", loop.samples, ms(r.window));
    } else if (loop.samples >= 2) {
        out += fmt::format(". Its {} stack samples over {} ms do not show a loop", loop.samples, ms(r.window));
    }
    return out;
}

} // namespace detail::verdict

[[nodiscard]] inline std::string verdict(const hotloop_report& r, verdict_style style) {
    namespace d = detail::verdict;
    const d::quoting q{style};
    std::string out = fmt::format("Process {} ({}): ", r.pid, q.name(r.command));
    if (r.hot.empty()) {
        out += fmt::format("no thread used {:.0f}% of a CPU over {} ms (the whole process {:.1f}%)", r.hot_percent, d::ms(r.window),
                           r.total_cpu_percent);
        if (r.busiest) {
            out += fmt::format("; the busiest, thread {} ({}), used {:.1f}%", r.busiest->row.tid, q.name(r.busiest->row.stat.comm.view()),
                               r.busiest->row.cpu_percent.value_or(0));
            out += d::system_calls(*r.busiest, r) + d::python_place(*r.busiest, r, q);
        }
        out += ".";
    } else {
        const hot_thread& h = r.hot.front();
        const bool user = h.row.activity && h.row.activity->in_user_space();
        out += fmt::format("thread {} ({}) is {}{} at {:.1f}% CPU over {} ms", h.row.tid, q.name(h.row.stat.comm.view()),
                           user ? "spinning" : "busy", d::where(h.row), h.row.cpu_percent.value_or(0), d::ms(r.window));
        out += d::system_calls(h, r) + d::python_place(h, r, q) + ".";
        if (r.hot.size() > 1) {
            out += fmt::format(" {} other thread{} used at least {:.0f}% too:", r.hot.size() - 1, r.hot.size() > 2 ? "s" : "", r.hot_percent);
            for (std::size_t k = 1; k < r.hot.size(); ++k)
                out += fmt::format("{} {} ({:.1f}%)", k == 1 ? "" : ",", r.hot[k].row.tid, r.hot[k].row.cpu_percent.value_or(0));
            out += ".";
        }
    }
    for (const auto& f : r.files.changed)
        out += fmt::format(" The running {} is not the file on disk ({}{}).", q.name(f.path), elf::to_string(f.match), f.deleted ? ", deleted" : "");
    if (r.core) out += fmt::format(" A core was saved to {} (thread {} first).", q.name(r.core->path), r.core->first_tid);
    out += fmt::format(" The process was stopped {} for {:.2f} ms in total and left running.",
                       r.stops == 1 ? std::string{"once"} : fmt::format("{} times", r.stops),
                       std::chrono::duration<double, std::milli>(r.stopped_for).count());
    return out;
}

} // namespace triage::report
