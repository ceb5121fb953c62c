// Test support for the core-file tests: victims started with arguments (and
// optionally a working directory and an unlimited core size), killed and
// reaped when the test ends even on failure; running other programs (gdb,
// eu-stack, gcore, triage-gcore) and capturing what they print.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"

namespace triage::testing {

inline std::string victim_path(const std::string& name) { return std::string{TRIAGE_VICTIM_DIR} + "/" + name; }
inline std::string example_path(const std::string& name) { return std::string{TRIAGE_EXAMPLE_DIR} + "/" + name; }

// A scratch directory removed (with its files) at the end of the test.
class scratch_dir {
public:
    scratch_dir() {
        char name[] = "/tmp/triage-coredump-XXXXXX";
        if (::mkdtemp(name) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = name;
    }
    ~scratch_dir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::string operator/(std::string_view name) const { return path_ + "/" + std::string{name}; }
    // Names of the entries, sorted.
    [[nodiscard]] std::vector<std::string> entries() const {
        std::vector<std::string> out;
        FILE* ls = ::popen(("ls -A '" + path_ + "'").c_str(), "r");
        char line[4096];
        while (ls != nullptr && std::fgets(line, sizeof line, ls) != nullptr) {
            std::string s = line;
            if (!s.empty() && s.back() == '\n') s.pop_back();
            out.push_back(s);
        }
        if (ls != nullptr) ::pclose(ls);
        return out;
    }

private:
    std::string path_;
};

struct victim_options {
    std::vector<std::string> args;
    std::string cwd;            // empty: ours
    bool unlimited_core = false;  // RLIMIT_CORE = unlimited (for a kernel core)
};

// A victim program: its stdout lines up to "ready" are kept as
// key → rest-of-line (keys may repeat: `all(key)`).
class victim {
public:
    victim(const std::string& name, victim_options options = {}) {
        std::string path = victim_path(name);
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::dup2(out[1], STDOUT_FILENO);
            if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
            if (options.unlimited_core) {
                rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
                ::setrlimit(RLIMIT_CORE, &unlimited);
            }
            std::vector<char*> argv{path.data()};
            for (auto& a : options.args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(path.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        std::string text;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (text.find("ready\n") == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{out[0], POLLIN, 0};
            char chunk[4096];
            ssize_t n = left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1 ? ::read(out[0], chunk, sizeof chunk) : -1;
            if (n <= 0) {
                ::close(out[0]);
                stop();
                throw std::runtime_error(path + " did not become ready; it printed: " + text);
            }
            text.append(chunk, static_cast<std::size_t>(n));
        }
        ::close(out[0]);
        std::string_view rest = text;
        while (!rest.empty()) {
            std::string_view line = next_token(rest, '\n');
            std::string_view key = next_token(line, ' ');
            if (key == "ready") break;
            lines_.emplace(std::string{key}, std::string{line});
        }
    }
    victim(const victim&) = delete;
    victim& operator=(const victim&) = delete;
    ~victim() { stop(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] std::string line(const std::string& key) const {
        auto it = lines_.find(key);
        if (it == lines_.end()) throw std::runtime_error("the victim printed no '" + key + "' line");
        return it->second;
    }
    [[nodiscard]] std::vector<std::string> all(const std::string& key) const {
        std::vector<std::string> out;
        auto [b, e] = lines_.equal_range(key);
        for (auto it = b; it != e; ++it) out.push_back(it->second);
        return out;
    }
    // Field `index` (0-based, space-separated) of the line `key`, as a number.
    [[nodiscard]] std::uint64_t number(const std::string& key, std::size_t index, int base = 10) const {
        std::string text = line(key);
        std::string_view rest = text;
        std::string_view field;
        for (std::size_t i = 0; i <= index; ++i) field = next_token(rest, ' ');
        if (base == 16 && field.starts_with("0x")) field.remove_prefix(2);
        return parse_unsigned<std::uint64_t>(field, base).value();
    }

    // /proc/PID/status "State:" letter ('?' when gone).
    [[nodiscard]] char state() const {
        auto text = read_file("/proc/" + std::to_string(pid_) + "/status");
        if (!text) return '?';
        auto at = text->find("State:\t");
        return at == std::string::npos ? '?' : (*text)[at + 7];
    }
    [[nodiscard]] long tracer() const {
        auto text = read_file("/proc/" + std::to_string(pid_) + "/status");
        if (!text) return -1;
        auto at = text->find("TracerPid:\t");
        if (at == std::string::npos) return -1;
        std::string_view v = std::string_view{*text}.substr(at + 11);
        return static_cast<long>(parse_unsigned<std::uint64_t>(next_token(v, '\n')).value_or(0));
    }
    // CPU ticks (utime + stime) of the whole process.
    [[nodiscard]] std::uint64_t cpu_ticks() const {
        auto text = read_file("/proc/" + std::to_string(pid_) + "/stat");
        if (!text) return 0;
        std::string_view v = std::string_view{*text}.substr(text->rfind(')') + 2);
        std::string_view f;
        std::uint64_t ticks = 0;
        for (int i = 3; i <= 15; ++i) {
            f = next_token(v, ' ');
            if (i == 14 || i == 15) ticks += parse_unsigned<std::uint64_t>(f).value_or(0);
        }
        return ticks;
    }
    // Alive, not stopped, not traced (for victims that do not spin).
    [[nodiscard]] bool running_unstopped() const {
        char s = state();
        return s != '?' && s != 't' && s != 'T' && s != 'Z' && tracer() == 0;
    }
    // Alive, not stopped, not traced, and its spinning thread still gets CPU.
    [[nodiscard]] bool running_freely() const {
        char s = state();
        if (s == '?' || s == 't' || s == 'T' || s == 'Z' || tracer() != 0) return false;
        std::uint64_t before = cpu_ticks();
        for (int i = 0; i < 100; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (cpu_ticks() > before) return true;
        }
        return false;
    }
    // Sends `signal` and reaps: the wait status.
    int kill_and_wait(int signal) {
        int status = 0;
        if (pid_ > 0) {
            ::kill(pid_, signal);
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
        return status;
    }

private:
    void stop() noexcept {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

    pid_t pid_ = -1;
    std::multimap<std::string, std::string> lines_;
};

struct command_result {
    int exit_code = -1;  // -1: killed by a signal
    std::string out;
    std::string err;
};

// Runs `args` (no shell), capturing stdout and stderr.
inline command_result run(const std::vector<std::string>& args) {
    scratch_dir tmp;
    std::string out_path = tmp / "out", err_path = tmp / "err";
    pid_t child = ::fork();
    if (child == 0) {
        int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(o, STDOUT_FILENO);
        ::dup2(e, STDERR_FILENO);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, STDIN_FILENO);
        std::vector<char*> argv;
        std::vector<std::string> copy = args;
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    command_result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out_path).value_or("");
    r.err = read_file(err_path).value_or("");
    return r;
}

// eu-stack output → frames (function names, "??" when unknown) per TID.
inline std::map<long, std::vector<std::string>> eu_stack_frames(std::string_view text) {
    std::map<long, std::vector<std::string>> out;
    long tid = -1;
    while (!text.empty()) {
        std::string_view line = next_token(text, '\n');
        if (line.starts_with("TID ")) {
            line.remove_prefix(4);
            tid = static_cast<long>(parse_unsigned<std::uint64_t>(next_token(line, ':')).value_or(0));
            out[tid];
        } else if (line.starts_with("#") && tid >= 0) {
            (void)next_token(line, ' ');  // #N
            (void)next_token(line, ' ');  // address
            std::string_view name = trim(line);
            out[tid].emplace_back(name.empty() ? "??" : std::string{next_token(name, ' ')});
        }
    }
    return out;
}

} // namespace triage::testing
