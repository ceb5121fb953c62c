// Helpers for the tests that run a dump script under every Python on the
// machine and check our decoders against what the interpreter printed:
// interpreter discovery, running a command for its output, hex decoding.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace triage::test {

struct python_interpreter {
    std::string path;
    std::string label;
};

// Every pyenv build ($PYENV_ROOT or ~/.pyenv) plus Debian's /usr/bin/python3.11.
inline std::vector<python_interpreter> discover_python_interpreters() {
    std::vector<python_interpreter> found;
    const char* root_env = std::getenv("PYENV_ROOT");
    const char* home = std::getenv("HOME");
    const std::filesystem::path root = root_env ? root_env : std::string(home ? home : "/root") + "/.pyenv";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root / "versions", ec)) {
        auto python = entry.path() / "bin" / "python";
        if (std::filesystem::exists(python)) found.push_back({python.string(), "pyenv " + entry.path().filename().string()});
    }
    if (std::filesystem::exists("/usr/bin/python3.11")) found.push_back({"/usr/bin/python3.11", "debian python3.11"});
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.label < b.label; });
    return found;
}

// Runs `python script` and returns its standard output, or nothing when it
// could not run or exited non-zero.
inline std::optional<std::string> run_python_script(const python_interpreter& python, const std::string& script) {
    const std::string command = "'" + python.path + "' '" + script + "'";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return std::nullopt;
    std::string out;
    std::array<char, 65536> chunk{};
    std::size_t n = 0;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0) out.append(chunk.data(), n);
    if (::pclose(pipe) != 0) return std::nullopt;
    return out;
}

// "0aff" → {0x0a, 0xff}; "-" → {}.
inline std::vector<std::byte> bytes_from_hex(std::string_view text) {
    std::vector<std::byte> bytes;
    if (text == "-") return bytes;
    auto nibble = [](char c) -> unsigned {
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
        throw std::invalid_argument(std::string("not a hex digit: ") + c);
    };
    bytes.resize(text.size() / 2);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = std::byte((nibble(text[2 * i]) << 4) | nibble(text[2 * i + 1]));
    return bytes;
}

} // namespace triage::test
