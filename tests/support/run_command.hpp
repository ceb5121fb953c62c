// Running a program to completion for what it prints: the oracles (nm,
// readelf, ps, gdb ...), our examples, interpreters running dump scripts.
// No shell unless asked for (shell_output); stdout and stderr captured.
//
// Errors: std::runtime_error when the program cannot be started or does not
// finish within the timeout (it is then SIGKILLed); command_output and
// shell_output also when it exits other than with 0 (the message holds its
// stderr). Thread safety: independent calls may run in parallel.
//
//   auto run = triage::test_support::run_command({"triage-top", "1", "--interval", "0"});
//   CHECK(run.exit_code == 1);
//   std::string symbols = triage::test_support::command_output({"nm", "-D", path});
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.hpp"

namespace triage::test_support {

struct command_result {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;      // the signal that killed it, or 0
    std::string out;
    std::string err;
};

struct command_options {
    std::chrono::milliseconds timeout = std::chrono::seconds{120};
    bool as_nobody = false;  // as user and group 65534 (an unprivileged on-call engineer)
};

inline command_result run_command(std::vector<std::string> argv, command_options options = {}) {
    const std::string name = argv.at(0);
    child_process child{std::move(argv), spawn_options{.capture_stderr = true, .as_nobody = options.as_nobody}};
    auto status = child.wait_for_exit(options.timeout);
    if (!status)
        throw std::runtime_error(name + " did not finish within " + std::to_string(options.timeout.count()) + " ms");
    command_result result;
    if (WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
    if (WIFSIGNALED(*status)) result.signal = WTERMSIG(*status);
    result.out = child.unread_stdout();
    result.err = child.captured_stderr();
    return result;
}

// The stdout of a command that must succeed.
inline std::string command_output(std::vector<std::string> argv, command_options options = {}) {
    std::string command;
    for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
    command_result run = run_command(std::move(argv), options);
    if (run.exit_code != 0)
        throw std::runtime_error("`" + command + "` failed (exit " + std::to_string(run.exit_code) + ", signal " +
                                 std::to_string(run.signal) + "): " + run.err);
    return std::move(run.out);
}

// The stdout of a /bin/sh script (a pipeline) that must succeed.
inline std::string shell_output(const std::string& script, command_options options = {}) {
    return command_output({"/bin/sh", "-c", script}, options);
}

} // namespace triage::test_support
