// A victim program started by a test: its stdout lines up to "ready", and a
// guarantee that it is killed and reaped when the test ends, even on failure.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"

namespace triage::testing {

// One buffer the victim announced: "<name> <hex address> <size> <seed>".
struct victim_buffer {
    std::uint64_t address = 0;
    std::size_t size = 0;
    unsigned seed = 0;
};

// The victim's byte formula (tests/victims/memory_pattern.c).
inline std::byte pattern_byte(std::uint64_t i, unsigned seed) {
    return std::byte((i * 131u + (i >> 8) * 7u + seed * 29u) & 0xffu);
}

class victim_process {
public:
    // Starts `path`, reads its stdout until "ready" (10 s at most).
    explicit victim_process(const std::string& path) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
            ::dup2(out[1], STDOUT_FILENO);
            ::execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
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
                throw std::runtime_error(path + " did not become ready; it printed: " + text);
            }
            text.append(chunk, static_cast<std::size_t>(n));
        }
        ::close(out[0]);
        std::string_view rest = text;
        for (std::size_t line = 0; !rest.empty() && line < 64; ++line) {
            std::string_view row = next_token(rest, '\n');
            std::string_view name = next_token(row, ' ');
            std::string_view address = next_token(row, ' ');
            std::string_view size = next_token(row, ' ');
            std::string_view seed = next_token(row, ' ');
            if (name == "ready") break;
            if (address.starts_with("0x")) address.remove_prefix(2);
            victim_buffer b{parse_unsigned<std::uint64_t>(address, 16).value(), parse_unsigned<std::size_t>(size).value(),
                            parse_unsigned<unsigned>(seed).value()};
            buffers_.emplace(std::string{name}, b);
        }
    }

    victim_process(const victim_process&) = delete;
    victim_process& operator=(const victim_process&) = delete;
    ~victim_process() { stop(); }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] const victim_buffer& buffer(const std::string& name) const { return buffers_.at(name); }

    // The State: letter of /proc/PID/status ('S', 'R', 't', 'T', 'Z', ...), or '?'.
    [[nodiscard]] char state() const {
        auto status = read_file("/proc/" + std::to_string(pid_) + "/status");
        if (!status) return '?';
        auto at = status->find("State:");
        if (at == std::string::npos) return '?';
        std::string_view rest = std::string_view{*status}.substr(at + 6);
        return trim(rest).empty() ? '?' : trim(rest).front();
    }

    // Alive and running or sleeping: not stopped, traced or dead.
    [[nodiscard]] bool running() const {
        char s = state();
        return s == 'S' || s == 'R';
    }

    // SIGKILL, and wait until it is a zombie (not reaped: the pid stays ours).
    void kill_leaving_zombie() {
        ::kill(pid_, SIGKILL);
        siginfo_t info{};
        ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
    }

    // SIGKILL and reap. Idempotent.
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
    std::map<std::string, victim_buffer> buffers_;
};

inline std::string victim_path(const char* name) { return std::string{TRIAGE_VICTIM_DIR} + "/" + name; }

} // namespace triage::testing
