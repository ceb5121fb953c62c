// triage/cpython/live_python.hpp — a live Python process, opened for
// reading its stacks: the first stage of python_stacks.hpp's pipeline, for
// callers that open it before a stop so that the stop lasts only for the
// read (report/one_stop.hpp, examples/triage-watch.cpp).
//
// Offers: `live_python` (its /proc directory, memory, interpreter with its
// version and layout, command line and executable) and
// `open_live_python(pid | proc_dir)`.
// Errors: as python_stacks(pid) before the snapshot: no_such_process,
// unsupported, not_found ("not a Python process").
// Thread-safe: distinct calls may run on distinct threads. Signal-safe: no.
// Target process: reads /proc and its memory; never stops it.
//
//   auto py = TRIAGE_TRY(triage::cpython::open_live_python(pid));
//   auto session = TRIAGE_TRY(triage::ptrace::session::attach(pid));
//   auto stacks = TRIAGE_TRY(triage::cpython::python_stacks(py, session));
#pragma once

#include <sys/types.h>

#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::cpython {

// A live Python process, opened: nothing stopped. Not movable once a
// walker borrows `memory`.
struct live_python {
    procfs::proc_dir dir;
    memory::live_process memory;
    python_target target;
    std::string command_line;
    std::string executable;  // /proc/PID/exe, " (deleted)" when replaced on disk
};

[[nodiscard]] TRIAGE_DECL result<live_python> open_live_python(procfs::proc_dir dir);

[[nodiscard]] TRIAGE_DECL result<live_python> open_live_python(pid_t pid);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/live_python.ipp"
#endif
