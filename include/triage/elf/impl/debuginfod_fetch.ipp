// triage/elf/impl/debuginfod_fetch.ipp — the definitions of
// triage/elf/debuginfod_fetch.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <dlfcn.h>
#include <elfutils/debuginfod.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>

#include "triage/elf/build_id.hpp"
#include "triage/elf/debuginfod_fetch.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL bool debuginfod_configured() {
    const char* urls = std::getenv(DEBUGINFOD_URLS_ENV_VAR);
    return urls != nullptr && *urls != '\0';
}

namespace detail {
// libdebuginfod, loaded on the first fetch: linking it would load libcurl
// and some thirty libraries behind it into every triage program, ≈30 ms
// at each start, for a feature used only when DEBUGINFOD_URLS is set
// (libdw loads it the same way). The declarations come from its header.
struct debuginfod_library {
    decltype(&::debuginfod_begin) begin = nullptr;
    decltype(&::debuginfod_end) end = nullptr;
    decltype(&::debuginfod_find_debuginfo) find_debuginfo = nullptr;
    decltype(&::debuginfod_set_user_data) set_user_data = nullptr;
    decltype(&::debuginfod_get_user_data) get_user_data = nullptr;
    decltype(&::debuginfod_set_progressfn) set_progressfn = nullptr;
    decltype(&::debuginfod_get_url) get_url = nullptr;
    std::string failure;  // why it could not be loaded; empty: loaded
};

[[nodiscard]] TRIAGE_DECL const debuginfod_library& debuginfod() {
    static const debuginfod_library library = [] {
        debuginfod_library l;
        void* handle = ::dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = ::dlerror();
            l.failure = why != nullptr ? why : "libdebuginfod.so.1 could not be loaded";
            return l;
        }
        auto bind = [&](auto& function, const char* name) {
            function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(::dlsym(handle, name));
            if (function == nullptr && l.failure.empty()) l.failure = std::string("libdebuginfod.so.1 lacks ") + name;
        };
        bind(l.begin, "debuginfod_begin");
        bind(l.end, "debuginfod_end");
        bind(l.find_debuginfo, "debuginfod_find_debuginfo");
        bind(l.set_user_data, "debuginfod_set_user_data");
        bind(l.get_user_data, "debuginfod_get_user_data");
        bind(l.set_progressfn, "debuginfod_set_progressfn");
        bind(l.get_url, "debuginfod_get_url");
        return l;  // the handle stays open for the life of the process
    }();
    return library;
}

struct debuginfod_watch {
    const debuginfod_options* options;
    std::chrono::steady_clock::time_point deadline;
    bool out_of_time = false;
};

inline int debuginfod_progress(debuginfod_client* client, long done, long total) {
    auto* watch = static_cast<debuginfod_watch*>(debuginfod().get_user_data(client));
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
    const detail::debuginfod_library& api = detail::debuginfod();
    if (!api.failure.empty())
        return fail(errc::unsupported, what + " (" + api.failure + ")", "install libdebuginfod1");

    struct ender {
        void operator()(debuginfod_client* c) const noexcept { detail::debuginfod().end(c); }
    };
    std::unique_ptr<debuginfod_client, ender> client{api.begin()};
    if (!client) return fail(errc::system, what + " (libdebuginfod could not start a client)");
    detail::debuginfod_watch watch{&options, std::chrono::steady_clock::now() + options.budget};
    api.set_user_data(client.get(), &watch);
    api.set_progressfn(client.get(), detail::debuginfod_progress);

    char* path = nullptr;
    int fd = api.find_debuginfo(client.get(), reinterpret_cast<const unsigned char*>(build_id.data()),
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
    if (const char* url = api.get_url(client.get())) got.url = url;
    return got;
}

} // namespace triage::elf
