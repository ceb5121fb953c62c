// triage/report/cli.hpp — the command-line conventions every triage
// program follows, for programs built with CLI11: usage errors are one
// line prefixed with the program's name and exit 2; target errors are one
// line and exit 1; a process id means the same thing everywhere.
//
// Offers:
//  - `add_pid_option(app, name, pid, description)`: a positional or named
//    option read with procfs::parse_pid (decimal, 1–4194304; " 5", "0x10",
//    "-5" are usage errors).
//  - `parse_command_line(app, argc, argv)`: nullopt to go on; else the exit
//    code: 0 after --help (printed), 2 after a usage error printed as
//    "<program>: <what> (see --help)" on one line.
//  - `print_failure(program, error)`: "<program>: <message>" on one line on
//    stderr, control characters escaped (a message may quote a target's
//    command line); returns 1.
//  - `run_program(program, body)`: body(), or 1 after printing an exception
//    that escaped it (allocation failure, a closed stdout) on one line.
// Thread-safe: call from one thread. Signal-safe: no. Target process: none.
//
//   CLI::App app{"...", "triage-top"};
//   pid_t pid = 0;
//   triage::report::add_pid_option(app, "pid", pid, "process id")->required();
//   if (auto code = triage::report::parse_command_line(app, argc, argv)) return *code;
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>
#include <fmt/core.h>

#include "triage/base/error.hpp"
#include "triage/base/escape.hpp"
#include "triage/procfs/parse_pid.hpp"

namespace triage::report {

inline CLI::Option* add_pid_option(CLI::App& app, const std::string& name, pid_t& pid, const std::string& description) {
    return app.add_option_function<std::string>(
        name,
        [&pid, name](const std::string& text) {
            auto parsed = procfs::parse_pid(text);
            if (!parsed) throw CLI::ValidationError(name, parsed.error().hint);
            pid = *parsed;
        },
        description);
}

[[nodiscard]] inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        while (!what.empty() && what.back() == '\n') what.pop_back();
        fmt::print(stderr, "{}: {} (see --help)\n", app.get_name(), escape_controls(what));
        return 2;
    }
    return std::nullopt;
}

inline int print_failure(std::string_view program, const error& e) {
    fmt::print(stderr, "{}: {}\n", program, escape_controls(e.message()));
    return 1;
}

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
