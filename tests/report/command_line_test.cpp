// report/cli.hpp: the command-line conventions of our programs — values
// stored, usage errors one line on stderr with exit code 2, --help 0.
#include <doctest/doctest.h>

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "triage/report/cli.hpp"

namespace {

using triage::report::command_line;

// What `body` writes to `fd` (STDOUT_FILENO or STDERR_FILENO).
template <class Body>
std::string captured(int fd, Body&& body) {
    std::fflush(nullptr);
    std::FILE* capture = std::tmpfile();
    REQUIRE(capture != nullptr);
    const int saved = ::dup(fd);
    ::dup2(::fileno(capture), fd);
    body();
    std::fflush(nullptr);
    ::dup2(saved, fd);
    ::close(saved);
    std::rewind(capture);
    std::string text;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, capture)) > 0) text.append(buffer, n);
    std::fclose(capture);
    return text;
}

// Runs parse() on `args`; returns the exit code (or nullopt) and what was
// printed on stderr.
struct parsed {
    std::optional<int> code;
    std::string stderr_text;
};

parsed parse(command_line& cli, std::initializer_list<const char*> args) {
    std::vector<std::string> storage{cli.program()};
    for (const char* a : args) storage.emplace_back(a);
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    parsed out;
    out.stderr_text = captured(STDERR_FILENO, [&] { out.code = cli.parse(static_cast<int>(argv.size()), argv.data()); });
    return out;
}

} // namespace

TEST_CASE("command_line: values of every kind are stored; given() says what was on the command line") {
    command_line cli{"prog", "a test program"};
    pid_t pid = 0;
    int ms = 10;
    unsigned samples = 3;
    std::size_t limit = 40;
    double hot = 50;
    std::string core;
    std::optional<std::string> exe;
    bool json = false;
    cli.pid("pid", pid, "process id").required();
    auto interval = cli.add("--interval", ms, "ms").range(0, 1000);
    cli.add("--samples", samples, "n");
    cli.add("--limit", limit, "n");
    cli.add("--hot", hot, "%").range(0.0, 100.0);
    auto core_option = cli.add("--core", core, "file");
    cli.add("--exe", exe, "file");
    cli.flag("--json", json, "json");
    auto r = parse(cli, {"1234", "--interval", "250", "--samples", "7", "--limit", "0", "--hot", "12.5", "--exe", "/x",
                         "--json"});
    CHECK(!r.code);
    CHECK(r.stderr_text.empty());
    CHECK(pid == 1234);
    CHECK(ms == 250);
    CHECK(samples == 7);
    CHECK(limit == 0);
    CHECK(hot == 12.5);
    CHECK(exe == "/x");
    CHECK(json);
    CHECK(interval.given());
    CHECK(!core_option.given());
}

TEST_CASE("command_line: usage errors are one line naming the program, exit code 2") {
    auto expect_usage_error = [](std::initializer_list<const char*> args, const std::string& mentions) {
        command_line cli{"prog", "a test program"};
        pid_t pid = 0;
        int ms = 10;
        double hot = 50;
        std::string core, copy = "auto";
        std::optional<std::string> exe;
        bool json = false, markdown = false;
        auto pid_option = cli.pid("pid", pid, "process id");
        cli.add("--interval", ms, "ms").range(0, 1000);
        cli.add("--hot", hot, "%").range(0.0, 100.0);
        auto core_option = cli.add("--core", core, "file").excludes(pid_option);
        cli.add("--exe", exe, "file").needs(core_option);
        cli.add("--copy", copy, "where").one_of({"auto", "memory", "file"});
        auto json_option = cli.flag("--json", json, "json");
        cli.flag("--markdown", markdown, "markdown").excludes(json_option);
        cli.require_one_of(pid_option, core_option, "a pid or --core");
        auto r = parse(cli, args);
        INFO("stderr: " << r.stderr_text);
        CHECK(r.code == 2);
        CHECK(r.stderr_text.starts_with("prog: "));
        CHECK(r.stderr_text.ends_with(" (see --help)\n"));
        CHECK(r.stderr_text.find('\n') == r.stderr_text.size() - 1);
        CHECK(r.stderr_text.find(mentions) != std::string::npos);
    };
    expect_usage_error({"0x10"}, "pid");                      // not a decimal pid
    expect_usage_error({"-5"}, "");                           // negative
    expect_usage_error({" 5"}, "pid");                        // blanks
    expect_usage_error({"5", "--interval", "1001"}, "1001");  // above the range
    expect_usage_error({"5", "--interval", "x"}, "x");        // not a number
    expect_usage_error({"5", "--hot", "100.5"}, "100.5");
    expect_usage_error({"5", "--copy", "disk"}, "disk");      // not one of the choices
    expect_usage_error({"5", "--core", "c"}, "--core");       // excluded by the pid
    expect_usage_error({"5", "--exe", "/x"}, "--core");       // needs --core
    expect_usage_error({"5", "--json", "--markdown"}, "--");  // excluded by --json
    expect_usage_error({}, "a pid or --core");                // neither
    expect_usage_error({"5", "--nonsense"}, "--nonsense");
}

TEST_CASE("command_line: --help prints the options and asks to exit with 0") {
    command_line cli{"prog", "a test program"};
    pid_t pid = 0;
    cli.pid("pid", pid, "process id").required();
    parsed r;
    const std::string help = captured(STDOUT_FILENO, [&] { r = parse(cli, {"--help"}); });
    CHECK(r.code == 0);
    CHECK(help.find("a test program") != std::string::npos);
    CHECK(help.find("process id") != std::string::npos);
}
