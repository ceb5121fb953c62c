// triage/report/cli.hpp — the command-line conventions every triage
// program follows: usage errors are one line prefixed with the program's
// name and exit 2; target errors are one line and exit 1; a process id means
// the same thing everywhere.
//
// Offers:
//  - `command_line`: the options of one program (CLI11 underneath, kept out
//    of the program's own translation unit so that it compiles in seconds
//    under TRIAGE_SEPARATE_COMPILATION):
//    - `pid(name, into, description)`: a positional ("pid") or named
//      ("--pid") option read with procfs::parse_pid (decimal, 1–4194304;
//      " 5", "0x10", "-5" are usage errors);
//    - `add(name, into, description)` for int, unsigned, std::size_t, double,
//      std::string, std::optional<std::string> and std::vector<std::string>
//      (the option given again and again: `-e a -e b`); `flag(name, into, …)`;
//      each returns an `option` handle: `required()`, `range(low, high)`
//      (inclusive), `one_of({…})`, `excludes(other)`, `needs(other)`, and
//      after parsing `given()`;
//    - `require_one_of(a, b, what)`: a usage error naming `what` when
//      neither is given;
//    - `parse(argc, argv)`: nullopt to go on; else the exit code: 0 after
//      --help (printed), 2 after a usage error printed as
//      "<program>: <what> (see --help)" on one line.
//  - `print_failure(program, error)`: "<program>: <message>" on one line on
//    stderr, control characters escaped (a message may quote a target's
//    command line); returns 1.
//  - `run_program(program, body)`: body(), or 1 after printing an exception
//    that escaped it (allocation failure, a closed stdout) on one line.
//  - `end_on_signals()`: the first SIGINT, SIGTERM or SIGHUP ends the
//    program's window (a count, a recording) instead of the program: it
//    sets what `stop_requested()` reads, and the handler is then gone, so
//    a second signal acts as if there were none. `end_on_signals(every)`
//    with `signal_repeats::every` keeps the handler: every one of them
//    only asks to stop (a program that must finish its own cleanup, as a
//    dump removing its partial file). `stop_request_flag()`: the same
//    request as a flag a loop polls (coredump::write_options::cancel).
// Thread-safe: call from one thread (stop_requested: any). Signal-safe: no
// (stop_requested: yes). Target process: none.
//
//   triage::report::command_line cli{"triage-top", "Per-thread CPU of a process."};
//   pid_t pid = 0;
//   cli.pid("pid", pid, "process id").required();
//   if (auto code = cli.parse(argc, argv)) return *code;
#pragma once

#include <sys/types.h>

#include <concepts>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/error.hpp"
#include "triage/base/escape.hpp"

namespace CLI {
class App;
class Option;
} // namespace CLI

namespace triage::report {

class command_line {
public:
    // One option of a command_line; valid while that command_line lives.
    class option {
    public:
        TRIAGE_DECL option& required();
        // Inclusive bounds, checked before the value is stored.
        template <class T>
            requires std::integral<T> || std::floating_point<T>
        option& range(T low, T high) {
            if constexpr (std::integral<T>) return integer_range(low, high);
            else return real_range(low, high);
        }
        TRIAGE_DECL option& one_of(std::initializer_list<std::string_view> choices);
        TRIAGE_DECL option& excludes(const option& other);
        TRIAGE_DECL option& needs(const option& other);
        // After parse(): whether it was on the command line.
        [[nodiscard]] TRIAGE_DECL bool given() const;

    private:
        friend class command_line;
        explicit option(CLI::Option* o) noexcept : option_{o} {}
        TRIAGE_DECL option& integer_range(long long low, long long high);
        TRIAGE_DECL option& real_range(double low, double high);
        CLI::Option* option_;
    };

    TRIAGE_DECL command_line(std::string program, std::string description);
    TRIAGE_DECL ~command_line();
    command_line(const command_line&) = delete;
    command_line& operator=(const command_line&) = delete;

    TRIAGE_DECL option pid(const std::string& name, pid_t& into, const std::string& description);
    TRIAGE_DECL option add(const std::string& name, int& into, const std::string& description);
    TRIAGE_DECL option add(const std::string& name, unsigned& into, const std::string& description);
    TRIAGE_DECL option add(const std::string& name, std::size_t& into, const std::string& description);
    TRIAGE_DECL option add(const std::string& name, double& into, const std::string& description);
    TRIAGE_DECL option add(const std::string& name, std::string& into, const std::string& description);
    TRIAGE_DECL option add(const std::string& name, std::optional<std::string>& into, const std::string& description);
    // Given again and again, each value is kept (`-e a -e b`); one option may not take several words.
    TRIAGE_DECL option add(const std::string& name, std::vector<std::string>& into, const std::string& description);
    TRIAGE_DECL option flag(const std::string& name, bool& into, const std::string& description);
    TRIAGE_DECL void require_one_of(const option& a, const option& b, std::string what);

    [[nodiscard]] TRIAGE_DECL std::optional<int> parse(int argc, char** argv);
    [[nodiscard]] const std::string& program() const noexcept { return program_; }

private:
    std::string program_;
    std::unique_ptr<CLI::App> app_;
};

TRIAGE_DECL int print_failure(std::string_view program, const error& e);

enum class signal_repeats : bool { act, every };  // a signal after the first: acts as if unhandled / asks again

TRIAGE_DECL void end_on_signals(signal_repeats repeats = signal_repeats::act) noexcept;
[[nodiscard]] TRIAGE_DECL bool stop_requested() noexcept;
[[nodiscard]] TRIAGE_DECL const volatile std::sig_atomic_t* stop_request_flag() noexcept;

template <class Body>
int run_program(std::string_view program, Body&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(), escape_controls(e.what()).c_str());
        return 1;
    }
}

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/cli.ipp"
#endif
