// examples/triage-top --python on real interpreters, with
// tests/victims/py_split_time.py (heavy() 6 ms, light() 2 ms, in turn):
// without a terminal it prints one table in which heavy's own share is
// about 75% and light's about 25%; in a terminal (a tmux pane) the view
// appears on the alternate screen with the cursor hidden, refreshes (its
// sample count grows), lists heavy above light, and 'q', Ctrl+C, SIGTERM
// and the target's exit each end it with the terminal as it was (main
// screen, cursor shown, the same stty settings) and a last line saying why;
// the target is never traced or stopped, and lives on.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cpython/python_victim.hpp"
#include "support/child_process.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/base/read_file.hpp"

namespace triage_top_python_test {

using namespace triage::testing;
using triage::test_support::run_command;

std::string triage_top() { return std::string{TRIAGE_EXAMPLE_DIR} + "/triage-top"; }

// The %Own of the row whose cell is "<function> (<file>)", or -1.
double own_percent(const std::string& table, const std::string& function, const std::string& file) {
    std::istringstream lines{table};
    for (std::string line; std::getline(lines, line);) {
        if (line.ends_with("  " + function + " (" + file + ")")) return std::stod(line.substr(0, line.find('%')));
    }
    return -1;
}

// Watches a process from a thread until destroyed: whether it was ever traced or stopped.
class never_stopped {
public:
    explicit never_stopped(pid_t pid)
        : thread_{[this, pid] {
              for (; !done_.load(); std::this_thread::sleep_for(std::chrono::microseconds{200})) {
                  if (triage::test_support::tracer_pid(pid) > 0 || triage::test_support::any_thread_stopped(pid)) {
                      stopped_.store(true);
                  }
              }
          }} {}
    ~never_stopped() { done_.store(true); }
    [[nodiscard]] bool held() const { return !stopped_.load(); }

private:
    std::atomic<bool> done_{false}, stopped_{false};
    std::jthread thread_;
};

// A tmux server of our own (its socket in `dir`, no configuration), killed
// with everything it runs when the test ends, however it ends.
class tmux_server {
public:
    explicit tmux_server(const std::string& dir) : socket_{dir + "/tmux.socket"} {}
    tmux_server(const tmux_server&) = delete;
    tmux_server& operator=(const tmux_server&) = delete;
    ~tmux_server() { run_command({"tmux", "-S", socket_, "kill-server"}); }

    [[nodiscard]] triage::test_support::command_result run(std::vector<std::string> words) const {
        words.insert(words.begin(), {"tmux", "-S", socket_, "-f", "/dev/null"});
        return run_command(std::move(words));
    }
    // A detached 160×40 session running `script` in bash.
    void start(const std::string& session, const std::string& script) const {
        const auto r = run({"new-session", "-d", "-s", session, "-x", "160", "-y", "40", "/bin/bash", "-c", script});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    }
    [[nodiscard]] std::string screen(const std::string& session) const { return run({"capture-pane", "-p", "-t", session}).out; }
    // "1 0": alternate screen on, cursor hidden.
    [[nodiscard]] std::string modes(const std::string& session) const {
        return run({"display-message", "-p", "-t", session, "#{alternate_on} #{cursor_flag}"}).out;
    }
    [[nodiscard]] pid_t shell(const std::string& session) const {
        return std::stoi(run({"display-message", "-p", "-t", session, "#{pane_pid}"}).out);
    }

private:
    std::string socket_;
};

// Polls `done` every 50 ms for up to 20 s.
bool eventually(const std::function<bool()>& done) {
    for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds{20}; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(std::chrono::milliseconds{50})) {
        if (done()) return true;
    }
    return done();
}

// The child of `parent` whose name is `name`; 0 when none.
pid_t child_named(pid_t parent, const std::string& name) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        auto status = triage::read_file(entry.path() / "status");
        if (!status) continue;
        if (status->find("Name:\t" + name + "\n") != std::string::npos &&
            status->find("\nPPid:\t" + std::to_string(parent) + "\n") != std::string::npos) {
            return std::stoi(entry.path().filename().string());
        }
    }
    return 0;
}

// The number after "Samples: " on a screen; -1 when none.
long samples_on(const std::string& screen) {
    std::smatch m;
    return std::regex_search(screen, m, std::regex{R"(Samples: (\d+))"}) ? std::stol(m[1]) : -1;
}

// One run of triage-top in a pane: what the shell saw before and after it.
struct pane_run {
    const tmux_server& tmux;
    std::string session;
    std::string dir;
    pid_t top = 0;

    pane_run(const tmux_server& server, std::string name, const std::string& scratch, pid_t target)
        : tmux{server}, session{std::move(name)}, dir{scratch + "/" + session} {
        std::filesystem::create_directory(dir);
        // The exit code last, renamed into place: once it is there, so is the rest.
        const std::string d = dir + "/";
        tmux.start(session, "stty -a > " + d + "before; " + triage_top() + " " + std::to_string(target) +
                                " --python --interval 500; code=$?; stty -a > " + d + "after; echo $code > " + d +
                                "exit.tmp; mv " + d + "exit.tmp " + d + "exit; exec sleep 600");
        REQUIRE(eventually([&] { return (top = child_named(tmux.shell(session), "triage-top")) > 0; }));
        REQUIRE_MESSAGE(eventually([&] { return samples_on(tmux.screen(session)) > 0; }), tmux.screen(session));
        CHECK(tmux.modes(session) == "1 0\n");
    }

    // After it ended: exit 0, its last line, and the terminal as before.
    void check_ended(const std::string& last_line) const {
        REQUIRE(eventually([&] { return std::filesystem::exists(dir + "/exit"); }));
        CHECK(triage::read_file(dir + "/exit").value_or("") == "0\n");
        CHECK(triage::read_file(dir + "/after").value_or("after") == triage::read_file(dir + "/before").value_or("before"));
        CHECK(eventually([&] { return tmux.modes(session) == "0 1\n"; }));  // main screen, cursor shown
        const std::string screen = tmux.screen(session);
        INFO(screen);
        CHECK(screen.find("triage-top: " + last_line + " after ") != std::string::npos);
        CHECK(screen.find("%Own") == std::string::npos);  // the view went with the alternate screen
        CHECK((::kill(top, 0) == -1 && errno == ESRCH));
    }
};

} // namespace triage_top_python_test

TEST_CASE("triage-top --python without a terminal: one table, heavy() ~75% own and light() ~25%") {
    using namespace triage_top_python_test;
    // The oldest Python 3, Debian's 3.11 and the newest: the split itself is the sampler's, checked on every
    // interpreter in sampler_test.cpp; here, that the program prints it.
    auto all = machine_interpreters();
    std::erase_if(all, [](const python_interpreter& p) { return p.major < 3; });
    REQUIRE(!all.empty());
    std::vector<python_interpreter> chosen{all.front(), service_python(), all.back()};
    std::string covered;
    for (const python_interpreter& python : chosen) {
        if (covered.find(python.label) != std::string::npos) continue;
        covered += " " + python.label;
        CAPTURE(python.label);
        triage::test_support::scratch_dir dir{"top-python"};
        python_process victim(python, {victim_script("py_split_time.py"), dir.path() + "/ready"});
        REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
        never_stopped watch{victim.pid()};
        // 331 Hz: a period that shares no short cycle with the victim's 8 ms (see sampler_test.cpp). The machine
        // is shared: a victim kept off its CPU for long past a deadline stretches the function it was in, and
        // its split is then not 3:1. Sample again then, at most three times.
        const std::string script = victim_script("py_split_time.py");
        double heavy = -1, light = -1;
        for (int attempt = 0; attempt < 3; ++attempt) {
            const auto run =
                run_command({triage_top(), std::to_string(victim.pid()), "--python", "--duration", "2", "--rate", "331"});
            INFO(run.out, run.err);
            REQUIRE(run.exit_code == 0);
            CHECK(run.err.empty());
            CHECK(run.out.starts_with("pid " + std::to_string(victim.pid()) + "  Python 3."));
            CHECK(samples_on(run.out) > 150);  // enough for the split to mean something (an ASan build samples slower)
            heavy = own_percent(run.out, "heavy", script);
            light = own_percent(run.out, "light", script);
            MESSAGE(python.label << ": heavy " << heavy << "%, light " << light << "%");
            if (heavy > 67 && heavy < 83 && light > 17 && light < 33) break;
        }
        CHECK(heavy > 67);
        CHECK(heavy < 83);
        CHECK(light > 17);
        CHECK(light < 33);
        CHECK(watch.held());
        CHECK(victim.running());
    }
    MESSAGE("covered:" << covered);

    // Errors: not Python (this test program), gone, usage.
    const auto not_python = run_command({triage_top(), std::to_string(::getpid()), "--python", "--once"});
    CHECK(not_python.exit_code == 1);
    CHECK(not_python.err.starts_with("triage-top: "));
    CHECK(std::ranges::count(not_python.err, '\n') == 1);
    CHECK(run_command({triage_top(), "4194304", "--python", "--once"}).exit_code == 1);
    CHECK(run_command({triage_top(), "1", "--rate", "50"}).exit_code == 2);
    CHECK(run_command({triage_top(), "1", "--python", "--json"}).exit_code == 2);
    CHECK(run_command({triage_top(), "1", "--python", "--interval", "0"}).exit_code == 2);
}

TEST_CASE("triage-top --python in a terminal: a refreshing view; q, Ctrl+C, SIGTERM and the target's exit end it cleanly") {
    using namespace triage_top_python_test;
    python_interpreter python = service_python();
    CAPTURE(python.label);
    triage::test_support::scratch_dir dir{"top-tmux"};
    python_process victim(python, {victim_script("py_split_time.py"), dir.path() + "/ready"});
    REQUIRE(victim.wait_for_file(dir.path() + "/ready"));
    never_stopped watch{victim.pid()};
    tmux_server tmux{dir.path()};

    {
        pane_run quit{tmux, "quit", dir.path(), victim.pid()};
        const std::string first = tmux.screen("quit");
        INFO(first);
        const auto heavy = first.find("  heavy (");
        const auto light = first.find("  light (");
        CHECK(first.starts_with("pid " + std::to_string(victim.pid()) + "  Python 3.11"));
        CHECK(heavy != std::string::npos);
        CHECK(heavy < light);
        CHECK(first.find("q quit") != std::string::npos);
        std::string later;
        CHECK(eventually([&] { return samples_on(later = tmux.screen("quit")) > samples_on(first); }));
        INFO(later);
        CHECK(tmux.run({"send-keys", "-t", "quit", "q"}).exit_code == 0);
        quit.check_ended("quit");
    }
    {
        pane_run interrupted{tmux, "ctrl-c", dir.path(), victim.pid()};
        CHECK(tmux.run({"send-keys", "-t", "ctrl-c", "C-c"}).exit_code == 0);
        interrupted.check_ended("interrupted");
    }
    {
        pane_run terminated{tmux, "sigterm", dir.path(), victim.pid()};
        REQUIRE(::kill(terminated.top, SIGTERM) == 0);
        terminated.check_ended("interrupted");
    }
    {
        python_process short_lived(python, {victim_script("py_split_time.py"), dir.path() + "/ready-short", "2"});
        REQUIRE(short_lived.wait_for_file(dir.path() + "/ready-short"));
        pane_run exited{tmux, "exited", dir.path(), short_lived.pid()};
        exited.check_ended("process " + std::to_string(short_lived.pid()) + " exited");
    }
    CHECK(watch.held());
    CHECK(victim.running());
}
