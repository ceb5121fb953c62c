// triage/ptrace/impl/tracer_thread.ipp — the definitions of
// triage/ptrace/tracer_thread.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/ptrace/tracer_thread.hpp"

namespace triage::ptrace::detail {

[[nodiscard]] TRIAGE_DECL pid_t current_tid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

} // namespace triage::ptrace::detail
