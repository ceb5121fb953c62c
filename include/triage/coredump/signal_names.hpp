// triage/coredump/signal_names.hpp — what a core's NT_SIGINFO says, in words:
// the signal's name, what its si_code means, and whether it is one that
// ends a process with a core (a crash) rather than one a dump from outside
// records.
//
// Offers: `signal_name(signo)` ("SIGSEGV"; "signal 42" for one without a
// name), `signal_code_name(signo, code)` ("SEGV_MAPERR (address not mapped to
// object)", "SI_TKILL (sent by tkill or raise)"; "code N" when unknown) and
// `dumps_core(signo)` (SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
// SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS: the signals whose default action writes
// a core).
// Thread-safe: yes (pure). Signal-safe: no (allocates). Target: none.
//
//   if (auto s = core.siginfo(); s && triage::coredump::dumps_core(s->signal))
//       std::cout << triage::coredump::signal_name(s->signal) << ' ' << triage::coredump::signal_code_name(s->signal, s->code);
#pragma once

#include <string>

#include "triage/base/config.hpp"

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL std::string signal_name(int signo);

[[nodiscard]] TRIAGE_DECL std::string signal_code_name(int signo, int code);

[[nodiscard]] TRIAGE_DECL bool dumps_core(int signo) noexcept;

} // namespace triage::coredump

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/coredump/impl/signal_names.ipp"
#endif
