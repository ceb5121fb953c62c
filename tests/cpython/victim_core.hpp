// Test support: a core of a victim written with the project's writer
// (coredump/live_dump.hpp) in one stop, with the test's own reads made in
// that same stop (so the core and the reads see one moment).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include <doctest/doctest.h>

#include "support/failure_text.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/ptrace/session.hpp"

namespace triage::testing {

// Stops `pid`, runs `while_stopped(session)`, copies the core, releases
// the victim, then writes the core to `path`.
template <class WhileStopped>
void write_core_in_one_stop(pid_t pid, const std::string& path, WhileStopped&& while_stopped) {
    auto plan = coredump::plan_dump(pid, path);
    REQUIRE_MESSAGE(plan, test_support::failure_text(plan));
    (void)coredump::reserve_copy(*plan);
    auto session = ptrace::session::attach(pid);
    REQUIRE_MESSAGE(session, test_support::failure_text(session));
    std::forward<WhileStopped>(while_stopped)(std::as_const(*session));
    auto copy = coredump::copy_dump(std::move(*plan), *session, pid);
    REQUIRE_MESSAGE(copy, test_support::failure_text(copy));
    REQUIRE(session->release());
    auto written = coredump::write_dump(std::move(*copy), *session);
    REQUIRE_MESSAGE(written, test_support::failure_text(written));
}

// A core of `pid`, the victim stopped only for the copy.
inline void write_core(pid_t pid, const std::string& path) {
    write_core_in_one_stop(pid, path, [](const ptrace::session&) {});
}

} // namespace triage::testing
