// triage/report/impl/plt_text.ipp — the definitions of
// triage/report/plt_text.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "triage/base/path.hpp"
#include "triage/base/escape.hpp"
#include "triage/plt/probe_plan.hpp"
#include "triage/report/plt_text.hpp"

namespace triage::report {

namespace detail::plt_text {

[[nodiscard]] inline std::string called_from(const plt_function& f) {
    if (f.caller.empty()) return fmt::format("every caller (at {})", file_name(f.probed_object));
    return fmt::format("{} ({})", file_name(f.caller), plt::to_string(f.kind));
}

[[nodiscard]] inline double per_second(std::uint64_t calls, std::chrono::nanoseconds window) {
    const double seconds = std::chrono::duration<double>(window).count();
    return seconds > 0 ? static_cast<double>(calls) / seconds : 0.0;
}

// One table row: a function, and the calls counted for it (all threads', or one thread's).
struct row {
    const plt_function* function;
    std::uint64_t calls;
};

[[nodiscard]] inline std::string table(const std::vector<row>& rows, std::uint64_t total,
                                       std::chrono::nanoseconds window, std::string_view indent) {
    std::string out = fmt::format("{}{:>10}  {:>11}  {:>6}  {:<24}  {}\n", indent, "CALLS", "CALLS/S", "SHARE",
                                  "FUNCTION", "CALLED FROM");
    for (const auto& [f, calls] : rows) {
        out += fmt::format("{}{:>10}  {:>11.1f}  {:>5.1f}%  {:<24}  {}\n", indent, calls, per_second(calls, window),
                           total ? 100.0 * static_cast<double>(calls) / static_cast<double>(total) : 0.0,
                           escape_controls(f->function), escape_controls(called_from(*f)));
    }
    return out;
}

} // namespace detail::plt_text

[[nodiscard]] TRIAGE_DECL std::string to_text(const plt_report& report, bool per_thread) {
    using namespace detail::plt_text;
    using std::chrono::duration;
    std::string out = fmt::format("Library calls of process {} ({}) over {:.2f} s{}\n", report.pid,
                                  escape_controls(report.command), duration<double>(report.window).count(),
                                  report.interrupted     ? " (interrupted)"
                                  : report.target_exited ? " (the process exited then)"
                                                         : "");
    std::size_t late = 0;
    for (const auto& t : report.threads) late += t.added_late ? 1 : 0;
    if (report.only_thread) {
        out += fmt::format("thread {} only", *report.only_thread);
        if (report.hot_cpu_percent) out += fmt::format(", the hottest ({:.1f}% CPU)", *report.hot_cpu_percent);
        out += "\n";
    } else {
        out += fmt::format("all threads: {} counted", report.threads.size());
        if (late > 0) out += fmt::format(", {} of them started during the window (counted from when found)", late);
        out += "\n";
    }
    if (report.backend == "int3") {
        out += fmt::format("backend: int3 ({})\n{} call sites in {} objects: breakpoints placed in {:.1f} ms, removed "
                           "{:.1f} ms after the window; the threads were stopped {:.1f} ms in all, at each hit",
                           report.backend_reason, report.probes, report.objects_searched,
                           duration<double, std::milli>(report.setup).count(),
                           duration<double, std::milli>(report.teardown).count(),
                           duration<double, std::milli>(report.target_stopped).count());
        if (report.world_stops > 0)
            out += fmt::format(" ({} whole-process stops to step over a function's first instruction)", report.world_stops);
        if (report.children_cleaned > 0)
            out += fmt::format("; {} forked children had the breakpoints removed from their copy", report.children_cleaned);
        out += "\n\n";
    } else {
        out += fmt::format("backend: perf ({})\n{} call sites in {} objects: placed in {:.1f} ms, removed in {:.2f} s "
                           "after the window; the target was never stopped\n\n",
                           report.backend_reason, report.probes, report.objects_searched,
                           duration<double, std::milli>(report.setup).count(), duration<double>(report.teardown).count());
    }

    std::vector<row> rows;
    for (const auto& f : report.functions) rows.push_back({&f, f.calls});
    out += rows.empty() ? std::string{"no calls counted\n"} : table(rows, report.total_calls, report.window, "");
    out += fmt::format("\ntotal: {} calls, {:.1f}/s", report.total_calls, per_second(report.total_calls, report.window));
    if (report.kernel_ns_per_call) {
        out += fmt::format("; at most {:.1f} µs of kernel time per counted call", *report.kernel_ns_per_call / 1000);
    }
    out += "\n";
    if (!report.trace.empty()) {
        out += fmt::format("\ncalls traced: {}{}\n", report.trace.size(),
                           report.trace_full ? " (as many as asked for: the window ended there)" : "");
        std::map<std::string, std::string> types;  // function → where its argument types came from
        for (const auto& c : report.trace) types.emplace(c.function, c.types_from.empty() ? "unknown (registers in hex)" : c.types_from);
        out += "argument types:";
        for (const auto& [function, from] : types) out += fmt::format(" {}: {};", escape_controls(function), escape_controls(from));
        out.back() = '\n';
        for (const auto& c : report.trace) {
            const std::string from = !c.called_from.empty() ? c.called_from
                                     : c.caller.empty()        ? std::string{"?"}
                                                               : std::string{file_name(c.caller)};
            out += fmt::format("  {:>10.3f} ms  {:>8}  {}  from {}\n", duration<double, std::milli>(c.at).count(), c.tid, c.call,
                               escape_controls(from));
        }
    }

    out += "\nthreads, most calls first:\n";
    for (const auto& t : report.threads) {
        out += fmt::format("  {:>8}  {:<16}  {:>6} CPU  {:>10} calls{}\n", t.tid, escape_controls(t.name),
                           t.cpu_percent ? fmt::format("{:.1f}%", *t.cpu_percent) : std::string{"-"}, t.calls,
                           t.added_late ? "  (started during the window)" : "");
        if (!per_thread || t.calls == 0) continue;
        std::vector<row> own;
        for (const auto& f : report.functions) {
            for (const auto& c : f.threads)
                if (c.tid == t.tid) own.push_back({&f, c.calls});
        }
        std::ranges::stable_sort(own, [](const row& a, const row& b) { return a.calls > b.calls; });
        out += table(own, t.calls, report.window, "      ");
    }
    if (!report.skipped.empty()) {
        out += fmt::format("\nskipped ({}):\n", report.skipped.size());
        for (const auto& s : report.skipped) {
            out += fmt::format("  {}{}: {}\n", escape_controls(s.object), s.function.empty() ? "" : " " + s.function,
                               escape_controls(s.reason));
        }
    }
    return out;
}

} // namespace triage::report
