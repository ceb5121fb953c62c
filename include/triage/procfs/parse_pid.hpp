// triage/procfs/parse_pid.hpp — a process id as a person types it on a
// command line: the one pid parser of every triage program.
//
// Offers: `parse_pid(text)` → the pid: decimal digits only (no sign, no
// blanks, no 0x), 1 to `pid_max_limit` (4,194,304, the kernel's
// PID_MAX_LIMIT on 64-bit). Whether such a process exists is not checked.
// Errors: errc::invalid_argument, whose message says what is wrong
// ("invalid argument: ' 5' is not a process id (a decimal number from 1 to
// 4194304)"); the text is quoted with its control characters escaped.
// Thread-safe: yes. Signal-safe: no (the error allocates).
// Target process: none touched.
//
//   auto pid = triage::procfs::parse_pid(argv[1]);
//   if (!pid) return std::fprintf(stderr, "%s\n", pid.error().message().c_str()), 2;
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/base/escape.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"

namespace triage::procfs {

inline constexpr pid_t pid_max_limit = 4'194'304;

[[nodiscard]] TRIAGE_DECL result<pid_t> parse_pid(std::string_view text);

} // namespace triage::procfs

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/procfs/impl/parse_pid.ipp"
#endif
