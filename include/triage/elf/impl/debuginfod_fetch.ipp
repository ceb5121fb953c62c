// triage/elf/impl/debuginfod_fetch.ipp — the definitions of
// triage/elf/debuginfod_fetch.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <elfutils/debuginfod.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "triage/elf/build_id.hpp"
#include "triage/elf/debuginfod_fetch.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL bool debuginfod_configured() {
    const char* urls = std::getenv(DEBUGINFOD_URLS_ENV_VAR);
    return urls != nullptr && *urls != '\0';
}

namespace detail {
struct debuginfod_watch {
    const debuginfod_options* options;
    std::chrono::steady_clock::time_point deadline;
    bool out_of_time = false;
};

inline int debuginfod_progress(debuginfod_client* client, long done, long total) {
    auto* watch = static_cast<debuginfod_watch*>(::debuginfod_get_user_data(client));
    if (watch->options->progress) watch->options->progress(done, total);
    if (std::chrono::steady_clock::now() < watch->deadline) return 0;
    watch->out_of_time = true;
    return 1;  // non-zero: libdebuginfod abandons the query
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL result<fetched_debuginfo> fetch_debuginfo(std::span<const std::byte> build_id,
                                                                    const debuginfod_options& options) {
    const std::string what = "debug file of build-id " + build_id_hex(build_id) + " from debuginfod";
    if (!debuginfod_configured()) return fail(errc::not_found, what, "set DEBUGINFOD_URLS to the servers to ask");
    if (build_id.empty()) return fail(errc::invalid_argument, what + " (no build-id)");
    const std::string servers = std::getenv(DEBUGINFOD_URLS_ENV_VAR);

    struct ender {
        void operator()(debuginfod_client* c) const noexcept { ::debuginfod_end(c); }
    };
    std::unique_ptr<debuginfod_client, ender> client{::debuginfod_begin()};
    if (!client) return fail(errc::system, what + " (libdebuginfod could not start a client)");
    detail::debuginfod_watch watch{&options, std::chrono::steady_clock::now() + options.budget};
    ::debuginfod_set_user_data(client.get(), &watch);
    ::debuginfod_set_progressfn(client.get(), detail::debuginfod_progress);

    char* path = nullptr;
    int fd = ::debuginfod_find_debuginfo(client.get(), reinterpret_cast<const unsigned char*>(build_id.data()),
                                         static_cast<int>(build_id.size()), &path);
    if (fd < 0) {
        if (watch.out_of_time) {
            return fail(errc::interrupted,
                        what + " (" + servers + "): no answer within " +
                            std::to_string(options.budget.count()) + " ms",
                        "the server may be down or slow; raise the budget or unset DEBUGINFOD_URLS");
        }
        if (fd == -ENOENT) return fail(errc::not_found, what + " (" + servers + ": no server has it)");
        return fail_errno(-fd, what + " (" + servers + ")");
    }
    ::close(fd);
    fetched_debuginfo got;
    if (path != nullptr) {
        got.path = path;
        std::free(path);
    }
    if (const char* url = ::debuginfod_get_url(client.get())) got.url = url;
    return got;
}

} // namespace triage::elf
