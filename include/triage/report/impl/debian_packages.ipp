// triage/report/impl/debian_packages.ipp — the definitions of
// triage/report/debian_packages.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include "triage/base/path.hpp"
#include "triage/base/read_file.hpp"
#include "triage/base/text.hpp"
#include "triage/elf/debug_file_locator.hpp"
#include "triage/report/debian_packages.hpp"

namespace triage::report {

namespace detail {
// The other name of `path` under Debian's merged /usr (/lib/x ↔ /usr/lib/x).
[[nodiscard]] inline std::string merged_usr_alias(std::string_view path) {
    for (std::string_view top : {"/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/libx32/"}) {
        if (path.starts_with(top)) return "/usr" + std::string{path};
        if (path.starts_with("/usr") && path.substr(4).starts_with(top)) return std::string{path.substr(4)};
    }
    return {};
}

template <class Visit>
void for_each_line(std::string_view text, Visit visit) {
    while (!text.empty()) {
        auto end = text.find('\n');
        visit(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
}

// Installed packages from dpkg's status file, by "name" and "name:arch".
[[nodiscard]] inline result<std::map<std::string, debian_package>> installed_packages(const std::string& root) {
    std::map<std::string, debian_package> out;
    auto status = read_file(under_root(root, "/var/lib/dpkg/status"));
    if (!status) {
        if (status.error().code == errc::not_found) return out;
        return fail(std::move(status.error()));
    }
    debian_package current;
    bool installed = false;
    auto finish = [&] {
        if (!current.name.empty() && installed) {
            if (current.source.empty()) current.source = current.name;
            out[current.name + ":" + current.architecture] = current;
            out.try_emplace(current.name, current);
        }
        current = {};
        installed = false;
    };
    for_each_line(*status, [&](std::string_view line) {
        auto field = [&](std::string_view name) -> std::optional<std::string_view> {
            if (!line.starts_with(name) || line.size() <= name.size() || line[name.size()] != ':') return std::nullopt;
            return trim(line.substr(name.size() + 1));
        };
        if (trim(line).empty()) return finish();
        if (auto v = field("Package")) current.name = *v;
        else if (auto v = field("Architecture")) current.architecture = *v;
        else if (auto v = field("Version")) current.version = *v;
        else if (auto v = field("Source")) current.source = v->substr(0, v->find(' '));  // "glibc (2.36-9)"
        else if (auto v = field("Status")) installed = v->ends_with(" installed");
    });
    finish();
    return out;
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<std::map<std::string, debian_package>> owning_packages(
    const std::string& root, std::span<const std::string> paths) {
    std::map<std::string, std::string, std::less<>> wanted;  // as dpkg may list it → as asked
    for (const auto& p : paths) {
        wanted.emplace(p, p);
        if (auto alias = detail::merged_usr_alias(p); !alias.empty()) wanted.emplace(alias, p);
    }
    std::map<std::string, debian_package> out;
    const std::string info = under_root(root, "/var/lib/dpkg/info");
    std::unique_ptr<DIR, int (*)(DIR*)> dir{::opendir(info.c_str()), ::closedir};
    if (!dir) return out;
    std::map<std::string, std::string> owner_of;  // path asked → "name[:arch]" of the .list
    while (dirent* entry = ::readdir(dir.get())) {
        std::string_view name = entry->d_name;
        if (!name.ends_with(".list")) continue;
        auto text = read_file(info + "/" + std::string{name});
        if (!text) continue;  // removed while we read: not an owner
        detail::for_each_line(*text, [&](std::string_view line) {
            if (auto it = wanted.find(line); it != wanted.end())
                owner_of.try_emplace(it->second, std::string{name.substr(0, name.size() - 5)});
        });
        if (owner_of.size() == paths.size()) break;
    }
    if (owner_of.empty()) return out;
    auto installed = TRIAGE_TRY(detail::installed_packages(root));
    for (const auto& [path, package] : owner_of) {
        auto it = installed.find(package);
        if (it != installed.end()) out[path] = it->second;
        else out[path] = {package.substr(0, package.find(':')), "", "", package.substr(0, package.find(':'))};
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL std::vector<std::string> debug_package_candidates(const debian_package& package) {
    std::vector<std::string> out;
    auto add = [&](std::string name) {
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    };
    add(package.name + "-dbg");
    if (!package.source.empty()) add(package.source + "-dbg");
    if (package.name.ends_with("-minimal")) add(package.name.substr(0, package.name.size() - 8) + "-dbg");
    add(package.name + "-dbgsym");
    return out;
}

[[nodiscard]] TRIAGE_DECL std::set<std::string> known_to_apt(std::span<const std::string> names) {
    std::set<std::string> known;
    if (names.empty()) return known;
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return known;
    std::vector<std::string> args{"apt-cache", "policy"};
    args.insert(args.end(), names.begin(), names.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t child = ::fork();
    if (child == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) ::dup2(null, STDERR_FILENO);
        ::execvp("apt-cache", argv.data());
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    std::string output;
    if (child > 0) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        char buffer[4096];
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{pipe_fds[0], POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
                ::kill(child, SIGKILL);
                output.clear();
                break;
            }
            ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            output.append(buffer, static_cast<std::size_t>(n));
        }
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    }
    ::close(pipe_fds[0]);
    std::string current;
    detail::for_each_line(output, [&](std::string_view line) {
        if (!line.empty() && line[0] != ' ' && line.ends_with(':')) current = line.substr(0, line.size() - 1);
        else if (auto at = line.find("Candidate: "); at != std::string_view::npos && !current.empty())
            if (trim(line.substr(at + 11)) != "(none)") known.insert(current);
    });
    return known;
}

} // namespace triage::report
