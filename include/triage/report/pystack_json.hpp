// triage/report/pystack_json.hpp — the Python stacks report as the JSON
// document of docs/cli.md (what triage-pystack --json prints).
//
// Offers: `to_json(report)` → nlohmann::ordered_json: pid, python_version,
// executable, interpreter, command_line, mode (blocking | nonblocking |
// core), stopped_ms (null when not stopped), core (cores only), threads
// (in the report's order): tid (null: unknown), ns_tid (null unless the
// target is in another PID namespace), python_ident (threading.get_ident()),
// thread_id (the same number, the field's name before python_ident), name,
// holds_gil, waits_for_gil (blocked on the GIL; live 3.7+), state (a word: procfs::state_word), cpu_percent (null: not
// measured), consistent, frames [{function, file, line (null: none)}], and
// error when the walk stopped early; thread_list_complete (false: read while
// it ran, the thread list kept changing; threads may be missing). Strings are escaped by the JSON rules;
// dump with error_handler_t::replace, since target strings may not be UTF-8.
// Dump with ensure_ascii (true): target strings may hold C1 controls such
// as U+009B, which a terminal obeys even inside a JSON string.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   auto doc = triage::report::to_json(TRIAGE_TRY(triage::cpython::python_stacks(pid)));
//   fmt::print("{}\n", doc.dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace));
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "triage/cpython/python_stacks_report.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/report/detail/json.hpp"
#include "triage/report/detail/python_json.hpp"

namespace triage::report {

[[nodiscard]] inline nlohmann::ordered_json to_json(const cpython::python_stacks_report& r) {
    using json = nlohmann::ordered_json;
    json threads = json::array();
    for (const auto& t : r.threads) {
        json row = {{"tid", detail::or_null(t.tid)},
                    {"ns_tid", detail::or_null(t.ns_tid)},
                    {"python_ident", t.python_ident},
                    {"thread_id", t.python_ident},
                    {"name", t.name},
                    {"holds_gil", t.holds_gil},
                    {"waits_for_gil", t.waits_for_gil},
                    {"state", std::string(procfs::state_word(t.state))},
                    {"cpu_percent", detail::or_null(t.cpu_percent)},
                    {"consistent", t.consistent},
                    {"frames", detail::frames_json(t.frames)}};
        if (t.failure) row["error"] = t.failure->message();
        threads.push_back(std::move(row));
    }
    std::optional<double> stopped_ms;
    if (r.stopped_for) stopped_ms = std::chrono::duration<double, std::milli>(*r.stopped_for).count();
    json doc = {{"pid", r.pid},
                {"python_version", r.python_version},
                {"executable", r.executable},
                {"interpreter", r.interpreter},
                {"command_line", r.command_line},
                {"mode", std::string(cpython::to_string(r.source))},
                {"stopped_ms", detail::or_null(stopped_ms)}};
    if (r.source == cpython::stacks_source::core) doc["core"] = r.core;
    doc["thread_list_complete"] = r.thread_list_complete;
    doc["threads"] = std::move(threads);
    return doc;
}

} // namespace triage::report
