// Test support for the CPython walker: the interpreters on this machine, a
// Python victim (tests/victims/py_parked.py) that is killed when the test
// ends, the files it loads, its marker comments, faulthandler dumps, and
// running our examples on them.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/interpreters.hpp"
#include "support/run_command.hpp"
#include "triage/base/read_file.hpp"

namespace triage::testing {

// Runs `program` with `arguments` split at spaces (no shell): its exit code
// and what it printed.
inline test_support::command_result run_tool(const std::string& program, const std::string& arguments) {
    std::vector<std::string> argv{program};
    std::istringstream words(arguments);
    for (std::string word; words >> word;) argv.push_back(word);
    return test_support::run_command(std::move(argv));
}

// examples/triage-pystack with `arguments`.
inline test_support::command_result run_pystack(const std::string& arguments) {
    return run_tool(std::string(TRIAGE_EXAMPLE_DIR) + "/triage-pystack", arguments);
}

struct python_interpreter {
    std::string path;   // the python executable (a lab's: its path inside the lab root)
    std::string label;  // "pyenv 3.11.7", "/usr/bin/python3.11", "lab python3.14"
    int major = 0;
    int minor = 0;
    std::vector<std::string> launcher = {};  // words run before `path` (the lab's run-in-root); empty: none
};

// Every interpreter on the machine: the pyenv builds, Debian's
// /usr/bin/pythonX.Y (not debug builds), with their version from the
// directory or file name, then the interpreter lab's (support/interpreters.hpp);
// only the versions TRIAGE_TEST_PYTHONS lists when it is set.
inline std::vector<python_interpreter> machine_interpreters() {
    std::vector<python_interpreter> out;
    const char* root_env = std::getenv("PYENV_ROOT");
    std::filesystem::path root = root_env ? root_env : "/root/.pyenv";
    std::regex pyenv_version(R"((\d)\.(\d+)\.\d+)");
    std::error_code ec;
    if (std::filesystem::is_directory(root / "versions", ec)) {
        for (const auto& entry : std::filesystem::directory_iterator(root / "versions", ec)) {
            std::smatch m;
            std::string name = entry.path().filename().string();
            if (!std::regex_match(name, m, pyenv_version)) continue;
            auto exe = entry.path() / "bin" / "python";
            if (!std::filesystem::exists(exe, ec)) continue;
            out.push_back({exe.string(), "pyenv " + name, std::stoi(m[1]), std::stoi(m[2])});
        }
    }
    std::regex system_name(R"(python(\d)\.(\d+))");
    for (const auto& entry : std::filesystem::directory_iterator("/usr/bin", ec)) {
        std::smatch m;
        std::string name = entry.path().filename().string();
        if (!std::regex_match(name, m, system_name) || std::filesystem::is_symlink(entry.path(), ec)) continue;
        out.push_back({entry.path().string(), entry.path().string(), std::stoi(m[1]), std::stoi(m[2])});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tie(a.major, a.minor, a.path) < std::tie(b.major, b.minor, b.path);
    });
    for (const auto& lab : test_support::lab_interpreters()) {
        auto command = lab.command();
        command.pop_back();  // the program itself is `path`
        out.push_back({lab.path, lab.label, lab.major, lab.minor, std::move(command)});
    }
    std::erase_if(out, [](const python_interpreter& p) { return !test_support::covered_this_run(p.major, p.minor); });
    return out;
}

// The interpreter the stuck service runs on in tests: Debian's python3.11
// (as in the incident), else the newest on the machine; throws (failing
// the test) when there is none.
inline python_interpreter service_python() {
    auto all = machine_interpreters();
    if (all.empty()) throw std::runtime_error("no Python interpreter on this machine");
    auto debian = std::find_if(all.begin(), all.end(), [](const auto& p) { return p.path == "/usr/bin/python3.11"; });
    return debian != all.end() ? *debian : all.back();
}

inline std::string source_dir() { return TRIAGE_SOURCE_DIR; }
inline std::string victim_script(const std::string& name) { return source_dir() + "/tests/victims/" + name; }

// A marker comment of a victim file: "# park: NAME" or "# spin: NAME".
struct marker {
    std::string kind;  // "park" or "spin"
    std::string name;
    int line = 0;
};

inline std::vector<marker> read_markers(const std::string& path) {
    std::vector<marker> out;
    std::ifstream in(path);
    std::string text;
    std::regex pattern(R"(#\s*(park|spin):\s*([A-Za-z0-9_-]+))");
    for (int line = 1; std::getline(in, text); ++line) {
        std::smatch m;
        if (std::regex_search(text, m, pattern)) out.push_back({m[1], m[2], line});
    }
    return out;
}

inline std::set<int> marker_lines(const std::vector<marker>& markers, const std::string& kind, const std::string& name) {
    std::set<int> lines;
    for (const auto& m : markers) {
        if (m.kind == kind && m.name == name) lines.insert(m.line);
    }
    return lines;
}

// Whether a triage-pystack JSON report (any JSON type with nlohmann's
// interface) of tests/victims/py_stuck_service.py shows it settled: the 24
// workers at their park line and the main thread inside Thread.join. The
// service writes its ready file just before the main thread reaches join,
// and with the spinner holding the GIL that can take a few switch intervals.
template <class Json>
bool stuck_service_settled(const Json& report) {
    const auto markers = read_markers(victim_script("py_stuck_service.py"));
    const int blocked_line = *marker_lines(markers, "park", "blocked").begin();
    const int main_line = *marker_lines(markers, "park", "main").begin();
    int blocked = 0, main_thread = 0;
    for (const auto& t : report["threads"]) {
        const auto& frames = t["frames"];
        if (frames.empty()) return false;
        if (frames.front()["function"] == "blocked_worker" && frames.front()["line"] == blocked_line) ++blocked;
        if (frames.back()["function"] == "<module>" && frames.back()["line"] == main_line) ++main_thread;
    }
    return blocked == 24 && main_thread == 1;
}

// A scratch directory removed at the end.
class scratch_dir {
public:
    scratch_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "triage-cpython-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

// The files py_parked.py loads from its extra directory.
struct extra_files {
    std::string long_module;     // far_away() parks at `long_line`
    int long_line = 0;
    std::string unicode_module;  // a non-ASCII file name
    int unicode_line = 0;        // where its innermost function parks
    std::vector<std::string> unicode_functions;  // innermost first
};

inline extra_files write_extra_files(const std::string& dir, int major) {
    extra_files out;
    out.long_module = dir + "/long_module.py";
    {
        std::ofstream f(out.long_module);
        f << "def far_away():\n    mark_parked('long')\n";
        for (int k = 0; k < 70000; ++k) f << "    # a long function: its line table jumps far\n";
        f << "    held_lock.acquire()  # park: long\n";
        out.long_line = 70003;
    }
    out.unicode_module = dir + "/\xC3\xBCn\xC3\xAF" "code_\xE5\x90\x8D\xE5\x89\x8D.py";  // ünïcode_名前.py
    std::ofstream f(out.unicode_module);
    if (major >= 3) {
        // Latin-1, BMP and astral names: UCS1, UCS2 and UCS4 strings.
        out.unicode_functions = {"\xF0\xA0\x80\x80_far", "\xD0\xB6\xD0\xB4\xD0\xB0\xD1\x82\xD1\x8C_\xE5\x90\x8D\xE5\x89\x8D",
                                 "\xC3\xBCn\xC3\xAF_latin", "entry"};
    } else {
        out.unicode_functions = {"far", "bmp", "latin", "entry"};
    }
    const auto& n = out.unicode_functions;
    f << "def " << n[2] << "():\n    return " << n[1] << "()\n\n\n"
      << "def " << n[1] << "():\n    return " << n[0] << "()\n\n\n"
      << "def " << n[0] << "():\n    mark_parked(\"unicode\")\n    held_lock.acquire()  # park: unicode\n\n\n"
      << "def entry():\n    return " << n[2] << "()\n";
    out.unicode_line = 11;
    return out;
}

// A Python victim: started with `args`, ready when `ready_file` exists;
// killed (SIGKILL) and reaped when destroyed.
class python_process {
public:
    python_process(const python_interpreter& python, std::vector<std::string> args) : python_{python} {
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            int null = ::open("/dev/null", O_WRONLY);
            if (null >= 0) ::dup2(null, STDOUT_FILENO);
            std::vector<char*> argv;
            for (auto& word : python_.launcher) argv.push_back(word.data());
            argv.push_back(python_.path.data());
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    ~python_process() { stop(); }
    python_process(const python_process&) = delete;
    python_process& operator=(const python_process&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] const python_interpreter& python() const { return python_; }

    // Waits for `file` to exist (the victim renames it into place when done).
    [[nodiscard]] bool wait_for_file(const std::string& file, std::chrono::seconds limit = std::chrono::seconds(60)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (::access(file.c_str(), F_OK) == 0) return true;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // "R", "S", "t"...: the State letter of /proc/PID/status ("" when gone).
    [[nodiscard]] std::string state() const {
        auto text = read_file("/proc/" + std::to_string(pid_) + "/status");
        if (!text) return "";
        auto at = text->find("State:\t");
        return at == std::string::npos ? "" : text->substr(at + 7, 1);
    }

    // Alive and neither stopped by a signal nor held by a tracer.
    [[nodiscard]] bool running() const {
        const std::string s = state();
        return !s.empty() && s != "t" && s != "T";
    }

    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

private:
    python_interpreter python_;
    pid_t pid_ = -1;
};

// One frame of a faulthandler dump.
struct dumped_frame {
    std::string file;
    int line = 0;
    std::string function;
};

// faulthandler's dump: thread id (pthread_t) → frames, innermost first.
inline std::map<std::uint64_t, std::vector<dumped_frame>> parse_faulthandler(const std::string& text) {
    std::map<std::uint64_t, std::vector<dumped_frame>> out;
    std::istringstream in(text);
    std::string row;
    // 3.14+ name the thread: "Thread 0x7f... [worker-3] (most recent call first):".
    std::regex thread_line(R"(^(?:Current thread|Thread) (0x[0-9a-f]+)(?: \[.*\])? \(most recent call first\):)");
    std::regex frame_line(R"re(^  File "(.*)", line (-?\d+) in (.*)$)re");
    std::vector<dumped_frame>* current = nullptr;
    while (std::getline(in, row)) {
        std::smatch m;
        if (std::regex_search(row, m, thread_line)) {
            current = &out[std::stoull(m[1], nullptr, 16)];
        } else if (current != nullptr && std::regex_match(row, m, frame_line)) {
            current->push_back({m[1], std::stoi(m[2]), m[3]});
        }
    }
    return out;
}

// Sends SIGUSR1 to `pid` (py_parked.py has faulthandler dump every thread
// to `dump_path` then) and waits, bounded, for a dump of `threads` threads
// that stops growing. Returns the dump's text ("" when none came).
inline std::string faulthandler_dump(pid_t pid, const std::string& dump_path, std::size_t threads) {
    if (pid <= 0 || ::kill(pid, SIGUSR1) != 0) return "";  // never kill(-1): a reaped victim's pid is -1
    std::string text;
    for (int k = 0; k < 500; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        auto now = read_file(dump_path);
        if (!now) continue;
        bool settled = *now == text && parse_faulthandler(text).size() == threads;
        text = *now;
        if (settled) break;
    }
    return text;
}

// Text as faulthandler writes it: non-ASCII code points escaped as \xNN,
// \uNNNN or \UNNNNNNNN.
inline std::string faulthandler_escape(const std::string& utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size();) {
        auto c = static_cast<unsigned char>(utf8[i]);
        char32_t cp = c;
        std::size_t n = 1;
        if (c >= 0xF0) { cp = c & 0x07; n = 4; }
        else if (c >= 0xE0) { cp = c & 0x0F; n = 3; }
        else if (c >= 0xC0) { cp = c & 0x1F; n = 2; }
        for (std::size_t k = 1; k < n && i + k < utf8.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
        i += n;
        char buffer[16];
        if (cp < 0x80) {
            out += static_cast<char>(cp);
            continue;
        }
        if (cp <= 0xFF) std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(cp));
        else if (cp <= 0xFFFF) std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(cp));
        else std::snprintf(buffer, sizeof buffer, "\\U%08x", static_cast<unsigned>(cp));
        out += buffer;
    }
    return out;
}

} // namespace triage::testing
