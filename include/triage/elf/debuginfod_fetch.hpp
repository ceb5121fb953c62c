// triage/elf/debuginfod_fetch.hpp — a separate debug file fetched by build-id
// from the debuginfod servers the user configured, in bounded time.
//
// Offers:
//  - `debuginfod_configured()`: DEBUGINFOD_URLS is set and not empty (the
//    only way a fetch is ever tried: nothing goes to the network unasked).
//  - `fetch_debuginfo(build_id, options)` → `fetched_debuginfo{path, url}`:
//    libdebuginfod's debuginfod_find_debuginfo with its own cache
//    (DEBUGINFOD_CACHE_PATH, else $XDG_CACHE_HOME/debuginfod_client or
//    ~/.cache/debuginfod_client) and its own settings (DEBUGINFOD_TIMEOUT,
//    _MAXSIZE, _RETRY_LIMIT...). `path` is the file in the cache; `url` the
//    server it came from, empty when the cache already held it.
//    `options.budget` bounds the whole query: libdebuginfod reports
//    progress about once a second while it waits, and the query is
//    abandoned at the first report past the budget (a server that accepts
//    connections and never answers costs the budget plus about a second).
//    `options.progress(done, total)` sees each report (bytes; total 0 when
//    the server did not say), for a progress line on large downloads.
// Errors: errc::not_found when no server has it (or DEBUGINFOD_URLS is not
// set), errc::interrupted when the budget ran out, errc::system with the
// errno libdebuginfod returned otherwise (a refused connection, a name that
// does not resolve); the context names the build-id and the servers.
// Thread-safe: yes (one client per call). Signal-safe: no.
// Target process: none touched (talks to HTTP servers, writes the cache).
//
//   if (triage::elf::debuginfod_configured())
//       if (auto got = triage::elf::fetch_debuginfo(*build_id, {.budget = 20s}))
//           use(got->path);
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"

namespace triage::elf {

struct debuginfod_options {
    std::chrono::milliseconds budget{30'000};
    std::function<void(long done, long total)> progress{};
};

struct fetched_debuginfo {
    std::string path;  // in libdebuginfod's cache
    std::string url;   // where it was downloaded from; empty: the cache held it
};

[[nodiscard]] TRIAGE_DECL bool debuginfod_configured();

[[nodiscard]] TRIAGE_DECL result<fetched_debuginfo> fetch_debuginfo(std::span<const std::byte> build_id,
                                                                    const debuginfod_options& options = {});

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/debuginfod_fetch.ipp"
#endif
