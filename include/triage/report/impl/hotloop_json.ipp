// triage/report/impl/hotloop_json.ipp — the definitions of
// triage/report/hotloop_json.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "triage/elf/mapped_object.hpp"
#include "triage/report/detail/json.hpp"
#include "triage/report/hotloop_json.hpp"
#include "triage/report/hotloop_verdict.hpp"
#include "triage/report/thread_json.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const hotloop_report& r) {
    using json = nlohmann::ordered_json;
    using std::chrono::duration;
    using ms = duration<double, std::milli>;
    auto investigated = [](const hot_thread& h) {
        json t = to_json(h.row);
        t["voluntary_switches"] = detail::or_null(h.voluntary_switches);
        t["involuntary_switches"] = detail::or_null(h.involuntary_switches);
        t["syscall_count"] = h.row.syscalls ? json(h.row.syscalls->total) : json(nullptr);
        t["syscalls"] = h.row.syscalls ? json(h.row.syscalls->syscalls) : json(nullptr);
        t["loop"] = {{"samples", h.loop.samples},
                     {"function", h.loop.anchor ? json(h.loop.anchor->function) : json(nullptr)},
                     {"file", h.loop.anchor ? json(h.loop.anchor->file) : json(nullptr)},
                     {"lines", h.loop.lines},
                     {"went_back", h.loop.went_back},
                     {"back_from", h.loop.back_from},
                     {"back_to", h.loop.back_to},
                     {"looping", h.loop.looping()},
                     {"same_line", h.loop.same_line()}};
        t["native_frames"] = "not available yet";
        t["library_calls"] = "not available yet";
        return t;
    };
    json hot = json::array();
    for (const auto& h : r.hot) hot.push_back(investigated(h));
    json changed = json::array();
    for (const auto& f : r.files.changed)
        changed.push_back({{"path", f.path}, {"match", std::string{elf::to_string(f.match)}}, {"deleted", f.deleted}});
    json unchecked = json::array();
    for (const auto& u : r.files.unchecked) unchecked.push_back({{"path", u.path}, {"error", u.why.message()}});
    std::optional<std::string> python_version, python_error, files_error;
    if (!r.python_version.empty()) python_version = r.python_version;
    if (r.python_failure) python_error = r.python_failure->message();
    if (r.files_failure) files_error = r.files_failure->message();
    std::optional<double> syscall_window_ms;
    if (r.syscall_window) syscall_window_ms = ms(*r.syscall_window).count();
    json core = nullptr;
    if (r.core) {
        core = {{"path", r.core->path},           {"threads", r.core->threads},       {"first_thread", r.core->first_tid},
                {"bytes_written", r.core->bytes_written}, {"file_size", r.core->file_size}, {"allocated_bytes", r.core->allocated}};
    }
    json busiest = r.busiest ? investigated(*r.busiest) : json(nullptr);
    return json{
        {"pid", r.pid},
        {"command", r.command},
        {"executable", r.executable},
        {"python_version", detail::or_null(python_version)},
        {"python_error", detail::or_null(python_error)},
        {"window_ms", std::chrono::duration_cast<std::chrono::milliseconds>(r.window).count()},
        {"hot_percent", r.hot_percent},
        {"total_cpu_percent", r.total_cpu_percent},
        {"threads", r.threads},
        {"samples", r.samples},
        {"stops", r.stops},
        {"stopped_ms", ms(r.stopped_for).count()},
        {"elapsed_ms", ms(r.elapsed).count()},
        {"syscall_window_ms", detail::or_null(syscall_window_ms)},
        {"hot_threads", std::move(hot)},
        {"busiest", std::move(busiest)},
        {"files_checked", r.files.checked},
        {"changed_files", std::move(changed)},
        {"unchecked_files", std::move(unchecked)},
        {"files_error", detail::or_null(files_error)},
        {"core", std::move(core)},
        {"verdict", verdict(r, verdict_style::plain)},
    };
}

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const hotloop_report& r, int indent) {
    return detail::json_text(to_json(r), indent);
}

} // namespace triage::report
