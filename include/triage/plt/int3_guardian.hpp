// triage/plt/int3_guardian.hpp — int3 breakpoint counting (plt/int3_counter.hpp)
// run by a guardian process that outlives us, so that the target's text is
// restored whatever happens to the tool: Ctrl+C, SIGTERM, SIGKILL, a crash.
//
// Offers: `count_int3_hits_guarded(pid, breakpoints, options, attach)`:
// the same counts as count_int3_hits, from a session the guardian holds.
//
// Why a process: a ptrace tracer that dies leaves its tracees detached with
// our 0xCC bytes still in their text, and a thread then in (or later
// reaching) a breakpoint's SIGTRAP dies of it; the kernel does not undo
// what a tracer wrote. So the tracer must be a process the user's signals
// to the tool do not reach, which writes the bytes back when the tool goes.
// How: fork(); the child (the guardian, named "triage-guard") leaves the
// tool's session and process group (setsid: the terminal's Ctrl+C is not
// for it), blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT (each one sent to it
// ends the window gracefully, as a request to stop), keeps only its socket
// to us (a socketpair; stdin/stdout on /dev/null, stderr kept), attaches a
// ptrace::session and counts. It ends the window when the window is over,
// when `stop_requested()` is true in the tool (polled every `poll`; sent as
// a byte), or when the tool's end of the socket closes — the tool exited or
// died, SIGKILL included — and then writes every original byte
// back, lets the threads go and exits (a result nobody reads is dropped).
// The tool reads the result and reaps the guardian.
// Left to chance: the guardian itself being SIGKILLed (by hand or by the
// OOM killer) while the breakpoints are in, which nothing can survive;
// and fork() in a program whose other threads hold locks the guardian needs
// (call it from a single-threaded program, as the examples do).
// Errors: those of ptrace::session::attach (already_traced names the other
// tracer) and count_int3_hits, as the guardian saw them; errc::system when
// the guardian cannot be started or ended without a result.
// Thread-safe: yes. Signal-safe: no.
// Target process: as count_int3_hits (stopped at each hit; bytes written
// while the window is open, and only then).
//
//   auto n = TRIAGE_TRY(triage::plt::count_int3_hits_guarded(pid, {{stub, slot}}, {.window = 500ms}));
//   fmt::print("{} hits, target stopped {} us in all\n", n.hits, n.stopped.count() / 1000);
#pragma once

#include <sys/types.h>

#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/plt/int3_counter.hpp"
#include "triage/ptrace/session.hpp"

namespace triage::plt {

[[nodiscard]] TRIAGE_DECL result<int3_counts> count_int3_hits_guarded(pid_t pid, const std::vector<breakpoint>& breakpoints,
                                                                      const int3_options& options = {},
                                                                      ptrace::attach_options attach = {});

} // namespace triage::plt

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/plt/impl/int3_guardian.ipp"
#endif
