// triage/report/impl/one_stop.ipp — the definitions of
// triage/report/one_stop.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/live_python.hpp"
#include "triage/cpython/python_stacks.hpp"
#include "triage/report/one_stop.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL result<one_stop_result> read_in_one_stop(pid_t pid, cpython::live_python* python,
                                                                    std::optional<coredump::dump_plan> plan,
                                                                    const one_stop_options& options) {
    one_stop_result out;
    auto session = TRIAGE_TRY(ptrace::session::attach(pid));
    if (python != nullptr) {
        auto stacks = cpython::python_stacks(*python, session, {.cpu = options.cpu});
        if (stacks) out.stacks = std::move(*stacks);
        else out.python_failure = std::move(stacks.error());
    }
    std::optional<coredump::dump_copy> copy;
    if (plan) copy.emplace(TRIAGE_TRY(coredump::copy_dump(std::move(*plan), session, options.first_tid)));
    if (options.syscalls.count() > 0) out.syscalls = TRIAGE_TRY(ptrace::watch_syscalls(session, options.syscalls));
    TRIAGE_TRY(session.release());
    out.stops = session.stops();
    out.stopped_for = session.stopped_for();
    if (copy) out.core = TRIAGE_TRY(coredump::write_dump(std::move(*copy), session));
    return out;
}

} // namespace triage::report
