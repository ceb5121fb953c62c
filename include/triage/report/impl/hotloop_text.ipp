// triage/report/impl/hotloop_text.ipp — the definitions of
// triage/report/hotloop_text.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/hotloop_text.hpp"

namespace triage::report::detail::hotloop_text {

TRIAGE_DECL void hot_thread_block(writer& w, const hotloop_report& r, const hot_thread& h) {
    const auto& row = h.row;
    std::string where = row.activity ? std::string{procfs::to_string(row.activity->kind)} : "-";
    if (row.activity && row.activity->syscall_number) where += " " + ptrace::syscall_display_name(*row.activity->syscall_number);
    w.item(0, fmt::format("Thread {} {}: {:.1f}% CPU, {}", row.tid, w.name(row.stat.comm.view()), row.cpu_percent.value_or(0), where));
    if (h.voluntary_switches)
        w.item(1, fmt::format("Waits in the kernel: {} voluntary context switches in {} ms ({} involuntary)", *h.voluntary_switches,
                              ms(r.window), h.involuntary_switches.value_or(0)));
    if (row.syscalls && r.syscall_window) {
        std::string calls = fmt::format("System calls: {} in {} ms (counted with ptrace)", row.syscalls->total, ms(*r.syscall_window));
        for (const auto& [call, count] : row.syscalls->syscalls) calls += fmt::format(", {} {}", call, count);
        w.item(1, calls);
    } else {
        w.item(1, "System calls: not counted (a system-call window on the held session counts them)");
    }
    if (row.python) {
        w.item(1, fmt::format("GIL: {}", row.python->holds_gil ? "held" : row.python->waits_for_gil ? "waiting for it" : "not held"));
        w.item(1, "Python stack, read while stopped, innermost first:");
        for (const auto& f : row.python->frames) w.item(2, w.frame(f));
        if (row.python->frames.empty()) w.item(2, "(no Python frames)");
        std::string lines;
        for (int line : h.loop.lines) lines += fmt::format(" {}", line);
        w.item(1, h.loop.anchor ? fmt::format("Samples: {} (the last read while stopped), all in {} called from the same place, at lines{}{}",
                                              h.loop.samples, w.name(h.loop.anchor->function), lines,
                                              h.loop.looping() ? ": a loop (the line went back)" : "")
                                : fmt::format("Samples: {} (the last read while stopped), with no function in common", h.loop.samples));
    } else {
        w.item(1, "Python stack: not read");
    }
    w.item(1, "Native frames: not available yet");
    w.item(1, "Library calls: not available yet");
}

[[nodiscard]] TRIAGE_DECL std::string write(const hotloop_report& r, bool markdown) {
    writer w{markdown, {}};
    w.out = markdown ? fmt::format("## triage-hotloop: process {}\n\n", r.pid) : fmt::format("Process {}\n", r.pid);
    w.item(0, "Command: " + w.name(r.command));
    if (!r.executable.empty()) w.item(0, "Program: " + w.name(r.executable));
    w.item(0, r.python_version.empty() ? "Python: no stacks (" + w.name(r.python_failure ? r.python_failure->message() : "not read") + ")"
                                       : "Python: " + w.name(r.python_version));
    w.item(0, fmt::format("{} threads; the process used {:.1f}% CPU over {} ms (100% = one core); {} stack samples", r.threads,
                          r.total_cpu_percent, ms(r.window), r.samples));
    w.item(0, fmt::format("Stopped {} for {:.3f} ms in total; the whole run took {} ms",
                          r.stops == 1 ? std::string{"once"} : fmt::format("{} times", r.stops),
                          std::chrono::duration<double, std::milli>(r.stopped_for).count(), ms(r.elapsed)));

    w.heading(fmt::format("Hot threads (at least {:.0f}% of one core)", r.hot_percent));
    if (r.hot.empty()) w.item(0, "none");
    for (const auto& h : r.hot) hot_thread_block(w, r, h);
    if (r.busiest) {
        w.heading("The busiest thread (below the threshold)");
        hot_thread_block(w, r, *r.busiest);
    }

    w.heading("Files changed on disk");
    if (r.files_failure) w.item(0, "not checked: " + w.name(r.files_failure->message()));
    else if (r.files.changed.empty()) w.item(0, fmt::format("none of the {} objects mapped as code", r.files.checked));
    for (const auto& f : r.files.changed)
        w.item(0, fmt::format("{}: {}{}", w.name(f.path), elf::to_string(f.match), f.deleted ? " (deleted)" : ""));
    for (const auto& u : r.files.unchecked) w.item(0, fmt::format("{}: not checked: {}", w.name(u.path), w.name(u.why.message())));

    if (r.core) {
        w.heading("Core");
        w.item(0, fmt::format("{}: {} threads, thread {} first; {} written, file {}", w.name(r.core->path), r.core->threads,
                              r.core->first_tid, human_bytes(r.core->bytes_written), human_bytes(r.core->file_size)));
    }
    w.heading("Verdict");
    fmt::format_to(std::back_inserter(w.out), "{}{}\n", markdown ? "" : "  ", report::verdict(r, markdown ? verdict_style::markdown : verdict_style::text));
    return w.out;
}

} // namespace triage::report::detail::hotloop_text

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const hotloop_report& report) { return detail::hotloop_text::write(report, false); }

[[nodiscard]] TRIAGE_DECL std::string to_markdown(const hotloop_report& report) { return detail::hotloop_text::write(report, true); }

} // namespace triage::report
