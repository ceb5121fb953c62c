// The Python interpreters on this machine, found in one place: every pyenv
// build ($PYENV_ROOT, else ~/.pyenv: versions/X.Y.Z/bin/pythonX.Y, with its
// shared libpython when it has one), Debian's /usr/bin/pythonX.Y (not
// symlinks, not the -dbg builds), and those of the interpreter lab
// (tests/lab/build-root: a Debian unstable root in $TRIAGE_LAB_DIR/root,
// default /var/cache/triage-lab/root, with python3.14 and python3.15),
// which run inside the root through tests/lab/run-in-root with the temporary
// directory and the source tree shared at the same paths. Tests run their
// law over all of them, print the list they covered, and fail when they
// covered fewer than found; `lab_note()` says loudly when the lab is missing.
//
// Errors: none (a missing directory is no interpreters); run_python throws
// what run_command throws. Thread safety: reads the file system only.
//
//   for (const auto& python : triage::test_support::machine_interpreters()) {
//       auto run = triage::test_support::run_python(python, {script});
//       REQUIRE_MESSAGE(run.exit_code == 0, python.label << ": " << run.err);
//   }
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

#include "support/child_process.hpp"
#include "support/run_command.hpp"
#include "triage/base/text.hpp"

namespace triage::test_support {

struct python_interpreter {
    std::string label;        // "pyenv 3.11.7", "debian python3.11", "lab python3.14"
    std::string path;         // the python executable (a lab's: its path inside the root)
    int major = 0;
    int minor = 0;
    std::optional<int> micro;  // from the pyenv directory name; unknown for Debian's
    std::string libpython;    // the shared libpython of a pyenv build; empty when static
    std::string root;         // the lab root it runs in; empty for this machine's own

    // The executable as this process opens it.
    [[nodiscard]] std::string host_path() const { return root + path; }
    // What runs it: `path` itself, or run-in-root's words and then `path`.
    [[nodiscard]] std::vector<std::string> command() const;
};

inline std::filesystem::path pyenv_root() {
    if (const char* root = std::getenv("PYENV_ROOT")) return root;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home != nullptr ? home : "/root") / ".pyenv";
}

namespace detail {
inline bool by_version(const python_interpreter& a, const python_interpreter& b) {
    return std::tuple(a.major, a.minor, a.micro.value_or(-1), a.label) <
           std::tuple(b.major, b.minor, b.micro.value_or(-1), b.label);
}
} // namespace detail

// pyenv builds named X.Y.Z (others, e.g. "system" or "pypy3.10", are not
// CPython builds of a known version), oldest first.
inline std::vector<python_interpreter> pyenv_interpreters() {
    namespace fs = std::filesystem;
    std::vector<python_interpreter> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(pyenv_root() / "versions", ec)) {
        const std::string name = entry.path().filename().string();
        std::string_view rest = name;
        auto major = parse_unsigned<unsigned>(next_token(rest, '.'));
        auto minor = parse_unsigned<unsigned>(next_token(rest, '.'));
        auto micro = parse_unsigned<unsigned>(rest);
        if (!major || !minor || !micro) continue;
        const std::string mm = std::to_string(*major) + "." + std::to_string(*minor);
        const fs::path program = entry.path() / "bin" / ("python" + mm);
        if (!fs::exists(program, ec)) continue;
        python_interpreter python{"pyenv " + name, program.string(), int(*major), int(*minor), int(*micro), {}, {}};
        for (const char* abi : {"", "m"}) {
            const fs::path lib = entry.path() / "lib" / ("libpython" + mm + abi + ".so.1.0");
            if (fs::exists(lib, ec)) python.libpython = lib.string();
        }
        found.push_back(std::move(python));
    }
    std::sort(found.begin(), found.end(), detail::by_version);
    return found;
}

namespace detail {
// The pythonX.Y programs (not symlinks) in `bin`, labelled "debian pythonX.Y".
inline std::vector<python_interpreter> pythons_in(const std::filesystem::path& bin) {
    namespace fs = std::filesystem;
    std::vector<python_interpreter> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(bin, ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with("python") || fs::is_symlink(entry.path(), ec)) continue;
        std::string_view rest = std::string_view{name}.substr(6);
        auto major = parse_unsigned<unsigned>(next_token(rest, '.'));
        auto minor = parse_unsigned<unsigned>(rest);
        if (!major || !minor) continue;
        found.push_back({"debian " + name, entry.path().string(), int(*major), int(*minor), std::nullopt, {}, {}});
    }
    std::sort(found.begin(), found.end(), by_version);
    return found;
}
} // namespace detail

// Debian's /usr/bin/pythonX.Y programs.
inline std::vector<python_interpreter> system_interpreters() { return detail::pythons_in("/usr/bin"); }

inline std::filesystem::path lab_root() {
    const char* dir = std::getenv("TRIAGE_LAB_DIR");
    return std::filesystem::path(dir != nullptr ? dir : "/var/cache/triage-lab") / "root";
}

// The lab's free-threaded build (tests/lab/build-freethreaded, built when
// TRIAGE_LAB_FREETHREADED=1): python3.13t, run from its build tree on this
// machine (no root), its DWARF in the program itself.
inline std::optional<python_interpreter> freethreaded_interpreter() {
    const char* dir = std::getenv("TRIAGE_LAB_DIR");
    const std::filesystem::path program =
        std::filesystem::path(dir != nullptr ? dir : "/var/cache/triage-lab") / "freethreaded" / "python3.13t";
    std::error_code ec;
    if (!std::filesystem::exists(program, ec)) return std::nullopt;
    return python_interpreter{"lab python3.13t", std::filesystem::canonical(program, ec).string(), 3, 13,
                              std::nullopt, {}, {}};
}

// The lab's /usr/bin/pythonX.Y programs (none when the lab is not built).
// (Its free-threaded build, when built, is freethreaded_interpreter().)
inline std::vector<python_interpreter> lab_interpreters() {
    std::vector<python_interpreter> found;
    const std::string root = lab_root().string();
    for (auto python : detail::pythons_in(lab_root() / "usr/bin")) {
        python.label = "lab " + python.label.substr(python.label.find(' ') + 1);
        python.path = python.path.substr(root.size());
        python.root = root;
        found.push_back(std::move(python));
    }
    return found;
}

// Empty when the lab holds interpreters; else a loud line for summaries.
inline std::string lab_note() {
    if (!lab_interpreters().empty()) return {};
    return "!!! the interpreter lab (" + lab_root().string() +
           ") is not built: Python 3.14 and 3.15 are NOT covered; run tests/lab/build-root !!!";
}

// Whether this run covers Python MAJOR.MINOR: all unless TRIAGE_TEST_PYTHONS
// lists versions ("2.7 3.6 3.10"): CI's sanitizer pass covers each family of
// layouts once, not every minor version twice.
inline bool covered_this_run(int major, int minor) {
    const char* list = std::getenv("TRIAGE_TEST_PYTHONS");
    if (list == nullptr || *list == '\0') return true;
    std::istringstream words{list};
    const std::string wanted = std::to_string(major) + "." + std::to_string(minor);
    for (std::string word; words >> word;) {
        if (word == wanted) return true;
    }
    return false;
}

// Every interpreter on the machine that this run covers: the pyenv builds,
// then Debian's, then the lab's.
inline std::vector<python_interpreter> machine_interpreters() {
    auto all = pyenv_interpreters();
    for (auto& python : system_interpreters()) all.push_back(std::move(python));
    for (auto& python : lab_interpreters()) all.push_back(std::move(python));
    std::erase_if(all, [](const python_interpreter& p) { return !covered_this_run(p.major, p.minor); });
    return all;
}

inline std::vector<std::string> python_interpreter::command() const {
    if (root.empty()) return {path};
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path tmp = fs::canonical(fs::temp_directory_path(), ec);
    return {source_path("tests/lab/run-in-root"), root, "--share", tmp.string(), "--share",
            fs::canonical(source_path(""), ec).string(), "--", path};
}

// Runs `python args...` to completion (see run_command).
inline command_result run_python(const python_interpreter& python, std::vector<std::string> args,
                                 command_options options = {}) {
    auto argv = python.command();
    argv.insert(argv.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    return run_command(std::move(argv), options);
}

} // namespace triage::test_support
