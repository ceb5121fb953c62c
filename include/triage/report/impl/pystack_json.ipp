// triage/report/impl/pystack_json.ipp — the definitions of
// triage/report/pystack_json.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "triage/procfs/stat.hpp"
#include "triage/report/detail/json.hpp"
#include "triage/report/detail/python_json.hpp"
#include "triage/report/pystack_json.hpp"

namespace triage::report {

namespace detail {

// "locals": [{name, kind, repr, type}] (null when they could not be read:
// then "locals_error" says why).
TRIAGE_DECL void add_locals(nlohmann::ordered_json& frame, const cpython::frame_variables* v) {
    using json = nlohmann::ordered_json;
    if (v == nullptr || v->failure) {
        frame["locals"] = nullptr;
        frame["locals_error"] = v == nullptr ? std::string{"not read"} : v->failure->message();
        return;
    }
    json values = json::array();
    for (const auto& l : v->values) {
        values.push_back({{"name", l.name}, {"kind", std::string{cpython::kind_name(l.kind)}}, {"repr", l.repr},
                          {"type", l.type.empty() ? json(nullptr) : json(l.type)}});
    }
    frame["locals"] = std::move(values);
}

// A greenlet: {address, type, state, main, parent, frames, error}.
[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json greenlet_json(const cpython::greenlet_stack& g) {
    using json = nlohmann::ordered_json;
    return {{"address", g.address},
            {"type", g.type},
            {"state", std::string(cpython::to_string(g.state))},
            {"main", g.main},
            {"parent", g.parent == 0 ? json(nullptr) : json(g.parent)},
            {"frames", frames_json(g.frames)},
            {"error", g.failure ? json(g.failure->message()) : json(nullptr)}};
}

// A task: {address, name, type, state, loop, frames, awaiting, awaits, error}.
[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json task_json(const cpython::asyncio_task& t) {
    using json = nlohmann::ordered_json;
    json awaiting = nullptr;
    if (t.awaiting != 0) awaiting = {{"address", t.awaiting}, {"type", t.awaiting_type}};
    return {{"address", t.address},
            {"name", t.name},
            {"type", t.type},
            {"state", std::string(cpython::to_string(t.state))},
            {"loop", t.loop},
            {"frames", frames_json(t.frames)},
            {"awaiting", std::move(awaiting)},
            {"awaits", t.awaits},
            {"error", t.failure ? json(t.failure->message()) : json(nullptr)}};
}

} // namespace detail

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const cpython::python_stacks_report& r) {
    using json = nlohmann::ordered_json;
    json threads = json::array();
    for (const auto& t : r.threads) {
        json row = {{"tid", detail::or_null(t.tid)},
                    {"ns_tid", detail::or_null(t.ns_tid)},
                    {"python_ident", t.python_ident},
                    {"thread_id", t.python_ident},
                    {"python_name", t.python_name.empty() ? json(nullptr) : json(t.python_name)},
                    {"name", t.name},
                    {"holds_gil", t.holds_gil},
                    {"waits_for_gil", t.waits_for_gil},
                    {"state", std::string(procfs::state_word(t.state))},
                    {"cpu_percent", detail::or_null(t.cpu_percent)},
                    {"consistent", t.consistent},
                    {"frames", detail::frames_json(t.frames)}};
        if (t.failure) row["error"] = t.failure->message();
        if (r.locals) {
            for (std::size_t i = 0; i < t.frames.size(); ++i) detail::add_locals(row["frames"][i], cpython::locals_of(t, t.frames[i]));
        }
        if (r.native) {
            json native = json::array();
            for (const auto& f : t.native) {
                if (f.python) {
                    json frame = detail::frames_json({f.py}).at(0);
                    native.push_back({{"kind", "python"}, {"function", frame["function"]}, {"file", frame["file"]},
                                      {"line", frame["line"]}});
                    if (r.locals) detail::add_locals(native.back(), cpython::locals_of(t, f.py));
                    continue;
                }
                const auto& s = f.symbol;
                native.push_back({{"kind", "native"},
                                  {"pc", f.native.pc},
                                  {"function", s.function.empty() ? json(nullptr) : json(s.function)},
                                  {"offset", s.function.empty() ? json(nullptr) : json(s.offset)},
                                  {"object", s.object.empty() ? json(nullptr) : json(s.object)},
                                  {"file", s.file.empty() ? json(nullptr) : json(s.file)},
                                  {"line", s.line == 0 ? json(nullptr) : json(s.line)},
                                  {"unwound_by", std::string(unwind::to_string(f.native.found_by))},
                                  {"eval_loop_unmatched", f.eval_loop}});
            }
            row["native"] = std::move(native);
            row["native_error"] = t.native_failure ? json(t.native_failure->message()) : json(nullptr);
        }
        if (r.greenlets) {
            json greenlets = json::array();
            for (const auto& g : t.greenlets) greenlets.push_back(detail::greenlet_json(g));
            row["greenlets"] = std::move(greenlets);
        }
        if (r.tasks) {
            json tasks = json::array();
            for (const auto& task : t.tasks) tasks.push_back(detail::task_json(task));
            row["tasks"] = std::move(tasks);
        }
        threads.push_back(std::move(row));
    }
    std::optional<double> stopped_ms;
    if (r.stopped_for) stopped_ms = std::chrono::duration<double, std::milli>(*r.stopped_for).count();
    json doc = {{"pid", r.pid},
                {"python_version", r.python_version},
                {"free_threaded", r.free_threaded},
                {"executable", r.executable},
                {"interpreter", r.interpreter},
                {"command_line", r.command_line},
                {"mode", std::string(cpython::to_string(r.source))},
                {"stopped_ms", detail::or_null(stopped_ms)}};
    if (r.source == cpython::stacks_source::core) {
        doc["core"] = r.core;
        json crash = nullptr;
        if (r.crash)
            crash = {{"signal", r.crash->signal},
                     {"signal_name", r.crash->signal_name},
                     {"code", r.crash->code},
                     {"address", detail::or_null(r.crash->address)},
                     {"tid", detail::or_null(r.crash->tid)}};
        doc["crash"] = std::move(crash);
        json unmatched = json::array();
        for (const auto& f : r.unmatched_files)
            unmatched.push_back({{"path", f.path}, {"local", f.local.empty() ? json(nullptr) : json(f.local)}, {"why", f.why}});
        doc["unmatched_files"] = std::move(unmatched);
    }
    if (r.greenlets) {
        json elsewhere = json::array();
        for (const auto& g : r.greenlets->elsewhere) elsewhere.push_back(detail::greenlet_json(g));
        doc["greenlets"] = {{"version", r.greenlets->failure ? json(nullptr) : json(r.greenlets->version)},
                            {"objects_scanned", r.greenlets->objects_scanned},
                            {"elsewhere", std::move(elsewhere)},
                            {"error", r.greenlets->failure ? json(r.greenlets->failure->message()) : json(nullptr)}};
    }
    if (r.tasks) {
        json elsewhere = json::array();
        for (const auto& task : r.tasks->elsewhere) elsewhere.push_back(detail::task_json(task));
        doc["tasks"] = {{"found_in", r.tasks->failure ? json(nullptr) : json(r.tasks->found_in)},
                        {"objects_scanned", r.tasks->objects_scanned},
                        {"not_c_tasks", r.tasks->not_c_tasks},
                        {"elsewhere", std::move(elsewhere)},
                        {"error", r.tasks->failure ? json(r.tasks->failure->message()) : json(nullptr)}};
    }
    doc["thread_list_complete"] = r.thread_list_complete;
    doc["threads"] = std::move(threads);
    return doc;
}

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const cpython::python_stacks_report& r, int indent) {
    return detail::json_text(to_json(r), indent);
}

} // namespace triage::report
