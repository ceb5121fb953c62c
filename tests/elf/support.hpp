// Helpers for tests/elf: a victim process started with arguments (killed and
// reaped when the test ends, even on failure), a scratch directory removed at
// the end, and running oracle commands (nm, readelf, cc) for their output.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"

namespace triage::elf_testing {

// The output of a shell command; throws when it exits non-zero.
inline std::string run(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed for: " + command);
    std::string out;
    char chunk[65536];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0;) out.append(chunk, n);
    int status = ::pclose(pipe);
    if (status != 0) throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
    return out;
}

inline std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    return out;
}

inline std::uint64_t hex_value(std::string_view text) {
    text = trim(text);
    if (text.starts_with("0x")) text.remove_prefix(2);
    auto v = parse_unsigned<std::uint64_t>(text, 16);
    if (!v) throw std::runtime_error("not a hex number: " + std::string{text});
    return *v;
}

// A directory under /tmp, removed with everything in it at scope exit.
class scratch_dir {
public:
    scratch_dir() {
        char name[] = "/tmp/triage-elf-XXXXXX";
        if (::mkdtemp(name) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = name;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::string operator/(std::string_view name) const { return path_ + "/" + std::string{name}; }

private:
    std::string path_;
};

// Builds the probe library: `int triage_probe(int)` returning x * mark, so
// that different marks give different code and build-ids. `flags` go to cc.
inline void build_probe_library(const scratch_dir& dir, const std::string& output, int mark,
                                const std::string& flags = "-Wl,--build-id") {
    std::string source = dir / "probe.c";
    run("printf 'int triage_probe(int x) { return x * MARK; }\\n' > " + source);
    run("cc -shared -fPIC -O1 -DMARK=" + std::to_string(mark) + " " + flags + " -o " + output + " " + source);
}

// A victim started with arguments. Its stdout lines "name 0xADDRESS" up to
// "ready" are kept; it is killed and reaped on destruction.
class victim {
public:
    explicit victim(std::vector<std::string> argv) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::dup2(out[1], STDOUT_FILENO);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(out[1]);
        std::string text;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (text.find("ready\n") == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{out[0], POLLIN, 0};
            char chunk[512];
            ssize_t n = left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1
                            ? ::read(out[0], chunk, sizeof chunk)
                            : -1;
            if (n <= 0) {
                ::close(out[0]);
                stop();
                throw std::runtime_error(argv[0] + " did not become ready; it printed: " + text);
            }
            text.append(chunk, static_cast<std::size_t>(n));
        }
        ::close(out[0]);
        for (std::string_view line : lines(text)) {
            std::string_view name = next_token(line, ' ');
            if (name == "ready") break;
            values_[std::string{name}] = hex_value(line);
        }
    }
    victim(const victim&) = delete;
    victim& operator=(const victim&) = delete;
    ~victim() { stop(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] std::uint64_t value(const std::string& name) const { return values_.at(name); }

    // The State: letter of /proc/PID/status.
    [[nodiscard]] char state() const {
        auto status = read_file("/proc/" + std::to_string(pid_) + "/status");
        if (!status) return '?';
        auto at = status->find("State:");
        if (at == std::string::npos) return '?';
        std::string_view rest = trim(std::string_view{*status}.substr(at + 6));
        return rest.empty() ? '?' : rest.front();
    }
    [[nodiscard]] bool running() const {
        char s = state();
        return s == 'S' || s == 'R';
    }

    void stop() {
        if (pid_ <= 0 || reaped_) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        reaped_ = true;
    }

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::map<std::string, std::uint64_t> values_;
};

inline std::string victim_path(const char* name) { return std::string{TRIAGE_VICTIM_DIR} + "/" + name; }

} // namespace triage::elf_testing
