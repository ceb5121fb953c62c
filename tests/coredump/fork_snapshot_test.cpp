// Cores written from a copy-on-write fork of the target (--snapshot fork):
// for a still process the file is byte for byte the core copied in the stop
// but for the threads' CPU times; gdb, eu-stack and our reader open it, and
// triage-pystack reads a Python service's stacks from it; threads blocked
// in system calls (futex, read, clock_nanosleep) resume with correct
// results, and a C and a Python process that fork and reap their own
// children (waitpid(-1), a SIGCHLD handler) never see the copy; no copy is
// left, alive or zombie, whether the dump ends well, the target dies
// mid-dump, or the tool is SIGKILLed at any moment from just before the
// clone() to the end (the target's threads, checking their own registers
// and calls, carry on unharmed); a process under seccomp is not forked (the
// copy strategy runs instead, saying why); the automatic choice forks only
// when the pages the process may rewrite fit in its cgroup's headroom;
// reading the copy leaves its pages shared with the target.
#include <doctest/doctest.h>

#include <dirent.h>
#include <elf.h>
#include <sys/procfs.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "coredump/victim_checks.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "support/victim_report.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/procfs/status.hpp"
#include "triage/ptrace/forked_copy.hpp"
#include "triage/ptrace/reap_guardian.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::coredump;
using triage::test_support::ask_report;
using triage::test_support::victim;

namespace {

dump_options forking() {
    dump_options o;
    o.sample = std::chrono::milliseconds{0};
    o.strategy = copy_strategy::fork_snapshot;
    return o;
}

// The processes whose parent is `pid`, as "PID STATE" (read with
// std::ifstream, independent of the parsers under test).
std::vector<std::string> children_of(pid_t pid) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream file(entry.path() / "stat");
        std::string text{std::istreambuf_iterator<char>{file}, std::istreambuf_iterator<char>{}};
        const auto paren = text.rfind(')');
        if (paren == std::string::npos || paren + 4 > text.size()) continue;
        std::string_view rest = std::string_view{text}.substr(paren + 2);
        const std::string_view state = next_token(rest, ' ');
        if (parse_unsigned<std::uint64_t>(next_token(rest, ' ')).value_or(0) == static_cast<std::uint64_t>(pid))
            out.push_back(name + " " + std::string{state});
    }
    return out;
}

// The children of `pid` that are a copy of ours: stopped by a tracer (t), or
// a zombie that stays (a child the victim forks itself is reaped within
// milliseconds). Polled for up to `within` until there are none.
std::vector<std::string> copies_left(pid_t pid, std::chrono::milliseconds within = std::chrono::seconds{5}) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    std::vector<std::string> left;
    for (;;) {
        left.clear();
        for (const std::string& child : children_of(pid))
            if (child.ends_with(" t") || child.ends_with(" Z")) left.push_back(child);
        if (left.empty() || std::chrono::steady_clock::now() >= deadline) return left;
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
}

// The bytes [offset, offset + size) of `file`, fewer at its end.
std::string file_bytes(std::ifstream& file, std::uint64_t offset, std::size_t size) {
    std::string bytes(size, '\0');
    file.clear();
    file.seekg(static_cast<std::streamoff>(offset));
    file.read(bytes.data(), static_cast<std::streamsize>(size));
    bytes.resize(static_cast<std::size_t>(file.gcount()));
    return bytes;
}

// A core's headers and notes, with the CPU times of its NT_PRSTATUS records
// zeroed: two dumps of a still process differ there, since stopping its
// threads for the first costs them CPU time, which now and then crosses a
// clock tick. `where(offset)` names the note that holds a byte.
struct core_notes {
    std::string bytes;
    std::vector<std::pair<std::size_t, std::string>> starts;  // each note's offset, and what it is

    [[nodiscard]] std::string where(std::size_t offset) const {
        std::string what = "the ELF and program headers";
        for (const auto& [start, name] : starts)
            if (start <= offset) what = name + " (its byte " + std::to_string(offset - start) + ")";
        return what;
    }
};

core_notes notes_without_cpu_times(std::ifstream& file) {
    core_notes out;
    std::string& core = out.bytes;
    core = file_bytes(file, 0, sizeof(Elf64_Ehdr));
    auto at = [&](std::size_t offset, auto value) {
        REQUIRE(offset + sizeof value <= core.size());
        std::memcpy(&value, core.data() + offset, sizeof value);
        return value;
    };
    const auto header = at(0, Elf64_Ehdr{});
    std::uint64_t end = header.e_phoff + header.e_phnum * sizeof(Elf64_Phdr);
    core = file_bytes(file, 0, end);
    std::vector<Elf64_Phdr> notes;
    for (std::size_t k = 0; k < header.e_phnum; ++k) {
        const auto segment = at(header.e_phoff + k * sizeof(Elf64_Phdr), Elf64_Phdr{});
        if (segment.p_type != PT_NOTE) continue;
        notes.push_back(segment);
        end = std::max<std::uint64_t>(end, segment.p_offset + segment.p_filesz);
    }
    core = file_bytes(file, 0, end);
    for (const Elf64_Phdr& segment : notes) {
        for (std::size_t offset = segment.p_offset; offset + sizeof(Elf64_Nhdr) <= segment.p_offset + segment.p_filesz;) {
            const auto note = at(offset, Elf64_Nhdr{});
            const std::size_t desc = offset + sizeof note + (note.n_namesz + 3) / 4 * 4;
            out.starts.emplace_back(desc, "note type " + std::to_string(note.n_type) + " at " + std::to_string(offset));
            if (note.n_type == NT_PRSTATUS && note.n_descsz == sizeof(elf_prstatus)) {
                const std::size_t times = desc + offsetof(elf_prstatus, pr_utime);
                REQUIRE(times + 4 * sizeof(timeval) <= core.size());
                std::memset(core.data() + times, 0, 4 * sizeof(timeval));
            }
            offset = desc + (note.n_descsz + 3) / 4 * 4;
        }
    }
    return out;
}

// Where the cores `a` and `b` differ but for their threads' CPU times ("":
// nowhere). Read a piece at a time: they are sparse files of 1 GiB.
std::string difference_but_cpu_times(const std::string& a, const std::string& b) {
    std::ifstream one(a, std::ios::binary), other(b, std::ios::binary);
    const core_notes notes = notes_without_cpu_times(one);
    const core_notes others = notes_without_cpu_times(other);
    const auto first_difference = [](std::string_view x, std::string_view y) {
        return static_cast<std::size_t>(std::mismatch(x.begin(), x.end(), y.begin(), y.end()).first - x.begin());
    };
    if (notes.bytes != others.bytes) {
        const std::size_t offset = first_difference(notes.bytes, others.bytes);
        return "the headers and notes differ first at byte " + std::to_string(offset) + ", in " + notes.where(offset) +
               "; sizes " + std::to_string(notes.bytes.size()) + " and " + std::to_string(others.bytes.size());
    }
    constexpr std::size_t piece = 1 << 20;
    for (std::uint64_t offset = notes.bytes.size();; offset += piece) {
        const std::string x = file_bytes(one, offset, piece);
        const std::string y = file_bytes(other, offset, piece);
        if (x != y) return "the memory differs first at file offset " + std::to_string(offset + first_difference(x, y));
        if (x.size() < piece) return "";
    }
}

} // namespace

TEST_CASE("a still process: the core from its fork is the core copied in the stop, byte for byte, and no copy is left") {
    test_support::scratch_dir dir{"fork-snapshot"};
    victim v{coredump_test::still_victim()};
    REQUIRE(coredump_test::parked_in_pause(v.pid()));
    dump_options copying = forking();
    copying.strategy = copy_strategy::to_memory;
    auto copied = dump_process(v.pid(), dir / "copied.core", copying);
    REQUIRE_MESSAGE(copied, failure_text(copied));
    // Released, it must get a CPU to go back into pause(): until then it is
    // R, and the process's state (NT_PRPSINFO, read before the stop) with it.
    REQUIRE(coredump_test::parked_in_pause(v.pid()));
    auto forked = dump_process(v.pid(), dir / "forked.core", forking());
    REQUIRE_MESSAGE(forked, failure_text(forked));
    CHECK(forked->forked);
    CHECK(forked->fork_fallback.empty());
    CHECK_FALSE(forked->copied_to_memory);
    CHECK(forked->fork_time.count() > 0);
    CHECK(forked->cleanup_stopped_for.count() > 0);
    CHECK(forked->not_in_fork.empty());
    CHECK(forked->bytes_written == copied->bytes_written);
    // The copy still shares every page with the still process: reading it
    // must not unshare them (a read-only pin of process_vm_readv would
    // copy each one, doubling the memory held).
    CHECK(forked->memory_used < forked->bytes_written / 8);
    CHECK(copies_left(v.pid()).empty());
    CHECK(coredump_test::running_unstopped(v));
    CHECK(std::filesystem::file_size(dir / "copied.core") == std::filesystem::file_size(dir / "forked.core"));
    CHECK(difference_but_cpu_times(dir / "copied.core", dir / "forked.core") == "");

    // The oracle reads it: every thread, unwound.
    auto stacks = test_support::run_command({"eu-stack", "--core", dir / "forked.core", "-e", test_support::victim_path("core_sparse")});
    CHECK(coredump_test::eu_stack_frames(stacks.out).size() == forked->threads);
    auto gdb = test_support::run_command(
        {"gdb", "-nx", "-batch", "-ex", "info threads", test_support::victim_path("core_sparse"), dir / "forked.core"});
    CHECK(gdb.exit_code == 0);
    CHECK(gdb.out.find("* 1 ") != std::string::npos);
    auto core = core_file::open(dir / "forked.core");
    REQUIRE_MESSAGE(core, failure_text(core));
    CHECK(core->threads().size() == forked->threads);

    // The target dies once the copy is made: the core is still whole (it is
    // read from the copy), and the copy does not outlive the dump.
    dump_options killing = forking();
    const pid_t pid = v.pid();
    killing.write.progress = coredump_test::kill_at_first_chunk(pid);
    auto after = dump_process(pid, dir / "after.core", killing);
    REQUIRE_MESSAGE(after, failure_text(after));
    CHECK(after->forked);
    CHECK(after->bytes_written == forked->bytes_written);
    std::vector<std::string> orphans;
    for (int i = 0; i < 250; ++i) {  // the copy's zombie goes to init, which reaps it
        orphans.clear();
        for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
            std::ifstream status(entry.path() / "status");
            for (std::string line; std::getline(status, line);)
                if (line.starts_with("TracerPid:") && std::stol(line.substr(10)) == ::getpid()) orphans.push_back(entry.path());
        }
        if (orphans.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    CHECK(orphans.empty());
}

TEST_CASE("threads in system calls, a waitpid(-1) loop and a SIGCHLD handler never notice the fork") {
    test_support::scratch_dir dir{"fork-snapshot"};
    const std::string tool = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore";
    victim c{{test_support::victim_path("fork_syscalls"), dir / "c.report"}};
    victim py{{"/usr/bin/python3", test_support::source_path("tests/victims/py_reaper.py"), dir / "py.report"}};
    const std::string c_before = ask_report(c.pid(), dir / "c.report");
    for (int round = 0; round < 5; ++round) {
        CAPTURE(round);
        for (pid_t pid : {c.pid(), py.pid()}) {
            auto run = test_support::run_command(
                {tool, std::to_string(pid), "-o", dir / "x.core", "--force", "--snapshot", "fork", "--json", "--sample-ms", "0"});
            REQUIRE_MESSAGE(run.exit_code == 0, run.err);
            auto doc = nlohmann::json::parse(run.out);
            CHECK(doc["forked"] == true);
            CHECK(doc["fork_fallback"].is_null());
            CHECK(doc["cleanup_stopped_seconds"].get<double>() > 0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{50});  // let every thread go round again
    }
    CHECK(copies_left(c.pid()).empty());
    CHECK(copies_left(py.pid()).empty());
    // The last core is the Python service's: its Python stacks read from it.
    auto stacks = test_support::run_command({std::string{TRIAGE_EXAMPLE_DIR} + "/triage-pystack", "--core", dir / "x.core"});
    CHECK_MESSAGE(stacks.exit_code == 0, stacks.err);
    CHECK(stacks.out.find("py_reaper.py") != std::string::npos);
    CHECK(stacks.out.find("spawn") != std::string::npos);

    const std::string report = ask_report(c.pid(), dir / "c.report");
    CAPTURE(report);
    CHECK(test_support::report_counter(report, "errors") == 0);
    CHECK(test_support::report_counter(report, "unknown") == 0);
    CHECK(test_support::report_counter(report, "reaped") > test_support::report_counter(c_before, "reaped"));
    CHECK(test_support::report_counter(report, "sleeps") > test_support::report_counter(c_before, "sleeps"));
    CHECK(test_support::report_counter(report, "reads") > test_support::report_counter(c_before, "reads"));
    CHECK(test_support::report_counter(report, "waits") > test_support::report_counter(c_before, "waits"));
    // One SIGCHLD per child it forked (signals of the same kind may merge,
    // never exceed): none came from a copy.
    CHECK(test_support::report_counter(report, "sigchld") <= test_support::report_counter(report, "spawned"));

    const std::string py_text = ask_report(py.pid(), dir / "py.report");
    CAPTURE(py_text);
    auto doc = nlohmann::json::parse(py_text);
    CHECK(doc["unknown"].empty());
    CHECK(doc["reaped"].get<int>() > 0);
    CHECK(doc["sigchld"].get<int>() <= doc["spawned"].get<int>());
    CHECK(coredump_test::running_unstopped(c));
    CHECK(coredump_test::running_unstopped(py));
}

namespace {

enum class stage { forking, forked_and_held, released, writing };

struct tool_process {
    pid_t pid = 0;
    pid_t guardian = 0;  // its reap guardian, which outlives it
};

// Forks a "tool" that takes a fork snapshot of `target` with a reap
// guardian, reports on a pipe when it reaches `at` (forking: just before
// fork_copy), then waits to be killed. Returns once it is there.
tool_process start_tool(pid_t target, stage at, const std::string& core) {
    int report[2];
    REQUIRE(::pipe(report) == 0);
    const pid_t tool = ::fork();
    REQUIRE(tool >= 0);
    if (tool == 0) {
        ::close(report[0]);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        auto guardian = ptrace::reap_guardian::start();
        if (!guardian) ::_exit(3);
        const pid_t guardian_pid = guardian->pid();
        (void)!::write(report[1], &guardian_pid, sizeof guardian_pid);
        auto there = [&] {
            (void)!::write(report[1], "x", 1);
            for (;;) ::pause();
        };
        if (at == stage::writing) {
            dump_options o = forking();
            o.fork.guardian = &*guardian;
            o.write.progress = [&](std::uint64_t, std::uint64_t) { there(); };
            (void)dump_process(target, core, o);
            ::_exit(4);
        }
        auto s = ptrace::session::attach(target);
        if (!s) ::_exit(5);
        if (at == stage::forking) (void)!::write(report[1], "x", 1);
        auto copy = ptrace::fork_copy(*s, {.cleanup_stop_timeout = std::chrono::milliseconds{2000}, .guardian = &*guardian});
        if (!copy) ::_exit(6);
        if (at == stage::released && !s->release()) ::_exit(7);
        if (at == stage::forking) for (;;) ::pause();
        there();
    }
    ::close(report[1]);
    pid_t guardian = 0;
    char byte = 0;
    const bool there = ::read(report[0], &guardian, sizeof guardian) == sizeof guardian && ::read(report[0], &byte, 1) == 1;
    ::close(report[0]);
    if (!there) {
        int status = 0;
        ::waitpid(tool, &status, 0);
        FAIL("the tool did not reach its stage; exit status " << WEXITSTATUS(status));
    }
    return {tool, guardian};
}

// Waits (up to 5 s) until a guardian whose tool is gone has done its work
// and exited (its new parent reaps it).
bool guardian_gone(pid_t guardian) {
    for (int i = 0; i < 500; ++i) {
        const char state = test_support::process_state(guardian);
        if (state == '?' || state == 'Z') return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return false;
}

} // namespace

TEST_CASE("the tool SIGKILLed after the fork, holding the target or not, mid-write: no stopped target and no copy left") {
    test_support::scratch_dir dir{"fork-snapshot"};
    victim v{{test_support::victim_path("core_threads")}};
    for (stage at : {stage::forked_and_held, stage::released, stage::writing}) {
        CAPTURE(static_cast<int>(at));
        const tool_process tool = start_tool(v.pid(), at, dir / "killed.core");
        CHECK_FALSE(children_of(v.pid()).empty());  // the copy is there
        REQUIRE(::kill(tool.pid, SIGKILL) == 0);
        int status = 0;
        REQUIRE(::waitpid(tool.pid, &status, 0) == tool.pid);
        CHECK(WIFSIGNALED(status));
        // The guardian stops the target a moment to reap the copy: the copy
        // is gone before the guardian has let the target go.
        CHECK(guardian_gone(tool.guardian));
        const auto left = copies_left(v.pid());
        CHECK_MESSAGE(left.empty(), "left: " << (left.empty() ? std::string{} : left.front()));
        CHECK(coredump_test::running_freely(v));
        CHECK_FALSE(std::filesystem::exists(dir / "killed.core"));
    }
}

TEST_CASE("the tool SIGKILLed at any moment of fork_copy, the clone() included: the target carries on, no copy is left") {
    // 512 MiB of touched pages: the clone() takes milliseconds; the kills
    // land from before it to after it (its length is printed).
    test_support::scratch_dir dir{"fork-snapshot"};
    victim v{{test_support::victim_path("fork_syscalls"), dir / "report", "512"}};
    {
        auto s = ptrace::session::attach(v.pid());
        REQUIRE(s);
        auto copy = ptrace::fork_copy(*s);
        REQUIRE_MESSAGE(copy, failure_text(copy));
        MESSAGE("clone() of the 512 MiB victim: " << std::chrono::duration<double, std::milli>(copy->fork_time()).count() << " ms");
    }
    const std::string before = ask_report(v.pid(), dir / "report");
    for (int delay_us = 0; delay_us <= 40'000; delay_us += 2'500) {
        CAPTURE(delay_us);
        const tool_process tool = start_tool(v.pid(), stage::forking, dir / "unused.core");
        std::this_thread::sleep_for(std::chrono::microseconds{delay_us});
        REQUIRE(::kill(tool.pid, SIGKILL) == 0);
        int status = 0;
        REQUIRE(::waitpid(tool.pid, &status, 0) == tool.pid);
        // Its guardian may hold the victim a moment to reap the copy (or
        // watch 2 s for one): the next round's attach waits for it.
        CHECK(guardian_gone(tool.guardian));
        const auto left = copies_left(v.pid());
        CHECK_MESSAGE(left.empty(), "left: " << (left.empty() ? std::string{} : left.front()));
        CHECK(coredump_test::running_unstopped(v));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{300});
    const std::string after = ask_report(v.pid(), dir / "report");
    CAPTURE(after);
    CHECK(test_support::report_counter(after, "errors") == 0);
    CHECK(test_support::report_counter(after, "unknown") == 0);
    for (const char* counter : {"spins", "reads", "waits", "reaped"}) {
        CAPTURE(counter);
        CHECK(test_support::report_counter(after, counter) > test_support::report_counter(before, counter));
    }
}

TEST_CASE("triage-gcore --snapshot fork: SIGINT mid-write leaves no file, no copy and a running target") {
    test_support::scratch_dir dir{"fork-snapshot"};
    const std::string tool = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore";
    victim big{{test_support::victim_path("core_big"), "1024"}};
    test_support::child_process gcore{{tool, std::to_string(big.pid()), "-o", dir / "big.core", "--sample-ms", "0", "--snapshot", "fork"}};
    bool copy_made = false;
    for (int i = 0; i < 20000 && !copy_made; ++i) {
        for (const std::string& child : children_of(big.pid())) copy_made = copy_made || child.ends_with(" t");
        if (!copy_made) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    CHECK(copy_made);
    REQUIRE(::kill(gcore.pid(), SIGINT) == 0);
    auto status = gcore.wait_for_exit(std::chrono::seconds{60});
    REQUIRE(status.has_value());
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 1);
    CHECK(dir.entries().empty());
    CHECK(copies_left(big.pid()).empty());
    CHECK(coredump_test::running_freely(big));
}

TEST_CASE("a process under seccomp is not forked: the copy strategy runs, and the report says why") {
    test_support::scratch_dir dir{"fork-snapshot"};
    victim v{{test_support::victim_path("seccomp_filtered")}};
    auto status = procfs::read_status(v.pid());
    REQUIRE(status);
    CHECK(status->seccomp == 2);
    auto report = dump_process(v.pid(), dir / "seccomp.core", forking());
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK_FALSE(report->forked);
    CHECK(report->fork_fallback.find("seccomp") != std::string::npos);
    CHECK(report->bytes_written > 0);
    CHECK(children_of(v.pid()).empty());
    CHECK(coredump_test::running_unstopped(v));
}

namespace {

// A memory cgroup of its own for `pid` (v1 or v2, under ours), limited to
// `bytes`; on destruction `pid` (if alive) goes back and it is removed.
// `made` is false where this machine does not let us make one.
struct limited_cgroup {
    std::string dir, home;
    pid_t pid = 0;
    bool made = false;

    static bool put(const std::string& file, const std::string& text) {
        std::ofstream out(file);
        out << text;
        out.flush();
        return static_cast<bool>(out);
    }

    limited_cgroup(pid_t who, std::uint64_t bytes) : pid{who} {
        std::ifstream own("/proc/self/cgroup");
        std::string v1, v2;
        for (std::string line; std::getline(own, line);) {
            const auto first = line.find(':'), second = line.find(':', first + 1);
            if (second == std::string::npos) continue;
            const std::string controllers = line.substr(first + 1, second - first - 1);
            if (controllers == "memory") v1 = line.substr(second + 1);
            if (line.starts_with("0::")) v2 = line.substr(second + 1);
        }
        const std::string name = "/triage-fork-test-" + std::to_string(::getpid());
        if (!v1.empty() && std::filesystem::is_directory("/sys/fs/cgroup/memory" + v1)) {
            home = "/sys/fs/cgroup/memory" + v1;
            dir = home + name;
            made = std::filesystem::create_directory(dir) && put(dir + "/memory.limit_in_bytes", std::to_string(bytes));
        } else if (!v2.empty() && std::filesystem::exists("/sys/fs/cgroup" + v2 + "/cgroup.controllers")) {
            home = "/sys/fs/cgroup" + v2;
            dir = home + name;
            (void)put(home + "/cgroup.subtree_control", "+memory");
            made = std::filesystem::create_directory(dir) && put(dir + "/memory.max", std::to_string(bytes));
        }
        made = made && put(dir + "/cgroup.procs", std::to_string(pid));
    }
    ~limited_cgroup() {
        if (dir.empty()) return;
        (void)put(home + "/cgroup.procs", std::to_string(pid));
        std::error_code ignored;
        for (int i = 0; i < 100 && !std::filesystem::remove(dir, ignored); ++i) std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
};

} // namespace

TEST_CASE("automatic: a fork snapshot when the pages the process may rewrite fit in its cgroup, else a copy in the stop") {
    test_support::scratch_dir dir{"fork-snapshot"};
    victim v{{test_support::victim_path("core_big"), "64"}};
    dump_options automatic;
    automatic.sample = std::chrono::milliseconds{0};
    auto roomy = dump_process(v.pid(), dir / "roomy.core", automatic);
    REQUIRE_MESSAGE(roomy, failure_text(roomy));
    CHECK(roomy->forked);
    CHECK(roomy->strategy_reason.starts_with("fork:"));
    CHECK(copies_left(v.pid()).empty());

    limited_cgroup small{v.pid(), 16u << 20};
    if (!small.made) {
        MESSAGE("no memory cgroup could be made here: the cgroup half is not checked");
        return;
    }
    auto tight = dump_process(v.pid(), dir / "tight.core", automatic);
    REQUIRE_MESSAGE(tight, failure_text(tight));
    CAPTURE(tight->strategy_reason);
    CHECK_FALSE(tight->forked);
    CHECK(tight->strategy_reason.find("do not fit") != std::string::npos);
    CHECK(tight->strategy_reason.find("cgroup") != std::string::npos);
    CHECK(tight->bytes_written > 0);
    CHECK(coredump_test::running_freely(v));
}
