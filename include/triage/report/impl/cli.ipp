// triage/report/impl/cli.ipp — the definitions of
// triage/report/cli.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <atomic>
#include <utility>
#include <vector>

#include <signal.h>

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>
#include <fmt/core.h>

#include "triage/procfs/parse_pid.hpp"
#include "triage/report/cli.hpp"

namespace triage::report {

TRIAGE_DECL command_line::option& command_line::option::required() {
    option_->required();
    return *this;
}

TRIAGE_DECL command_line::option& command_line::option::integer_range(long long low, long long high) {
    option_->check(CLI::Range(low, high));
    return *this;
}

TRIAGE_DECL command_line::option& command_line::option::real_range(double low, double high) {
    option_->check(CLI::Range(low, high));
    return *this;
}

TRIAGE_DECL command_line::option& command_line::option::one_of(std::initializer_list<std::string_view> choices) {
    std::vector<std::string> set;
    for (auto c : choices) set.emplace_back(c);
    option_->check(CLI::IsMember(std::move(set)));
    return *this;
}

TRIAGE_DECL command_line::option& command_line::option::excludes(const option& other) {
    option_->excludes(other.option_);
    return *this;
}

TRIAGE_DECL command_line::option& command_line::option::needs(const option& other) {
    option_->needs(other.option_);
    return *this;
}

TRIAGE_DECL bool command_line::option::given() const { return option_->count() > 0; }

TRIAGE_DECL command_line::command_line(std::string program, std::string description)
    : program_{std::move(program)}, app_{std::make_unique<CLI::App>(std::move(description), program_)} {}

TRIAGE_DECL command_line::~command_line() = default;

TRIAGE_DECL command_line::option command_line::pid(const std::string& name, pid_t& into, const std::string& description) {
    return option{app_->add_option_function<std::string>(
        name,
        [&into, name](const std::string& text) {
            auto parsed = procfs::parse_pid(text);
            if (!parsed) throw CLI::ValidationError(name, parsed.error().hint);
            into = *parsed;
        },
        description)};
}

TRIAGE_DECL command_line::option command_line::add(const std::string& name, int& into, const std::string& description) {
    return option{app_->add_option(name, into, description)};
}

TRIAGE_DECL command_line::option command_line::add(const std::string& name, unsigned& into, const std::string& description) {
    return option{app_->add_option(name, into, description)};
}

TRIAGE_DECL command_line::option command_line::add(const std::string& name, std::size_t& into, const std::string& description) {
    return option{app_->add_option(name, into, description)};
}

TRIAGE_DECL command_line::option command_line::add(const std::string& name, double& into, const std::string& description) {
    return option{app_->add_option(name, into, description)};
}

TRIAGE_DECL command_line::option command_line::add(const std::string& name, std::string& into, const std::string& description) {
    return option{app_->add_option(name, into, description)};
}

TRIAGE_DECL command_line::option command_line::add(const std::string& name, std::optional<std::string>& into,
                                                   const std::string& description) {
    return option{app_->add_option(name, into, description)};
}

TRIAGE_DECL command_line::option command_line::add(const std::string& name, std::vector<std::string>& into,
                                                   const std::string& description) {
    return option{app_->add_option(name, into, description)->allow_extra_args(false)};
}

TRIAGE_DECL command_line::option command_line::flag(const std::string& name, bool& into, const std::string& description) {
    return option{app_->add_flag(name, into, description)};
}

TRIAGE_DECL void command_line::require_one_of(const option& a, const option& b, std::string what) {
    app_->callback([a = a.option_, b = b.option_, what = std::move(what)] {
        if (a->count() == 0 && b->count() == 0) throw CLI::RequiredError(what);
    });
}

TRIAGE_DECL std::optional<int> command_line::parse(int argc, char** argv) {
    try {
        app_->parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app_->exit(e);  // --help
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        while (!what.empty() && what.back() == '\n') what.pop_back();
        fmt::print(stderr, "{}: {} (see --help)\n", program_, escape_controls(what));
        return 2;
    }
    return std::nullopt;
}

TRIAGE_DECL int print_failure(std::string_view program, const error& e) {
    fmt::print(stderr, "{}: {}\n", program, escape_controls(e.message()));
    return 1;
}

namespace detail::cli {
// The request, for any thread (stop_requested) and as the flag a loop polls
// (stop_request_flag); a handler sets both.
[[nodiscard]] TRIAGE_DECL std::atomic<bool>& stop_request() noexcept {
    static std::atomic<bool> requested{false};
    return requested;
}
[[nodiscard]] TRIAGE_DECL volatile std::sig_atomic_t& stop_flag() noexcept {
    static volatile std::sig_atomic_t requested = 0;
    return requested;
}
} // namespace detail::cli

TRIAGE_DECL void end_on_signals(signal_repeats repeats) noexcept {
    (void)detail::cli::stop_request();  // made before a handler can touch them
    (void)&detail::cli::stop_flag();
    struct sigaction action {};
    action.sa_handler = [](int) {
        detail::cli::stop_request().store(true);
        detail::cli::stop_flag() = 1;
    };
    action.sa_flags = SA_RESTART | (repeats == signal_repeats::act ? SA_RESETHAND : 0);
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

[[nodiscard]] TRIAGE_DECL bool stop_requested() noexcept { return detail::cli::stop_request().load(); }

[[nodiscard]] TRIAGE_DECL const volatile std::sig_atomic_t* stop_request_flag() noexcept { return &detail::cli::stop_flag(); }

} // namespace triage::report
