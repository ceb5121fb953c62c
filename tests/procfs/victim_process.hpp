// Test helpers for the procfs tests: a victim process that is always killed
// (RAII), its readiness lines, and running a built program to completion.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace triage_test {

inline std::vector<char*> c_argv(std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (auto& a : argv) out.push_back(a.data());
    out.push_back(nullptr);
    return out;
}

// A child process with its stdout on a pipe; SIGKILLed and reaped when the
// object dies, whatever the test did.
class victim_process {
public:
    explicit victim_process(std::vector<std::string> argv) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        auto args = c_argv(argv);
        int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out_ = fds[0];
        if (rc != 0) {
            ::close(out_);
            throw std::runtime_error("cannot start " + argv[0]);
        }
    }
    victim_process(const victim_process&) = delete;
    victim_process& operator=(const victim_process&) = delete;
    ~victim_process() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        ::close(out_);
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    // The next line the victim writes on stdout (without '\n'); throws after
    // `timeout` or at end of file.
    std::string read_line(std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = pending_.find('\n'); nl != std::string::npos) {
                std::string line = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                return line;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw std::runtime_error("victim did not report in time");
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char buf[4096];
            ssize_t n = ::read(out_, buf, sizeof buf);
            if (n <= 0) throw std::runtime_error("victim closed its stdout (exited?)");
            pending_.append(buf, static_cast<std::size_t>(n));
        }
    }

    // Reads lines until one equals `last`; returns the lines before it.
    std::vector<std::string> read_until(const std::string& last) {
        std::vector<std::string> lines;
        for (std::string line = read_line(); line != last; line = read_line()) lines.push_back(line);
        return lines;
    }

    // The State letter of /proc/PID/status, read with std::ifstream (an
    // oracle independent of our parsers); '?' when the process is gone.
    [[nodiscard]] char state() const {
        std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("State:", 0) == 0 && line.size() > 7) return line[7];
        return '?';
    }
    // Alive and not stopped: what every test checks before it lets go.
    [[nodiscard]] bool running() const {
        char s = state();
        return s != '?' && s != 'T' && s != 't' && s != 'Z' && s != 'X';
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string pending_;
};

struct program_run {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `argv` to completion with stdout and stderr captured in files; with
// `as_nobody`, as user and group 65534 (an unprivileged on-call engineer).
inline program_run run_program(std::vector<std::string> argv, bool as_nobody = false) {
    char out_path[] = "/tmp/triage-test-outXXXXXX";
    char err_path[] = "/tmp/triage-test-errXXXXXX";
    int out_fd = ::mkstemp(out_path);
    int err_fd = ::mkstemp(err_path);
    auto args = c_argv(argv);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out_fd, STDOUT_FILENO);
        ::dup2(err_fd, STDERR_FILENO);
        if (as_nobody && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out_fd);
    ::close(err_fd);
    program_run run;
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid)
        run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto slurp = [](const char* path) {
        std::ifstream in(path, std::ios::binary);
        return std::string{std::istreambuf_iterator<char>{in}, {}};
    };
    run.out = slurp(out_path);
    run.err = slurp(err_path);
    ::unlink(out_path);
    ::unlink(err_path);
    if (pid < 0 || run.exit_code == 127) throw std::runtime_error("cannot start " + argv[0]);
    return run;
}

inline std::string victim_path(const std::string& name) { return std::string{TRIAGE_VICTIM_DIR} + "/" + name; }

} // namespace triage_test
