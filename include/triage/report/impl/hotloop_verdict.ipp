// triage/report/impl/hotloop_verdict.ipp — the definitions of
// triage/report/hotloop_verdict.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/hotloop_verdict.hpp"

namespace triage::report::detail::verdict {

[[nodiscard]] TRIAGE_DECL long long ms(std::chrono::nanoseconds d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

[[nodiscard]] TRIAGE_DECL std::string where(const thread_report& row) {
    if (!row.activity) return "";
    const auto& a = *row.activity;
    if (a.in_user_space()) return " in user space";
    if (a.kind == procfs::activity::in_syscall) return fmt::format(" (seen in the system call {})", ptrace::syscall_display_name(*a.syscall_number));
    return fmt::format(" ({})", procfs::to_string(a.kind));
}

[[nodiscard]] TRIAGE_DECL std::string system_calls(const hot_thread& h, const hotloop_report& r) {
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

[[nodiscard]] TRIAGE_DECL std::string python_place(const hot_thread& h, const hotloop_report& r, const quoting& q) {
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

} // namespace triage::report::detail::verdict

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string verdict(const hotloop_report& r, verdict_style style) {
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
