// triage/base/path.hpp — the two path operations every module needs: a
// path's last component, and a path of the target's filesystem as seen from
// here (its /proc/PID/root, a sysroot holding a copy of another machine's
// files).
//
// Offers: `file_name(path)` ("/usr/lib/libc.so.6" → "libc.so.6"; a path
// without '/' is its own name), `under_root(root, path)` (root "" or "/":
// the path itself; a path already under root is left as it is, so applying
// it twice is harmless; a trailing '/' of root is not doubled) and
// `without_deleted(path)` (drops the " (deleted)" that /proc/PID/maps and
// NT_FILE append to a removed file's path) and `split_path_list(list)`
// ("a:b::c" → {"a", "b", "c"}: a PATH-style list, empty entries dropped).
// Thread-safe: yes. Signal-safe: no (allocates). Target process: none.
//
//   triage::under_root("/proc/42/root", "/usr/lib/libc.so.6");  // "/proc/42/root/usr/lib/libc.so.6"
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace triage {

[[nodiscard]] constexpr std::string_view file_name(std::string_view path) noexcept {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

[[nodiscard]] inline std::string under_root(std::string_view root, std::string_view path) {
    if (root.empty() || root == "/") return std::string{path};
    std::string out{root};
    if (out.back() == '/') out.pop_back();
    if (path.starts_with(out + "/")) return std::string{path};  // named from outside the root already
    if (!path.starts_with('/')) out += '/';
    out += path;
    return out;
}

[[nodiscard]] inline std::string without_deleted(std::string path) {
    constexpr std::string_view suffix = " (deleted)";
    if (path.ends_with(suffix)) path.resize(path.size() - suffix.size());
    return path;
}

[[nodiscard]] inline std::vector<std::string> split_path_list(std::string_view list) {
    std::vector<std::string> out;
    for (std::size_t at = 0; at <= list.size();) {
        const std::size_t end = std::min(list.find(':', at), list.size());
        if (end > at) out.emplace_back(list.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

} // namespace triage
