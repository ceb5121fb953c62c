// triage/report/impl/pystack_text.ipp — the definitions of
// triage/report/pystack_text.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/pystack_text.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string to_text(const cpython::python_stacks_report& r) {
    std::string text;
    auto out = std::back_inserter(text);
    fmt::format_to(out, "Process {}: {}\n", r.pid, escape_controls(r.command_line));
    fmt::format_to(out, "Python {}{} ({})\n", escape_controls(r.python_version), r.free_threaded ? " free-threaded" : "",
                   escape_controls(r.interpreter));
    if (r.source == cpython::stacks_source::core) {
        fmt::format_to(out, "Read from the core file {}\n", escape_controls(r.core));
        if (r.crash) {
            fmt::format_to(out, "Crashed: {}, {}", r.crash->signal_name, r.crash->code);
            if (r.crash->address) fmt::format_to(out, " at {:#x}", *r.crash->address);
            if (r.crash->tid) fmt::format_to(out, ", in thread {} (first below)", *r.crash->tid);
            fmt::format_to(out, "\n");
        }
        for (const auto& f : r.unmatched_files) {
            fmt::format_to(out, "Not read from here: {} ({}{})\n", escape_controls(f.path), f.why,
                           f.local.empty() ? std::string{} : ": " + escape_controls(f.local));
        }
    } else if (r.stopped_for) {
        fmt::format_to(out, "Target stopped for {:.3f} ms for a consistent snapshot\n",
                       std::chrono::duration<double, std::milli>(*r.stopped_for).count());
    } else {
        fmt::format_to(out, "Target not stopped (read while it ran; moving stacks read again)\n");
    }
    if (!r.thread_list_complete) fmt::format_to(out, "Threads may be missing: the thread list kept changing while it was read\n");
    if (r.greenlets && r.greenlets->failure) {
        fmt::format_to(out, "Greenlets not read: {}\n", escape_controls(r.greenlets->failure->message()));
    } else if (r.greenlets) {
        std::size_t n = r.greenlets->elsewhere.size();
        for (const auto& t : r.threads) n += t.greenlets.size();
        fmt::format_to(out, "Greenlets: {} (greenlet {}), found among {} objects the garbage collector tracks\n", n,
                       escape_controls(r.greenlets->version), r.greenlets->objects_scanned);
    }
    if (r.tasks && r.tasks->failure) {
        fmt::format_to(out, "Asyncio tasks not read: {}\n", escape_controls(r.tasks->failure->message()));
    } else if (r.tasks) {
        std::size_t n = r.tasks->elsewhere.size();
        for (const auto& t : r.threads) n += t.tasks.size();
        fmt::format_to(out, "Asyncio tasks: {} pending, found in {} ({} looked at", n, r.tasks->found_in,
                       r.tasks->objects_scanned);
        if (r.tasks->not_c_tasks != 0) {
            fmt::format_to(out, "; {} not C tasks, left out: pure-Python tasks or other objects", r.tasks->not_c_tasks);
        }
        fmt::format_to(out, ")\n");
    }
    for (const auto& t : r.threads) fmt::format_to(out, "\n{}\n", t);
    if (r.greenlets && !r.greenlets->elsewhere.empty()) {
        fmt::format_to(out, "\nGreenlets of no thread above (not started, or their thread is gone):");
        for (const auto& g : r.greenlets->elsewhere) out = detail::write_greenlet(out, g);
        fmt::format_to(out, "\n");
    }
    if (r.tasks && !r.tasks->elsewhere.empty()) {
        fmt::format_to(out, "\nAsyncio tasks of no thread above (their loop is not running):");
        for (const auto& t : r.tasks->elsewhere) out = detail::write_task(out, t, r.tasks->elsewhere);
        fmt::format_to(out, "\n");
    }
    return text;
}

} // namespace triage::report
