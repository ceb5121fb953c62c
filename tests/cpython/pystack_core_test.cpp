// examples/triage-pystack --core as a user runs it: on cores of the 26-thread
// stuck service (tests/victims/py_stuck_service.py) written by
// examples/triage-gcore, by gdb's gcore and by the kernel, it must give the
// threads and frames triage-pystack gave live just before (for the parked
// threads); and its one-line errors and exit codes. Also the oracles on our
// core of that Python service: gdb lists the same threads and unwinds the
// spinning one into the eval loop; eu-stack gives the parked threads the
// native frames it gave them live.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "coredump/victim_checks.hpp"
#include "cpython/python_victim.hpp"
#include "support/run_command.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/procfs/maps.hpp"

namespace {

using namespace triage::testing;

using frame_key = std::tuple<std::string, std::string, int>;  // function, file, line (0: none)

// tid → frames, innermost first.
std::map<int, std::vector<frame_key>> stacks_of(const nlohmann::json& doc) {
    std::map<int, std::vector<frame_key>> out;
    for (const auto& t : doc["threads"]) {
        std::vector<frame_key> frames;
        for (const auto& f : t["frames"]) {
            frames.emplace_back(f["function"].get<std::string>(), f["file"].get<std::string>(),
                                f["line"].is_null() ? 0 : f["line"].get<int>());
        }
        out[t["tid"].is_null() ? 0 : t["tid"].get<int>()] = std::move(frames);
    }
    return out;
}

std::string describe(const std::vector<frame_key>& frames) {
    std::string out;
    for (const auto& [function, file, line] : frames) out += function + " (" + file + ":" + std::to_string(line) + ") ";
    return out;
}

// How a core may hold less than the process had.
enum class core_holds {
    everything,
    // gdb 13's gcore gives up a whole mapping at its first unreadable page,
    // and glibc 2.42+ guards thread stacks with MADV_GUARD_INSTALL pages
    // inside the mappings (which then merge): its cores lose those threads'
    // C stacks, where 3.14+ keep the interpreter's entry frames. A thread's
    // walk must then end early and say so, never invent frames.
    stacks_cut_at_c_frames,
};

// The JSON row of thread `tid`.
const nlohmann::json& thread_row(const nlohmann::json& doc, int tid) {
    for (const auto& t : doc["threads"])
        if (t["tid"] == tid) return t;
    FAIL("no thread " << tid << " in the report");
    return doc;
}

// The core's report has the live report's threads, and the same frames for
// every thread that was parked (the spinning worker moves between the two).
// `root`: the kernel names a chrooted process's files as it saw them, and
// the live report as we see them, under its root.
void check_same_as_live(const nlohmann::json& live, const nlohmann::json& core, pid_t pid, const std::string& root = {},
                        core_holds holds = core_holds::everything) {
    CHECK(core["pid"] == pid);
    CHECK(core["mode"] == "core");
    CHECK(core["stopped_ms"].is_null());
    CHECK(core["python_version"] == live["python_version"]);
    CHECK(root + core["interpreter"].get<std::string>() == live["interpreter"]);
    CHECK(root + core["executable"].get<std::string>() == live["executable"]);
    // The core keeps the first 79 bytes of the command line (gdb: up to the
    // first NUL, the program alone).
    const std::string command_line = core["command_line"].get<std::string>();
    CHECK(!command_line.empty());
    CHECK(live["command_line"].get<std::string>().starts_with(command_line));
    auto live_stacks = stacks_of(live);
    auto core_stacks = stacks_of(core);
    REQUIRE(live_stacks.size() == 26);
    CHECK(!live_stacks.contains(0));
    std::vector<int> live_tids, core_tids;
    for (const auto& [tid, frames] : live_stacks) live_tids.push_back(tid);
    for (const auto& [tid, frames] : core_stacks) core_tids.push_back(tid);
    CHECK(core_tids == live_tids);
    int parked = 0;
    for (const auto& [tid, frames] : live_stacks) {
        REQUIRE(!frames.empty());
        if (std::get<0>(frames.front()) == "find_anchor") continue;
        CAPTURE(tid);
        ++parked;
        auto found = core_stacks.find(tid);
        REQUIRE(found != core_stacks.end());
        INFO("live: " << describe(frames) << "\ncore: " << describe(found->second));
        if (holds == core_holds::stacks_cut_at_c_frames && found->second != frames) {
            REQUIRE(!found->second.empty());
            CHECK(found->second.size() < frames.size());
            CHECK(std::equal(found->second.begin(), found->second.end(), frames.begin()));
            CHECK(thread_row(core, tid).contains("error"));
            continue;
        }
        CHECK(found->second == frames);
    }
    CHECK(parked == 25);
    for (const auto& t : core["threads"]) {
        CHECK(t["cpu_percent"].is_null());
        CHECK(t["state"] == "unknown");
        CHECK(t["holds_gil"].is_boolean());
    }
}

// The live report of the stuck service once it has settled (every parked
// thread at its park line), so that a core taken next holds the same stacks.
nlohmann::json settled_live_report(pid_t pid) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto live = run_pystack(std::to_string(pid) + " --json --cpu-window 0");
        INFO(live.err);
        REQUIRE(live.exit_code == 0);
        auto doc = nlohmann::json::parse(live.out);
        if (stuck_service_settled(doc)) return doc;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the stuck service did not settle in 10 s");
    return {};
}

python_interpreter interpreter_labelled(const std::string& label) {
    for (const auto& p : machine_interpreters())
        if (p.label == label) return p;
    FAIL("no interpreter " << label);
    return {};
}

int line_count(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

// Whether a large anonymous mapping of `pid` has a page that cannot be read
// (a MADV_GUARD_INSTALL guard page inside a thread stack mapping).
bool has_guard_pages_inside_mappings(pid_t pid) {
    auto maps = triage::procfs::read_maps(pid);
    REQUIRE(maps);
    auto mem = triage::memory::proc_mem::open(pid);
    REQUIRE(mem);
    std::vector<std::byte> page(4096);
    for (const auto& m : *maps) {
        if (m.is_file() || !m.readable || m.end - m.start < (std::uint64_t{16} << 20)) continue;
        for (std::uint64_t at = m.start; at < m.end; at += page.size())
            if (!triage::memory::read_exact(*mem, at, page)) return true;
    }
    return false;
}

// `labels`, then the interpreter lab's (python3.14, python3.15) this run
// covers (TRIAGE_TEST_PYTHONS may leave some out).
std::vector<std::string> with_lab(std::vector<std::string> labels) {
    for (const auto& p : machine_interpreters())
        if (!p.launcher.empty()) labels.push_back(p.label);
    return labels;
}

} // namespace

TEST_CASE("triage-pystack --core on our core and on gdb's gcore core gives the live stacks") {
    for (const std::string& label : with_lab({"/usr/bin/python3.11", "pyenv 3.13.0", "pyenv 3.10.13", "pyenv 2.7.18"})) {
        CAPTURE(label);
        scratch_dir dir;
        python_process service(interpreter_labelled(label), {victim_script("py_stuck_service.py"), dir.path() + "/ready"});
        REQUIRE(service.wait_for_file(dir.path() + "/ready"));
        const std::string pid = std::to_string(service.pid());

        const auto live_doc = settled_live_report(service.pid());
        auto ours = run_tool(std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", pid + " -o " + dir.path() + "/ours");
        INFO(ours.err);
        REQUIRE(ours.exit_code == 0);
        auto gdb = run_tool("gcore", "-o " + dir.path() + "/gdb " + pid);
        INFO(gdb.err);
        REQUIRE(gdb.exit_code == 0);
        CHECK(service.running());
        const bool guarded = has_guard_pages_inside_mappings(service.pid());

        for (const std::string& core : {dir.path() + "/ours", dir.path() + "/gdb." + pid}) {
            CAPTURE(core);
            auto r = run_pystack("--core " + core + " --json");
            INFO(r.err);
            REQUIRE(r.exit_code == 0);
            auto doc = nlohmann::json::parse(r.out);
            CHECK(doc["core"] == core);
            const bool by_gdb = core != dir.path() + "/ours";
            check_same_as_live(live_doc, doc, service.pid(), {},
                               by_gdb && guarded ? core_holds::stacks_cut_at_c_frames : core_holds::everything);
            std::filesystem::remove(core);  // gdb's cores are about 1 GB
        }
        CHECK(service.running());
    }
}

TEST_CASE("gdb and eu-stack read our core of the Python service as they read it live") {
    scratch_dir dir;
    python_interpreter python = interpreter_labelled("/usr/bin/python3.11");
    python_process service(python, {victim_script("py_stuck_service.py"), dir.path() + "/ready"});
    REQUIRE(service.wait_for_file(dir.path() + "/ready"));
    const std::string pid = std::to_string(service.pid());
    const auto live = settled_live_report(service.pid());
    int spinner = 0;
    std::set<int> live_tids;
    for (const auto& t : live["threads"]) {
        live_tids.insert(t["tid"].get<int>());
        if (t["frames"][0]["function"] == "find_anchor") spinner = t["tid"].get<int>();
    }
    REQUIRE(live_tids.size() == 26);
    REQUIRE(spinner != 0);
    auto live_native = triage::test_support::run_command({"eu-stack", "-p", pid});
    REQUIRE(live_native.exit_code == 0);
    CHECK(service.running());
    const std::string core = dir.path() + "/ours";
    auto dumped = run_tool(std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", pid + " -o " + core);
    INFO(dumped.err);
    REQUIRE(dumped.exit_code == 0);
    CHECK(service.running());

    // gdb: the same threads, the spinner first, unwound into the eval loop.
    auto gdb = triage::test_support::run_command({"gdb", "-nx", "-batch", "-ex", "info threads", "-ex", "bt", python.path, core});
    INFO(gdb.out);
    REQUIRE(gdb.exit_code == 0);
    std::set<int> gdb_tids;
    static const std::regex lwp(R"(\(LWP (\d+)\))");
    for (auto it = std::sregex_iterator(gdb.out.begin(), gdb.out.end(), lwp); it != std::sregex_iterator(); ++it)
        gdb_tids.insert(std::stoi((*it)[1]));
    CHECK(gdb_tids == live_tids);
    const auto current = gdb.out.find("\n* 1 ");
    REQUIRE(current != std::string::npos);
    const std::string current_line = gdb.out.substr(current + 1, gdb.out.find('\n', current + 1) - current - 1);
    CHECK(current_line.find("(LWP " + std::to_string(spinner) + ")") != std::string::npos);
    const auto backtrace = gdb.out.find("\n#0 ");
    REQUIRE(backtrace != std::string::npos);
    CHECK(gdb.out.find("_PyEval_EvalFrameDefault", backtrace) != std::string::npos);

    // eu-stack: every parked thread has the native frames it had live.
    auto dead_native = triage::test_support::run_command({"eu-stack", "--core", core, "-e", python.path});
    REQUIRE(dead_native.exit_code == 0);
    auto live_frames = coredump_test::eu_stack_frames(live_native.out);
    auto core_frames = coredump_test::eu_stack_frames(dead_native.out);
    CHECK(core_frames.size() == 26);
    int compared = 0;
    for (int tid : live_tids) {
        if (tid == spinner) continue;
        CAPTURE(tid);
        REQUIRE(core_frames.contains(tid));
        CHECK(core_frames[tid] == live_frames[tid]);
        const auto& frames = core_frames[tid];
        CHECK(std::find(frames.begin(), frames.end(), "_PyEval_EvalFrameDefault") != frames.end());
        ++compared;
    }
    CHECK(compared == 25);
}

TEST_CASE("triage-pystack --core reads the kernel's core of a crashed Python process") {
    const std::string pattern = triage::read_file("/proc/sys/kernel/core_pattern").value_or("|");
    if (!pattern.starts_with("core")) {
        MESSAGE("kernel core_pattern is '" << pattern << "': kernel cores go elsewhere; not checked");
        return;
    }
    for (const std::string& label : with_lab({"pyenv 3.10.13"})) {
        CAPTURE(label);
        scratch_dir dir;
        python_interpreter python = interpreter_labelled(label);
        // A shell (a lab's own, in its root) that allows cores, then becomes
        // the victim (same pid) in `dir`.
        python_interpreter shell{"/bin/sh", "sh", 0, 0, python.launcher};
        python_process service(shell, {"-c", "cd " + dir.path() + " && ulimit -c unlimited && exec " + python.path +
                                                 " " + victim_script("py_stuck_service.py") + " " + dir.path() + "/ready"});
        REQUIRE(service.wait_for_file(dir.path() + "/ready"));
        const pid_t pid = service.pid();
        const auto live = settled_live_report(pid);
        REQUIRE(::kill(pid, SIGABRT) == 0);
        // Returns once the victim has dumped, died and been reaped.
        CHECK(!service.wait_for_file(dir.path() + "/never", std::chrono::seconds(30)));
        REQUIRE(service.pid() == -1);
        std::string core = dir.path() + "/core";
        if (!std::filesystem::exists(core)) core += "." + std::to_string(pid);
        REQUIRE(std::filesystem::exists(core));
        // The kernel names the files as the process saw them: the core of a
        // chrooted process is read with --exe, its interpreter as seen here.
        std::string exe, root;
        for (const auto& lab : triage::test_support::lab_interpreters()) {
            if (lab.label != label) continue;
            exe = " --exe " + lab.host_path();
            root = lab.root;
        }

        auto r = run_pystack("--core " + core + exe + " --json");
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        check_same_as_live(live, nlohmann::json::parse(r.out), pid, root);

        auto text = run_pystack("--core " + core + exe);
        REQUIRE(text.exit_code == 0);
        CHECK(text.out.starts_with("Process " + std::to_string(pid) + ": "));
        CHECK(text.out.find("Read from the core file " + core + "\n") != std::string::npos);
        CHECK(text.out.find("    blocked_worker (" + victim_script("py_stuck_service.py") + ":") != std::string::npos);
    }
}

TEST_CASE("triage-pystack --core refuses what it cannot read with one line and exit 1; --exe; usage errors") {
    scratch_dir dir;
    const std::string gcore = std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore";

    // Not Python: a core of sleep.
    python_process sleeper({"/bin/sleep", "/bin/sleep", 0, 0}, {"100"});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    REQUIRE(run_tool(gcore, std::to_string(sleeper.pid()) + " -o " + dir.path() + "/sleep").exit_code == 0);
    CHECK(sleeper.running());
    auto r = run_pystack("--core " + dir.path() + "/sleep");
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("not the core of a Python process") != std::string::npos);
    CHECK(line_count(r.err) == 1);

    // Debian's python3.11 (the interpreter linked into the executable), run
    // from a copy that is replaced on disk below.
    python_interpreter python = interpreter_labelled("/usr/bin/python3.11");
    const std::string original = python.path;
    python.path = dir.path() + "/python3.11";
    std::filesystem::copy_file(original, python.path);
    std::filesystem::permissions(python.path, std::filesystem::perms::owner_all);
    python_process service(python, {victim_script("py_stuck_service.py"), dir.path() + "/ready"});
    REQUIRE(service.wait_for_file(dir.path() + "/ready"));
    const std::string core = dir.path() + "/service";
    REQUIRE(run_tool(gcore, std::to_string(service.pid()) + " -o " + core).exit_code == 0);
    CHECK(service.running());

    // A truncated copy: the first 40% of the file.
    const auto size = std::filesystem::file_size(core);
    std::filesystem::copy_file(core, core + ".truncated");
    std::filesystem::resize_file(core + ".truncated", size * 2 / 5);
    r = run_pystack("--core " + core + ".truncated --json");
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.find("truncated") != std::string::npos);
    CHECK(line_count(r.err) == 1);
    // Cut inside the notes: the core cannot even be opened.
    std::filesystem::resize_file(core + ".truncated", 200);
    r = run_pystack("--core " + core + ".truncated");
    CHECK(r.exit_code == 1);
    CHECK(line_count(r.err) == 1);

    r = run_pystack("--core " + dir.path() + "/no-such-core");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no-such-core") != std::string::npos);
    CHECK(line_count(r.err) == 1);

    // A directory given for a file says so (it said "system error mapping
    // DIR (No such device)", issue 8.11).
    for (const std::string& args : {"--core " + dir.path(), "--core " + core + " --exe " + dir.path()}) {
        r = run_pystack(args);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find(dir.path() + ": it is a directory") != std::string::npos);
        CHECK(line_count(r.err) == 1);
    }

    // --exe: a copy of the interpreter under another name is read in its
    // place and reported under the path the process mapped; another build
    // (here not even Python) is refused.
    const std::string copy = dir.path() + "/interpreter-copy";
    std::filesystem::copy_file(original, copy);
    r = run_pystack("--core " + core + " --exe " + copy + " --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["interpreter"] == python.path);
    CHECK(doc["threads"].size() == 26);
    r = run_pystack("--core " + core + " --exe /bin/ls");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("build-id differs") != std::string::npos);
    CHECK(line_count(r.err) == 1);

    // The interpreter replaced on disk by another build (pyenv's python3.11,
    // which is not even the interpreter): refused in one line; --exe with
    // the original reads the core.
    std::filesystem::remove(python.path);
    std::filesystem::copy_file(interpreter_labelled("pyenv 3.11.7").path, python.path);
    r = run_pystack("--core " + core);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(python.path) != std::string::npos);
    CHECK(r.err.find("another build") != std::string::npos);
    CHECK(line_count(r.err) == 1);
    r = run_pystack("--core " + core + " --exe " + original + " --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    doc = nlohmann::json::parse(r.out);
    CHECK(doc["interpreter"] == python.path);
    CHECK(doc["threads"].size() == 26);

    const std::string pid = std::to_string(service.pid());
    CHECK(run_pystack(pid + " --core " + core).exit_code == 2);
    CHECK(run_pystack("--core " + core + " --nonblocking").exit_code == 2);
    CHECK(run_pystack("--core " + core + " --cpu-window 5").exit_code == 2);
    CHECK(run_pystack("--exe " + copy + " " + pid).exit_code == 2);
    CHECK(run_pystack("--core").exit_code == 2);
    CHECK(service.running());
}

TEST_CASE("triage-pystack --core of a moved application or from another machine: --lib-search-path and --sysroot, "
          "files matched by build-id, the unmatched named") {
    scratch_dir dir;
    const std::string gcore = std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore";
    // A PyInstaller-style application: its own copy of the interpreter,
    // moved away after the core was written.
    python_interpreter python = interpreter_labelled("/usr/bin/python3.11");
    const std::string original = python.path;
    std::filesystem::create_directories(dir.path() + "/app");
    python.path = dir.path() + "/app/python3.11";
    std::filesystem::copy_file(original, python.path);
    std::filesystem::permissions(python.path, std::filesystem::perms::owner_all);
    std::string libm;  // the path of libm as the process mapped it
    {
        python_process service(python, {victim_script("py_stuck_service.py"), dir.path() + "/ready"});
        REQUIRE(service.wait_for_file(dir.path() + "/ready"));
        REQUIRE(run_tool(gcore, std::to_string(service.pid()) + " -o " + dir.path() + "/core").exit_code == 0);
        CHECK(service.running());
        auto maps = triage::procfs::read_maps(service.pid());
        REQUIRE(maps);
        for (const auto& m : *maps)
            if (m.path.find("/libm.so.6") != std::string::npos) libm = m.path;
    }
    REQUIRE(!libm.empty());
    const std::string core = dir.path() + "/core";
    std::filesystem::rename(dir.path() + "/app", dir.path() + "/moved");
    auto r = run_pystack("--core " + core);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("deleted or moved") != std::string::npos);
    CHECK(r.err.find("--lib-search-path") != std::string::npos);

    // Another build of the same name earlier in the search path is passed
    // over for the very build.
    std::filesystem::create_directories(dir.path() + "/other");
    std::filesystem::copy_file(interpreter_labelled("pyenv 3.11.7").path, dir.path() + "/other/python3.11");
    r = run_pystack("--core " + core + " --json --lib-search-path " + dir.path() + "/none:" + dir.path() + "/other:" +
                    dir.path() + "/moved");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto doc = nlohmann::json::parse(r.out);
    CHECK(doc["threads"].size() == 26);
    CHECK(doc["interpreter"] == python.path);
    CHECK(doc["unmatched_files"].empty());
    // Only another build found: refused, naming the file found.
    r = run_pystack("--core " + core + " --lib-search-path " + dir.path() + "/other");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(dir.path() + "/other/python3.11, is another build") != std::string::npos);
    CHECK(line_count(r.err) == 1);

    // A copy of the machine's files: the interpreter and libc, libm there
    // as another build (libz under its name), the rest missing. The stacks
    // are read; libm and the missing objects are named.
    const std::string root = dir.path() + "/sysroot";
    auto place = [&](const std::string& from, const std::string& at) {
        std::filesystem::create_directories(std::filesystem::path(root + at).parent_path());
        std::filesystem::copy_file(from, root + at);
    };
    place(dir.path() + "/moved/python3.11", python.path);
    auto libc_maps = triage::procfs::read_maps(getpid());
    REQUIRE(libc_maps);
    std::string libc, libz;
    for (const auto& m : *libc_maps)
        if (m.path.find("/libc.so.6") != std::string::npos) libc = m.path;
    REQUIRE(!libc.empty());
    place(libc, libc);
    for (const char* candidate : {"/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1"})
        if (std::filesystem::exists(candidate)) libz = candidate;
    REQUIRE(!libz.empty());
    place(libz, libm);
    r = run_pystack("--core " + core + " --json --sysroot " + root);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    doc = nlohmann::json::parse(r.out);
    CHECK(doc["threads"].size() == 26);
    bool libm_named = false;
    for (const auto& f : doc["unmatched_files"]) {
        INFO(f.dump());
        CHECK(f["path"] != python.path);
        CHECK(f["path"] != libc);
        if (f["path"] == libm) {
            libm_named = true;
            CHECK(f["local"] == root + libm);
            CHECK(f["why"].get<std::string>().find("build-id differs") != std::string::npos);
        } else {
            CHECK(f["local"].is_null());
            CHECK(f["why"] == "cannot be opened");
        }
    }
    CHECK(libm_named);
    r = run_pystack("--core " + core + " --sysroot " + root);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Not read from here: " + libm + " (build-id differs") != std::string::npos);
    // Usage: both need --core.
    CHECK(run_pystack("1 --sysroot " + root).exit_code == 2);
    CHECK(run_pystack("1 --lib-search-path " + root).exit_code == 2);
}
