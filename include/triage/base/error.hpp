// triage/base/error.hpp — the one error type of triage.
//
// Offers: `errc` (what kind of failure), `error` (code + errno + context +
// optional hint) and `error::message()`, a line a person can act on:
//   "no space left on device writing core.12: free some disk space or write elsewhere"
// A code's default advice is given only where it holds whatever failed:
// permission_denied has none, because a refused file and a refused ptrace
// call need different advice (ptrace's comes from base/ptrace_permission.hpp,
// given by whoever attaches or reads another process).
// Thread-safe: values only. Signal-safe: no (allocates).
// Target process: none touched.
//
//   auto e = triage::error::from_errno(ESRCH, "attaching to 4242");
//   std::cerr << e.message() << '\n';
//   // no such process attaching to 4242: check the pid; the process may have exited
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace triage {

// What went wrong, in the domain's words. Keep `reason()` in step.
enum class errc : std::uint8_t {
    no_such_process,    // pid or tid does not exist (or exited while we read it)
    permission_denied,  // EPERM/EACCES: not root, no CAP_SYS_PTRACE, ptrace_scope
    not_found,          // a file, symbol, section or note that is not there
    already_traced,     // another tracer holds the target
    bad_address,        // memory that is not mapped (or vanished) in the target
    truncated,          // fewer bytes than the format needs
    malformed,          // bytes that do not parse as the format they claim to be
    unsupported,        // a version, architecture or format we do not handle
    limit_exceeded,     // a bound we put on target data (depth, length, count)
    inconsistent,       // target changed under us (torn read) or failed validation
    interrupted,        // our own SIGINT/SIGTERM, or a deadline
    no_space,           // ENOSPC / EDQUOT
    invalid_argument,   // the caller's mistake (bad pid, bad option)
    system,             // any other errno; see `sys_errno`
};

// Short human words for a code, used at the start of a message.
[[nodiscard]] constexpr std::string_view reason(errc code) noexcept {
    switch (code) {
    case errc::no_such_process: return "no such process";
    case errc::permission_denied: return "permission denied";
    case errc::not_found: return "not found";
    case errc::already_traced: return "already traced";
    case errc::bad_address: return "unreadable address";
    case errc::truncated: return "truncated data";
    case errc::malformed: return "malformed data";
    case errc::unsupported: return "unsupported";
    case errc::limit_exceeded: return "limit exceeded";
    case errc::inconsistent: return "inconsistent data";
    case errc::interrupted: return "interrupted";
    case errc::no_space: return "no space left on device";
    case errc::invalid_argument: return "invalid argument";
    case errc::system: return "system error";
    }
    return "error";
}

// The default advice for a code; an error may carry a more specific hint.
[[nodiscard]] constexpr std::string_view default_hint(errc code) noexcept {
    switch (code) {
    case errc::no_such_process: return "check the pid; the process may have exited";
    case errc::no_space: return "free some disk space or write elsewhere";
    default: return {};
    }
}

// Maps an errno value to the closest `errc`.
[[nodiscard]] constexpr errc errc_from_errno(int e) noexcept {
    switch (e) {
    case ESRCH: return errc::no_such_process;
    case EPERM:
    case EACCES: return errc::permission_denied;
    case ENOENT: return errc::not_found;
    case EFAULT:
    case EIO: return errc::bad_address;
    case ENOSPC:
    case EDQUOT: return errc::no_space;
    case EINTR: return errc::interrupted;
    case EINVAL: return errc::invalid_argument;
    default: return errc::system;
    }
}

// A failure, with enough context to act on it.
//  - `context` is a gerund phrase saying what was being done to what:
//    "reading /proc/1234/maps", "attaching to thread 1235".
//  - `hint` overrides the code's default advice when non-empty.
struct error {
    errc code = errc::system;
    int sys_errno = 0;
    std::string context;
    std::string hint;

    [[nodiscard]] static error from_errno(int e, std::string context, std::string hint = {}) {
        return error{errc_from_errno(e), e, std::move(context), std::move(hint)};
    }

    // "<reason> <context>[ (<strerror>)][: <hint>]"
    [[nodiscard]] std::string message() const {
        std::string out{reason(code)};
        if (!context.empty()) {
            out += ' ';
            out += context;
        }
        if (sys_errno != 0 && code == errc::system) {
            out += " (";
            out += std::strerror(sys_errno);
            out += ')';
        }
        std::string_view advice = hint.empty() ? default_hint(code) : std::string_view{hint};
        if (!advice.empty()) {
            out += ": ";
            out += advice;
        }
        return out;
    }

    friend bool operator==(const error&, const error&) = default;

    // Prefixes an outer layer of context: "walking thread 12: " + context.
    [[nodiscard]] error within(std::string_view outer) && {
        if (!outer.empty()) {
            context = context.empty() ? std::string{outer} : std::string{outer} + ": " + context;
        }
        return std::move(*this);
    }
};

} // namespace triage
