// Debug files from a real debuginfod server (Debian's package, started here
// on a loopback port over a directory of debug files), from its cache the
// second time, and from a server that accepts connections and never
// answers: the locator comes back within its budget with a line saying so.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "elf/debug_program.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/scratch_dir.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/elf/debug_file_locator.hpp"
#include "triage/elf/debuginfod_fetch.hpp"
#include "triage/elf/file.hpp"

namespace elf = triage::elf;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace triage::elf_testing;
using namespace triage::test_support;

namespace {

// A listening TCP socket on 127.0.0.1 that nobody accepts from: connections
// complete in the kernel's backlog and are never answered.
struct silent_server {
    triage::unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    int port = 0;
    silent_server() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd.get(), 16) == 0);
        socklen_t size = sizeof address;
        REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size) == 0);
        port = ntohs(address.sin_port);
    }
};

int free_port() {
    silent_server probe;
    return probe.port;  // closed on return: free again for debuginfod (a race we accept in a test)
}

// Sets an environment variable for one scope.
struct scoped_env {
    std::string name;
    std::optional<std::string> old;
    scoped_env(std::string n, const std::string& value) : name(std::move(n)) {
        if (const char* v = std::getenv(name.c_str())) old = v;
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    ~scoped_env() {
        if (old) ::setenv(name.c_str(), old->c_str(), 1);
        else ::unsetenv(name.c_str());
    }
};

elf::locator_options only_debuginfod(std::chrono::milliseconds budget) {
    elf::locator_options options;
    options.debug_directories = {};
    options.host_debug_directories = false;
    options.debuginfod_budget = budget;
    return options;
}

} // namespace

TEST_CASE("a debug file comes from a real debuginfod server, then from its cache") {
    scratch_dir dir{"debuginfod"};
    fs::create_directories(dir / "served");
    std::string program = build_debug_program(dir, dir / "program", 1);
    split_debug_info(program, dir / "served/program.debug", false);
    const auto id = *elf::file::open(program)->build_id();

    const int port = free_port();
    child_process server{{"sh", "-c",
                          "exec debuginfod -F -d " + (dir / "db.sqlite") + " -p " + std::to_string(port) + " " +
                              (dir / "served") + " 2>" + (dir / "server.log")}};
    scoped_env urls{"DEBUGINFOD_URLS", "http://127.0.0.1:" + std::to_string(port)};

    // Wait until the server has scanned the directory. Each try uses a fresh
    // cache: libdebuginfod remembers a "not found" for 10 minutes.
    bool ready = false;
    for (int attempt = 0; attempt < 100 && !ready; ++attempt) {
        scoped_env cache{"DEBUGINFOD_CACHE_PATH", dir / ("probe-cache-" + std::to_string(attempt))};
        ready = elf::fetch_debuginfo(id, {.budget = 2s}).has_value();
        if (!ready) std::this_thread::sleep_for(200ms);
    }
    REQUIRE_MESSAGE(ready, "debuginfod did not serve the file in 20 s");

    scoped_env cache{"DEBUGINFOD_CACHE_PATH", dir / "cache"};
    auto first = elf::locate_debug_info({.path = program}, only_debuginfod(10s));
    REQUIRE_MESSAGE(first.has_value(), failure_text(first));
    CHECK(first->dwarf_from == elf::debug_way::debuginfod);
    CHECK(first->dwarf.starts_with(dir / "cache"));
    CHECK(first->symbols == first->dwarf);
    REQUIRE_FALSE(first->attempts.empty());
    CHECK(first->attempts.back().outcome.find("downloaded from http://127.0.0.1:" + std::to_string(port)) != std::string::npos);

    server.stop();  // the cache answers now
    auto second = elf::locate_debug_info({.path = program}, only_debuginfod(10s));
    REQUIRE_MESSAGE(second.has_value(), failure_text(second));
    CHECK(second->dwarf == first->dwarf);
    CHECK(second->attempts.back().outcome.find("in debuginfod's cache") != std::string::npos);
}

TEST_CASE("a debuginfod server that never answers costs the budget, and the report says so") {
    scratch_dir dir{"debuginfod"};
    std::string program = build_debug_program(dir, dir / "program", 1);
    split_debug_info(program, dir / "program.debug", false);
    silent_server silent;
    scoped_env urls{"DEBUGINFOD_URLS", "http://127.0.0.1:" + std::to_string(silent.port)};
    scoped_env cache{"DEBUGINFOD_CACHE_PATH", dir / "cache"};

    const auto start = std::chrono::steady_clock::now();
    auto where = elf::locate_debug_info({.path = program}, only_debuginfod(1500ms));
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_MESSAGE(where.has_value(), failure_text(where));
    CHECK(where->dwarf.empty());
    REQUIRE_FALSE(where->attempts.empty());
    const auto& last = where->attempts.back();
    CHECK(last.way == elf::debug_way::debuginfod);
    CHECK(last.outcome.find("no answer within 1500 ms") != std::string::npos);
    // Bounded: the budget plus libdebuginfod's one-second progress period,
    // with room for a loaded machine (this is a bound, not a timing goal).
    CHECK(took < 15s);
}

TEST_CASE("without DEBUGINFOD_URLS nothing is asked") {
    scratch_dir dir{"debuginfod"};
    std::string program = build_debug_program(dir, dir / "program", 1);
    split_debug_info(program, dir / "program.debug", false);
    std::optional<scoped_env> none;
    if (std::getenv("DEBUGINFOD_URLS")) none.emplace("DEBUGINFOD_URLS", "");
    CHECK_FALSE(elf::debuginfod_configured());
    auto where = elf::locate_debug_info({.path = program}, only_debuginfod(1s));
    REQUIRE(where.has_value());
    for (const auto& a : where->attempts) CHECK(a.way != elf::debug_way::debuginfod);
}
