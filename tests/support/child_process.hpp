// A child process owned by a test: started from an argv with stdin on
// /dev/null and stdout (optionally stderr) on pipes (close-on-exec: other
// descriptors of the test, e.g. a memfd, pass to the child), optionally in
// another working directory or with RLIMIT_CORE unlimited; read line by line
// with a timeout, asked about its State and TracerPid in /proc (also per
// thread: thread_states, any_thread_stopped), and SIGKILLed and reaped when
// the object goes — also when a REQUIRE fails or the test throws.
//
// Errors: std::runtime_error (a test helper, not library code): when the
// program cannot be started (exec's errno), and when a line does not come in
// time or the child closes its stdout first (the message holds what it
// printed, and its stderr when captured).
// Thread safety: one object per thread. Not signal-safe.
// What it does to the child: nothing until destruction (SIGKILL, then reap);
// PR_SET_PDEATHSIG makes it die with the test process too.
//
//   triage::test_support::child_process churn{{triage::test_support::victim_path("procfs_churn")}};
//   REQUIRE(churn.read_line() == "ready");
//   ... inspect churn.pid() ...
//   CHECK(churn.running());
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace triage::test_support {

// A program built from tests/victims/<name>.c.
inline std::string victim_path(std::string_view name) { return std::string{TRIAGE_VICTIM_DIR} + "/" + std::string{name}; }

// A file of the source tree: source_path("tests/cpython/dump_strings.py").
inline std::string source_path(std::string_view relative) {
    return std::string{TRIAGE_SOURCE_DIR} + "/" + std::string{relative};
}

// The State letter of /proc/PID/task/TID/status ('R', 'S', 'D', 't', 'T',
// 'Z', ...), read with std::ifstream so that it does not depend on the
// parsers under test; '?' when the thread is gone.
inline char thread_state(pid_t pid, pid_t tid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("State:") && line.size() > 7) return line[7];
    return '?';
}

// The State letter of a process (its main thread); '?' when it is gone.
inline char process_state(pid_t pid) { return thread_state(pid, pid); }

// How a zombie `pid` ended, from the wait status /proc/PID/stat ends with:
// "exit status N" or "signal N"; empty when it cannot be read.
inline std::string zombie_ending(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto last = line.find_last_of(' ');
    if (last == std::string::npos || last + 1 >= line.size()) return {};
    const int status = std::stoi(line.substr(last + 1));
    return (status & 0x7f) != 0 ? "signal " + std::to_string(status & 0x7f) : "exit status " + std::to_string((status >> 8) & 0xff);
}

// The State letter of every thread of `pid` (listed from /proc/PID/task),
// '?' for one that vanished meanwhile; empty when the process is gone.
inline std::vector<char> thread_states(pid_t pid) {
    std::vector<char> states;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        const std::string name = entry.path().filename().string();
        states.push_back(thread_state(pid, static_cast<pid_t>(std::stol(name))));
    }
    return states;
}

// Some thread of `pid` is stopped by a signal ('T') or by a tracer ('t').
inline bool any_thread_stopped(pid_t pid) {
    for (char s : thread_states(pid))
        if (s == 't' || s == 'T') return true;
    return false;
}

// The TracerPid of /proc/PID/status: 0 when not traced, -1 when gone.
inline long tracer_pid(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("TracerPid:")) return std::stol(line.substr(10));
    return -1;
}

struct spawn_options {
    bool capture_stderr = false;  // stderr on a pipe (else the test's own stderr)
    bool as_nobody = false;       // run as user and group 65534: an unprivileged user
    std::string working_directory{};  // empty: the test's own
    bool unlimited_core = false;  // RLIMIT_CORE unlimited, so that the kernel may write its core
};

class child_process {
public:
    // Starts argv[0] (looked up on PATH when it has no '/').
    explicit child_process(std::vector<std::string> argv, spawn_options options = {}) : name_{argv.at(0)} {
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        int out[2], err[2] = {-1, -1}, exec_error[2];
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(exec_error, O_CLOEXEC) != 0 ||
            (options.capture_stderr && ::pipe2(err, O_CLOEXEC) != 0))
            throw std::runtime_error("cannot create pipes for " + name_ + ": " + std::strerror(errno));
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            // Only async-signal-safe calls from here on.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);
            int null = ::open("/dev/null", O_RDONLY);
            bool ok = null >= 0 && ::dup2(null, STDIN_FILENO) >= 0 && ::dup2(out[1], STDOUT_FILENO) >= 0 &&
                      (err[1] < 0 || ::dup2(err[1], STDERR_FILENO) >= 0);
            if (ok && !options.working_directory.empty()) ok = ::chdir(options.working_directory.c_str()) == 0;
            if (ok && options.unlimited_core) {
                const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
                ok = ::setrlimit(RLIMIT_CORE, &unlimited) == 0;
            }
            int program = -1;
            if (ok && options.as_nobody) {
                // Opened while still root: the build tree may sit in a
                // directory only root can enter (mktemp -d makes them 0700);
                // exec then checks the file's own mode, not its path.
                program = ::open(args[0], O_RDONLY | O_CLOEXEC);
                ok = program >= 0 && ::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 && ::setuid(65534) == 0;
            }
            if (ok && program >= 0) ::fexecve(program, args.data(), environ);
            else if (ok) ::execvp(args[0], args.data());
            int code = errno;
            (void)!::write(exec_error[1], &code, sizeof code);
            ::_exit(127);
        }
        const int fork_errno = errno;
        ::close(out[1]);
        ::close(exec_error[1]);
        if (err[1] >= 0) ::close(err[1]);
        out_ = out[0];
        err_ = err[0];
        int code = 0;
        ssize_t n = pid_ > 0 ? ::read(exec_error[0], &code, sizeof code) : 0;
        ::close(exec_error[0]);
        if (pid_ < 0 || n == sizeof code) {
            stop();
            close_pipes();
            throw std::runtime_error("cannot start " + name_ + ": " + std::strerror(pid_ < 0 ? fork_errno : code));
        }
    }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() {
        stop();
        close_pipes();
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    // The next line the child writes on stdout, without its '\n'.
    std::string read_line(std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (std::size_t nl; (nl = out_text_.find('\n')) == std::string::npos;) {
            if (out_ < 0) fail("closed its stdout (exited?)");
            if (!pump(deadline)) fail("printed no line within " + std::to_string(timeout.count()) + " ms");
        }
        const std::size_t nl = out_text_.find('\n');
        std::string line = out_text_.substr(0, nl);
        out_text_.erase(0, nl + 1);
        return line;
    }

    // Lines up to the first whose first word is `last` ("ready", "ready 10000"):
    // the lines before it, in order. `timeout` bounds the whole wait.
    std::vector<std::string> read_until(std::string_view last, std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::vector<std::string> lines;
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            std::string line = read_line(std::max(left, std::chrono::milliseconds{0}));
            if (line == last || line.starts_with(std::string{last} + " ")) {
                last_line_ = std::move(line);
                return lines;
            }
            lines.push_back(std::move(line));
        }
    }

    // Waits until the child's stderr (captured) holds `text`; reads stdout on the way.
    void wait_for_stderr(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (err_text_.find(text) == std::string::npos) {
            if (err_ < 0) fail("closed its stderr (exited?) before printing \"" + std::string{text} + "\"");
            if (!pump(deadline)) fail("did not print \"" + std::string{text} + "\" within " + std::to_string(timeout.count()) + " ms");
        }
    }

    // The line that ended the last read_until.
    [[nodiscard]] const std::string& ready_line() const noexcept { return last_line_; }

    // Waits for the child to exit, reading its stdout (and stderr) to the end:
    // the wait status, or nothing when `timeout` passed first (the child is
    // then still running, and killed on destruction).
    std::optional<int> wait_for_exit(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (out_ >= 0 || err_ >= 0)
            if (!pump(deadline)) return std::nullopt;
        if (reaped_) throw std::logic_error(name_ + " was already reaped");
        for (;;) {
            int status = 0;
            pid_t got = ::waitpid(pid_, &status, WNOHANG | __WALL);
            if (got == pid_) {
                reaped_ = true;
                return status;
            }
            if (got < 0 && errno != EINTR) return std::nullopt;
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            ::usleep(1000);
        }
    }

    // What the child printed and nobody has read yet.
    [[nodiscard]] const std::string& unread_stdout() const noexcept { return out_text_; }
    [[nodiscard]] const std::string& captured_stderr() const noexcept { return err_text_; }

    [[nodiscard]] char state() const { return pid_ > 0 && !reaped_ ? process_state(pid_) : '?'; }
    // Exists and is not a zombie.
    [[nodiscard]] bool alive() const {
        char s = state();
        return s != '?' && s != 'Z' && s != 'X';
    }
    // Stopped by a signal ('T') or by a tracer ('t').
    [[nodiscard]] bool is_stopped() const {
        char s = state();
        return s == 't' || s == 'T';
    }
    // Running or in an interruptible sleep: what a healthy victim looks like
    // (alive, not stopped, not stuck in the kernel).
    [[nodiscard]] bool running() const {
        char s = state();
        return s == 'R' || s == 'S';
    }

    // Sends `signal` and reaps the child: its wait status (a signal that does
    // not end the child blocks until something else does).
    int kill_and_wait(int signal) {
        if (pid_ <= 0 || reaped_) throw std::logic_error(name_ + " was already reaped");
        ::kill(pid_, signal);
        int status = 0;
        while (::waitpid(pid_, &status, __WALL) < 0)
            if (errno != EINTR) throw std::runtime_error("cannot wait for " + name_ + ": " + std::strerror(errno));
        reaped_ = true;
        return status;
    }

    // SIGKILL, and wait until it is a zombie: not reaped, so the pid stays ours.
    void kill_leaving_zombie() {
        if (pid_ <= 0 || reaped_) return;
        ::kill(pid_, SIGKILL);
        siginfo_t info{};
        while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT | __WALL) != 0 && errno == EINTR) {
        }
    }

    // SIGKILL and reap (a stopped or traced child too). Idempotent; pid()
    // still returns the old, now free, process id.
    // A thread of the child that this test traced and left a zombie (its
    // tracer died with it unreaped) holds the main thread back: those are
    // reaped here too.
    void stop() noexcept {
        if (pid_ <= 0 || reaped_) return;
        ::kill(pid_, SIGKILL);
        for (;;) {
            int status = 0;
            const pid_t got = ::waitpid(pid_, &status, __WALL | WNOHANG);
            if (got == pid_ || (got < 0 && errno != EINTR)) break;
            reap_traced_threads();
            ::usleep(1000);
        }
        reaped_ = true;
    }

private:
    void reap_traced_threads() const noexcept {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/task", ec)) {
            const pid_t tid = static_cast<pid_t>(std::strtol(entry.path().filename().c_str(), nullptr, 10));
            int status = 0;
            if (tid > 0 && tid != pid_) ::waitpid(tid, &status, __WALL | WNOHANG);
        }
    }

    // Waits (until `deadline`) for output on the open pipes and appends it;
    // closes a pipe at end of file. False when the deadline passed first.
    bool pump(std::chrono::steady_clock::time_point deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};  // poll ignores negative fds
        int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready <= 0) return ready < 0 && errno == EINTR;
        drain(out_, out_text_, fds[0].revents);
        drain(err_, err_text_, fds[1].revents);
        return true;
    }

    static void drain(int& fd, std::string& text, short revents) {
        if (fd < 0 || revents == 0) return;
        char chunk[4096];
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            text.append(chunk, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            ::close(fd);
            fd = -1;
        }
    }

    [[noreturn]] void fail(const std::string& what) const {
        std::string message = name_ + " " + what + "; it printed: " + out_text_;
        if (!err_text_.empty()) message += "; on stderr: " + err_text_;
        throw std::runtime_error(message);
    }

    void close_pipes() noexcept {
        for (int* fd : {&out_, &err_}) {
            if (*fd >= 0) ::close(*fd);
            *fd = -1;
        }
    }

    std::string name_;
    pid_t pid_ = -1;
    bool reaped_ = false;
    int out_ = -1;
    int err_ = -1;
    std::string out_text_;
    std::string err_text_;
    std::string last_line_;
};

} // namespace triage::test_support
