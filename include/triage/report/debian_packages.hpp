// triage/report/debian_packages.hpp — which Debian package installed a file,
// and which package holds its debug information: the "what to install" of
// triage-debuginfo.
//
// Offers:
//  - `owning_packages(root, paths)` → {path → debian_package{name,
//    architecture, version, source}} for the paths some installed package
//    lists, read from ROOT/var/lib/dpkg (info/*.list and status), so a
//    process in a container is answered from its own package database.
//    Debian 12 merged /usr: dpkg may list /lib/x86_64-linux-gnu/libc.so.6
//    for what the process maps as /usr/lib/x86_64-linux-gnu/libc.so.6, so
//    each path is also looked up without (or with) its /usr prefix.
//  - `debug_package_candidates(package)`: the names Debian gives debug
//    packages, most specific first: NAME-dbg, SOURCE-dbg, and for a
//    "-minimal" package the same without it, then NAME-dbgsym (built
//    automatically, in the debian-debug archive).
//  - `known_to_apt(names)`: which of `names` apt can install (one
//    `apt-cache policy` run, bounded to 10 s; empty when apt is absent).
// Errors: none for missing databases (a non-Debian root gives no owners);
// reading a present file fails with its path.
// Thread-safe: yes. Signal-safe: no. Target process: none touched (reads its
// root's files; known_to_apt runs apt-cache on our side).
//
//   auto owners = TRIAGE_TRY(triage::report::owning_packages("/", {"/usr/bin/python3.11"}));
//   // {"/usr/bin/python3.11": {"python3.11-minimal", "amd64", "3.11.2-6+deb12u9", "python3.11"}}
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::report {

struct debian_package {
    std::string name;
    std::string architecture;
    std::string version;
    std::string source;  // the source package (the name itself when the status has no Source)

    friend bool operator==(const debian_package&, const debian_package&) = default;
};

[[nodiscard]] TRIAGE_DECL result<std::map<std::string, debian_package>> owning_packages(
    const std::string& root, std::span<const std::string> paths);

[[nodiscard]] TRIAGE_DECL std::vector<std::string> debug_package_candidates(const debian_package& package);

[[nodiscard]] TRIAGE_DECL std::set<std::string> known_to_apt(std::span<const std::string> names);

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/debian_packages.ipp"
#endif
