// triage/report/pystack_json.hpp — the Python stacks report as the JSON
// document of docs/cli.md (what triage-pystack --json prints).
//
// Offers: `to_json_text(…)` (the printed text) and `to_json(report)` → nlohmann::ordered_json: pid, python_version,
// free_threaded,
// executable, interpreter, command_line, mode (blocking | nonblocking |
// core), stopped_ms (null when not stopped), core and crash (cores only:
// {signal, signal_name, code, address (null: not a fault), tid} or null
// when the core is not a crash's), unmatched_files (cores only: [{path,
// local (the other build found here; null: none), why}] for the code objects
// not found here as the build that ran), threads
// (in the report's order): tid (null: unknown), ns_tid (null unless the
// target is in another PID namespace), python_ident (threading.get_ident()),
// thread_id (the same number, the field's name before python_ident),
// python_name (threading.Thread.name; null: not known), name (the OS's),
// holds_gil, waits_for_gil (blocked on the GIL; live 3.7+), state (a word: procfs::state_word), cpu_percent (null: not
// measured), consistent, frames [{function, file, line (null: none)}], and
// error when the walk stopped early; with native stacks also native
// [{kind: "native", pc, function, offset, object, file, line (null when
// unknown), unwound_by ("registers", "cfi", "frame pointer"),
// eval_loop_unmatched} | {kind: "python", function, file, line}] (innermost
// first, Python frames in place of the evaluation loop's) and native_error
// (null: the walk reached the first frame); with greenlets, each thread's
// greenlets [{address, type, state ("running", "suspended", "not
// started", "dead"), main, parent (null: none), frames, error (null: read
// in full)}] and a top-level greenlets {version, objects_scanned,
// elsewhere (the greenlets of no thread shown), error (null: read)};
// with tasks, each thread's asyncio tasks [{address, name, type, state
// ("running", "waiting", "ready"), loop, frames (the coroutines it waits
// in, innermost first), awaiting ({address, type} of the future it waits
// on; null: none), awaits (addresses of the tasks it waits for), error}]
// and a top-level tasks {found_in, objects_scanned, not_c_tasks (registry
// entries left out), elsewhere (tasks of loops not running), error (null:
// read)};
// thread_list_complete (false: read while
// it ran, the thread list kept changing; threads may be missing). Strings are escaped by the JSON rules;
// dump with error_handler_t::replace, since target strings may not be UTF-8.
// Dump with ensure_ascii (true): target strings may hold C1 controls such
// as U+009B, which a terminal obeys even inside a JSON string.
// Thread-safe: yes. Signal-safe: no. Target process: none touched.
//
//   fmt::print("{}\n", triage::report::to_json_text(TRIAGE_TRY(triage::cpython::python_stacks(pid))));
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "triage/base/config.hpp"
#include "triage/cpython/python_stacks_report.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL nlohmann::ordered_json to_json(const cpython::python_stacks_report& r);

// The same document as text, as triage's programs print it: `indent` spaces
// per level (-1: one line), bytes that are not UTF-8 replaced by U+FFFD.
// Needs no nlohmann-json header in the caller's translation unit; to use
// to_json's document under TRIAGE_SEPARATE_COMPILATION, include
// <nlohmann/json.hpp> (the header declares it only).
[[nodiscard]] TRIAGE_DECL std::string to_json_text(const cpython::python_stacks_report& r, int indent = 2);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/pystack_json.ipp"
#endif
