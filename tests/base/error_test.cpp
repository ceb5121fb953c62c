#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "triage/base/ptrace_permission.hpp"
#include "triage/base/read_file.hpp"
#include "triage/base/result.hpp"
#include "triage/base/scope_exit.hpp"
#include "triage/base/text.hpp"

using namespace triage;

TEST_CASE("an errno becomes an error whose message says what to do") {
    error e = error::from_errno(EACCES, "creating /var/crash/core.12");
    CHECK(e.code == errc::permission_denied);
    CHECK(e.sys_errno == EACCES);
    // A refused file is not a ptrace problem: no advice about capabilities.
    CHECK(e.message() == "permission denied creating /var/crash/core.12");

    error gone = error::from_errno(ESRCH, "attaching to 4242");
    CHECK(gone.code == errc::no_such_process);
    CHECK(gone.message() == "no such process attaching to 4242: check the pid; the process may have exited");

    error other = error::from_errno(EMFILE, "opening /proc/self/maps");
    CHECK(other.code == errc::system);
    CHECK(other.message().find("Too many open files") != std::string::npos);
}

TEST_CASE("the ptrace permission hint says what applies to this machine") {
    std::string hint = ptrace_permission_hint();
    // Root (as the suite runs, with root's capabilities) is not told to become root.
    if (::geteuid() == 0) {
        CHECK(hint.find("run as root") == std::string::npos);
        CHECK(hint.find("we hold CAP_SYS_PTRACE") != std::string::npos);
    } else {
        CHECK(hint.starts_with("run as root or grant CAP_SYS_PTRACE"));
    }
    auto scope = read_file("/proc/sys/kernel/yama/ptrace_scope");
    bool yama_restricts = scope && trim(*scope) != "0";
    CHECK((hint.find("Yama") != std::string::npos) == yama_restricts);
}

TEST_CASE("an unprivileged user is told to run as root or grant CAP_SYS_PTRACE") {
    if (::geteuid() != 0) {
        CHECK(ptrace_permission_hint().starts_with("run as root or grant CAP_SYS_PTRACE"));
        return;
    }
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
        ::_exit(ptrace_permission_hint().starts_with("run as root or grant CAP_SYS_PTRACE") ? 0 : 11);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a specific hint replaces the default, and context nests") {
    error e{errc::already_traced, 0, "attaching to 12", "pid 99 (gdb) is tracing it"};
    CHECK(e.message() == "already traced attaching to 12: pid 99 (gdb) is tracing it");
    error inner{errc::bad_address, 0, "reading 0x10", ""};
    CHECK(std::move(inner).within("walking thread 7").message() == "unreadable address walking thread 7: reading 0x10");
}

namespace {
result<int> parse_number(std::string_view s) {
    if (auto v = parse_signed<int>(s)) return *v;
    return fail(errc::malformed, "parsing '" + std::string{s} + "'");
}
result<int> doubled(std::string_view s) {
    int v = TRIAGE_TRY(parse_number(s));
    return 2 * v;
}
result<void> check_positive(int v) {
    if (v <= 0) return fail(errc::invalid_argument, "checking " + std::to_string(v));
    return {};
}
result<int> positive_doubled(std::string_view s) {
    int v = TRIAGE_TRY(doubled(s));
    TRIAGE_TRY(check_positive(v));
    return v;
}
} // namespace

TEST_CASE("TRIAGE_TRY propagates errors and yields values") {
    CHECK(doubled("21").value() == 42);
    CHECK(doubled("x").error().code == errc::malformed);
    CHECK(positive_doubled("-1").error().context == "checking -2");
    CHECK(positive_doubled("3").value() == 6);
}

TEST_CASE("text helpers parse whole numbers and tokens without allocating") {
    CHECK(parse_unsigned<unsigned>("123") == 123u);
    CHECK_FALSE(parse_unsigned<unsigned>("12x"));
    CHECK_FALSE(parse_unsigned<unsigned>(""));
    CHECK(parse_unsigned<std::uint64_t>("7fff0000", 16) == 0x7fff0000u);
    CHECK(parse_signed<long>("-5") == -5);
    std::string_view line = "a  b c";
    CHECK(next_token(line) == "a");
    CHECK(next_token(line) == "b");
    CHECK(next_token(line) == "c");
    CHECK(line.empty());
    CHECK(trim("  x y \n") == "x y");
    CHECK(hex(0x7f00) == "0x7f00");
    CHECK(hex(0) == "0x0");
}

TEST_CASE("text helpers split /proc's key-value lines, blank lines counted") {
    std::string_view text = "Name:\tsh (x)\n\nVmRSS:\t  1234 kB\nno colon";
    CHECK(next_line(text) == "Name:\tsh (x)");
    CHECK(next_line(text).empty());
    auto rss = split_key_value(next_line(text));
    REQUIRE(rss);
    CHECK(rss->key == "VmRSS");
    CHECK(rss->value == "\t  1234 kB");
    CHECK(parse_kb(rss->value) == 1234u);
    CHECK(parse_kb("77") == 77u);
    CHECK_FALSE(parse_kb("x kB"));
    CHECK_FALSE(split_key_value(next_line(text)));
    CHECK(text.empty());
}

TEST_CASE("read_file reads /proc files, which report size 0, whole") {
    auto maps = read_file("/proc/self/smaps");
    REQUIRE(maps);
    CHECK(maps->size() > 8192);  // several initial buffers: growth works
    CHECK(maps->find("[stack]") != std::string::npos);
    auto missing = read_file("/proc/self/no-such-file");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == errc::not_found);
    CHECK(missing.error().message() == "not found opening /proc/self/no-such-file");
}

TEST_CASE("scope_exit runs unless released") {
    int runs = 0;
    {
        scope_exit guard{[&] { ++runs; }};
    }
    {
        scope_exit guard{[&] { ++runs; }};
        guard.release();
    }
    CHECK(runs == 1);
}
