// Cores of real processes, checked by tools we did not write: gdb lists the
// same threads and unwinds the first one through the spinning function;
// eu-stack unwinds the parked threads as it did live; the kernel's own core
// of the same process has the same segments; gdb's gcore and the kernel's
// core read through our reader. coredump_filter and MADV_DONTDUMP are
// respected; sparse memory stays sparse; SIGINT, ENOSPC and a target that
// dies mid-dump leave no file; every victim runs on afterwards.
#include <doctest/doctest.h>

#include <elf.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "coredump/victim_checks.hpp"
#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "support/victim.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/task_ids.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::coredump;
using triage::test_support::victim;

namespace {

std::byte pattern_byte(std::uint64_t i, unsigned seed) { return std::byte((i * 131u + (i >> 8) * 7u + seed * 29u) & 0xffu); }

std::set<pid_t> tids_of(pid_t pid) {
    auto ids = procfs::task_ids(pid);
    REQUIRE(ids);
    return {ids->begin(), ids->end()};
}

std::set<pid_t> tids_of(const core_file& core) {
    std::set<pid_t> out;
    for (const auto& t : core.threads()) out.insert(t.tid);
    return out;
}

// The bytes of the victim's "pattern" buffer read through `core` equal the formula.
void check_pattern(const core_file& core, const victim& v) {
    std::uint64_t address = v.number("pattern", 0, 16);
    std::size_t size = v.number("pattern", 1);
    std::vector<std::byte> bytes(size);
    REQUIRE(memory::read_exact(core, address, bytes));
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < size; ++i) wrong += bytes[i] != pattern_byte(i, 7);
    CHECK(wrong == 0);
}

// PT_LOADs as (start, end, p_filesz, flags) read straight from the file.
struct load {
    std::uint64_t start, end, filesz;
    std::uint32_t flags;
    bool operator==(const load&) const = default;
};
std::vector<load> loads_of(const core_file& core) {
    std::vector<load> out;
    for (const auto& s : core.segments()) out.push_back({s.start, s.end, s.file_size, s.flags});
    return out;
}

dump_options quick() {
    dump_options o;
    o.sample = std::chrono::milliseconds{300};
    return o;
}

} // namespace

TEST_CASE("gdb and eu-stack read our core of a 26-thread victim as they read the live process") {
    test_support::scratch_dir dir{"coredump"};
    victim v{{test_support::victim_path("core_threads")}};
    const std::string exe = test_support::victim_path("core_threads");
    const std::set<pid_t> live_tids = tids_of(v.pid());
    REQUIRE(live_tids.size() == 26);
    const pid_t spinner = static_cast<pid_t>(v.number("spinner", 0));

    auto live = test_support::run_command({"eu-stack", "-p", std::to_string(v.pid())});
    REQUIRE(live.exit_code == 0);
    auto live_frames = coredump_test::eu_stack_frames(live.out);
    CHECK(coredump_test::running_freely(v));

    std::string path = dir / "threads.core";
    auto report = dump_process(v.pid(), path, quick());
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK(coredump_test::running_freely(v));
    CHECK(report->threads == 26);
    CHECK(report->first_tid == spinner);
    CHECK(report->stopped_for > std::chrono::nanoseconds{0});
    CHECK(report->stopped_for < report->elapsed);
    CHECK(report->allocated <= report->bytes_to_copy + 64 * 1024);
    CHECK(dir.entries() == std::vector<std::string>{"threads.core"});

    SUBCASE("gdb lists the same threads and starts on the spinning one") {
        auto gdb = test_support::run_command({"gdb", "-nx", "-batch", "-ex", "info threads", "-ex", "bt", exe, path});
        REQUIRE(gdb.exit_code == 0);
        std::set<pid_t> gdb_tids;
        std::string_view rest = gdb.out;
        while (!rest.empty()) {
            std::string_view line = next_token(rest, '\n');
            auto at = line.find("(LWP ");
            if (at == std::string_view::npos) continue;
            line.remove_prefix(at + 5);
            gdb_tids.insert(static_cast<pid_t>(parse_unsigned<unsigned>(next_token(line, ')')).value_or(0)));
        }
        CHECK(gdb_tids == live_tids);
        auto current = gdb.out.find("\n* 1 ");
        REQUIRE(current != std::string::npos);
        std::string_view current_line = std::string_view{gdb.out}.substr(current + 1);
        current_line = next_token(current_line, '\n');
        CHECK(current_line.find("(LWP " + std::to_string(spinner) + ")") != std::string_view::npos);
        auto bt = gdb.out.find("\n#0 ");
        REQUIRE(bt != std::string::npos);
        CHECK(gdb.out.find("spin_forever", bt) != std::string::npos);
        CHECK(gdb.out.find("start_thread", bt) != std::string::npos);
    }

    SUBCASE("eu-stack unwinds the parked threads to the same frames") {
        auto dead = test_support::run_command({"eu-stack", "--core", path, "-e", exe});
        REQUIRE(dead.exit_code == 0);
        auto core_frames = coredump_test::eu_stack_frames(dead.out);
        CHECK(core_frames.size() == 26);
        std::size_t compared = 0;
        for (const auto& parked : v.all("parked")) {
            std::string_view row = parked;
            long tid = static_cast<long>(parse_unsigned<unsigned>(next_token(row, ' ')).value());
            std::string function{row};
            REQUIRE(live_frames.count(tid) == 1);
            REQUIRE(core_frames.count(tid) == 1);
            CHECK(core_frames[tid] == live_frames[tid]);
            auto& frames = core_frames[tid];
            CHECK(std::find(frames.begin(), frames.end(), function) != frames.end());
            ++compared;
        }
        CHECK(compared == 24);
    }

    SUBCASE("our reader: threads, registers, process facts, memory, DONTDUMP") {
        auto core = core_file::open(path);
        REQUIRE(core);
        CHECK(tids_of(*core) == live_tids);
        CHECK(core->threads().front().tid == spinner);
        REQUIRE(core->process());
        CHECK(core->process()->pid == v.pid());
        CHECK(core->process()->fname == "core_threads");
        CHECK(core->process()->psargs.starts_with(exe));
        CHECK(!core->auxv().empty());
        CHECK(!core->mapped_files().empty());
        check_pattern(*core, v);
        // The MADV_DONTDUMP region is in the core's address space, but no byte of it is held.
        std::uint64_t dd = v.number("dontdump", 0, 16);
        std::size_t dd_size = v.number("dontdump", 1);
        bool listed = false;
        for (const auto& s : core->segments()) {
            if (s.start <= dd && dd < s.end) {
                listed = true;
                CHECK(s.file_size == 0);
            }
        }
        CHECK(listed);
        std::vector<std::byte> bytes(dd_size);
        CHECK(!core->read(dd, bytes));
        // The executable's text was not dumped (filter 0x33) but is read from the file, whose build-id matches.
        bool checked = false;
        for (std::size_t i = 0; i < core->mapped_files().size(); ++i) {
            const auto& f = core->mapped_files()[i];
            if (f.path != exe || f.offset != 0) continue;
            std::array<std::byte, 4> magic{};
            REQUIRE(memory::read_exact(*core, f.start, magic));
            CHECK(std::memcmp(magic.data(), ELFMAG, SELFMAG) == 0);
            CHECK(core->file_check_of(i) == file_check::verified);
            checked = true;
        }
        CHECK(checked);
        // The same entries as maps records: the executable's text is there, executable.
        bool text = false;
        for (const auto& m : core->maps()) text |= m.path == exe && m.executable && m.inode != 0;
        CHECK(text);
    }
    CHECK(coredump_test::running_freely(v));
}

TEST_CASE("the kernel's own core and gdb's gcore of the same process: same segments, readable by our reader") {
    test_support::scratch_dir dir{"coredump"};
    auto pattern_file = read_file("/proc/sys/kernel/core_pattern");
    REQUIRE(pattern_file);
    std::string core_pattern{trim(*pattern_file)};
    auto uses_pid = read_file("/proc/sys/kernel/core_uses_pid");
    victim v{{test_support::victim_path("core_threads")}, {.capture_stderr = true, .working_directory = dir.path(), .unlimited_core = true}};
    const std::set<pid_t> live_tids = tids_of(v.pid());

    std::string ours_path = dir / "ours.core";
    auto report = dump_process(v.pid(), ours_path, quick());
    REQUIRE_MESSAGE(report, failure_text(report));
    auto ours = core_file::open(ours_path);
    REQUIRE(ours);

    // gdb's gcore of a second process of the same program (gdb's attach
    // changes what the kernel would dump of the first one: it is kept for
    // the kernel's core below).
    victim w{{test_support::victim_path("core_threads")}};
    auto ours_w = dump_process(w.pid(), dir / "ours-w.core", quick());
    REQUIRE_MESSAGE(ours_w, failure_text(ours_w));
    auto ours_again = core_file::open(dir / "ours-w.core");
    REQUIRE(ours_again);
    auto gcore = test_support::run_command({"gcore", "-o", dir / "gdb", std::to_string(w.pid())});
    REQUIRE(gcore.exit_code == 0);
    CHECK(coredump_test::running_freely(w));
    auto theirs = core_file::open(dir / ("gdb." + std::to_string(w.pid())));
    REQUIRE(theirs);
    CHECK(tids_of(*theirs) == tids_of(w.pid()));
    check_pattern(*theirs, w);
    // Parked threads sit in system calls: their registers are the same in both cores.
    std::size_t same_registers = 0;
    for (const auto& t : ours_again->threads()) {
        for (const auto& u : theirs->threads()) {
            if (u.tid != t.tid || t.tid == static_cast<pid_t>(w.number("spinner", 0))) continue;
            CHECK(u.general.rip == t.general.rip);
            CHECK(u.general.rsp == t.general.rsp);
            ++same_registers;
        }
    }
    CHECK(same_registers == 25);
    // Where the two should agree: gdb dumps the same written private memory,
    // and neither holds a byte of the MADV_DONTDUMP region.
    std::uint64_t dd = w.number("dontdump", 0, 16);
    std::vector<std::byte> probe(4096);
    CHECK(!theirs->read(dd, probe));
    CHECK(!ours_again->read(dd, probe));
    for (const auto& s : ours_again->segments()) {
        if (s.file_size == 0 || (s.flags & PF_W) == 0) continue;
        bool in_gdb = false;
        for (const auto& g : theirs->segments()) in_gdb |= g.start <= s.start && s.start < g.end && g.file_size > 0;
        CHECK_MESSAGE(in_gdb, "writable segment at ", hex(s.start), " is missing from gdb's core");
    }

    // The kernel's core: SIGABRT with RLIMIT_CORE unlimited, core_pattern as configured.
    if (core_pattern.find('|') != std::string::npos || core_pattern.find('%') != std::string::npos) {
        MESSAGE("kernel core comparison not run: /proc/sys/kernel/core_pattern is '", core_pattern,
                "' (a pipe or a pattern with specifiers); it needs a plain file name");
        return;
    }
    pid_t pid = v.pid();
    int status = v.kill_and_wait(SIGABRT);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WCOREDUMP(status));
    std::string kernel_path = core_pattern.front() == '/' ? core_pattern : dir / core_pattern;
    if (uses_pid && trim(*uses_pid) == "1") kernel_path += "." + std::to_string(pid);
    auto kernel = core_file::open(kernel_path);
    REQUIRE_MESSAGE(kernel, failure_text(kernel));
    CHECK(tids_of(*kernel) == live_tids);
    CHECK(kernel->signal() == SIGABRT);
    CHECK(kernel->threads().front().signal == SIGABRT);
    REQUIRE(kernel->process());
    CHECK(kernel->process()->pid == pid);
    check_pattern(*kernel, v);
    // The same mappings, dumped to the same extent, as the kernel decided.
    CHECK(loads_of(*kernel) == loads_of(*ours));
    struct ::stat k{}, o{};
    REQUIRE(::stat(kernel_path.c_str(), &k) == 0);
    REQUIRE(::stat(ours_path.c_str(), &o) == 0);
    CHECK(k.st_size == o.st_size);
}

TEST_CASE("coredump_filter decides what is dumped") {
    test_support::scratch_dir dir{"coredump"};
    victim v{{test_support::victim_path("core_threads")}};
    {
        std::ofstream filter("/proc/" + std::to_string(v.pid()) + "/coredump_filter");
        filter << "0x10";  // ELF headers only
    }
    auto report = dump_process(v.pid(), dir / "headers.core", quick());
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK(report->filter.bits == 0x10);
    auto core = core_file::open(dir / "headers.core", core_file_options{.read_mapped_files = false, .substitutes = {}});
    REQUIRE(core);
    auto maps = procfs::read_maps(v.pid());
    REQUIRE(maps);
    std::size_t headers = 0;
    for (const auto& s : core->segments()) {
        if (s.file_size == 0) continue;
        bool elf_start = false, special = false;
        for (const auto& m : *maps) {
            if (m.start != s.start) continue;
            elf_start = m.is_file() && m.offset == 0;
            special = m.path == "[vdso]" || m.path == "[vvar]" || m.path == "[vvar_vclock]" || m.path == "[vsyscall]";
        }
        CHECK_MESSAGE((elf_start || special), "segment at ", hex(s.start), " dumped despite filter 0x10");
        if (elf_start) {
            CHECK(s.file_size == 4096);
            ++headers;
        }
    }
    CHECK(headers >= 3);  // the victim, libc, ld.so at least
    std::vector<std::byte> bytes(16);
    CHECK(!core->read(v.number("pattern", 0, 16), bytes));  // .bss/.data not dumped
    CHECK(coredump_test::running_freely(v));
}

TEST_CASE("a 1 GiB mapping with 16 touched pages gives a sparse core") {
    test_support::scratch_dir dir{"coredump"};
    victim v{{test_support::victim_path("core_sparse")}};
    std::uint64_t address = v.number("sparse", 0, 16);
    std::uint64_t size = v.number("sparse", 1);
    auto report = dump_process(v.pid(), dir / "sparse.core", quick());
    REQUIRE_MESSAGE(report, failure_text(report));
    CHECK(report->file_size > size);
    CHECK(report->allocated < 8u << 20);  // 16 pages + the libraries' data; not 1 GiB
    CHECK(report->bytes_to_copy < 8u << 20);
    auto core = core_file::open(dir / "sparse.core");
    REQUIRE(core);
    bool whole = false;
    for (const auto& s : core->segments()) whole |= s.start == address && s.file_size == size;
    CHECK(whole);  // the mapping is dumped in full: its untouched pages are holes
    for (std::uint64_t k = 0; k < 16; ++k) {
        std::array<std::byte, 2> two{};
        std::uint64_t page = address + k * (size / 16);
        REQUIRE(memory::read_exact(*core, page + 4095, two));
        CHECK(two[0] == std::byte(0x40 + k));
        CHECK(two[1] == std::byte{0});  // the next page was never touched
    }
    CHECK(coredump_test::running_unstopped(v));
}

TEST_CASE("copied to memory first or written while stopped: the same core, and only the copy stops the target") {
    test_support::scratch_dir dir{"coredump"};
    victim v{coredump_test::still_victim()};
    REQUIRE(coredump_test::parked_in_pause(v.pid()));
    dump_options to_memory = quick(), to_file = quick();
    to_memory.strategy = copy_strategy::to_memory;
    to_file.strategy = copy_strategy::to_file;
    auto first = dump_process(v.pid(), dir / "memory.core", to_memory);
    REQUIRE_MESSAGE(first, failure_text(first));
    auto second = dump_process(v.pid(), dir / "file.core", to_file);
    REQUIRE_MESSAGE(second, failure_text(second));
    CHECK(first->copied_to_memory);
    CHECK_FALSE(second->copied_to_memory);
    CHECK(first->bytes_written == second->bytes_written);
    CHECK(first->allocated == second->allocated);
    CHECK(coredump_test::running_unstopped(v));

    // Every segment of the sleeping victim holds the same bytes in both,
    // except the kernel's clock pages, which move on their own.
    auto a = core_file::open(dir / "memory.core", core_file_options{.read_mapped_files = false, .substitutes = {}});
    auto b = core_file::open(dir / "file.core", core_file_options{.read_mapped_files = false, .substitutes = {}});
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(loads_of(*a) == loads_of(*b));
    auto maps = procfs::read_maps(v.pid());
    REQUIRE(maps);
    std::size_t compared = 0;
    for (const auto& s : a->segments()) {
        if (s.file_size == 0) continue;
        std::string path;
        for (const auto& m : *maps)
            if (m.start == s.start) path = m.path;
        if (path.starts_with("[vvar")) continue;
        CAPTURE(hex(s.start));
        CAPTURE(path);
        std::vector<std::byte> x(1 << 20), y(1 << 20);
        std::size_t differing = 0;
        for (std::uint64_t at = s.start; at < s.start + s.file_size; at += x.size()) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(x.size(), s.start + s.file_size - at));
            auto nx = a->read(at, std::span{x}.first(n)), ny = b->read(at, std::span{y}.first(n));
            const bool differs = nx.value_or(0) != ny.value_or(0) || !std::equal(x.begin(), x.begin() + n, y.begin());
            if (differs) {
                auto [p, q] = std::mismatch(x.begin(), x.begin() + n, y.begin());
                MESSAGE("first difference at " << hex(at + static_cast<std::uint64_t>(p - x.begin())));
            }
            differing += differs;
        }
        CHECK(differing == 0);
        ++compared;
    }
    CHECK(compared > 10);

    // Killed once the copy is taken: the core is still written, whole.
    dump_options killing = to_memory;
    pid_t pid = v.pid();
    killing.write.progress = coredump_test::kill_at_first_chunk(pid);
    auto after = dump_process(pid, dir / "after.core", killing);
    REQUIRE_MESSAGE(after, failure_text(after));
    CHECK(after->bytes_written == first->bytes_written);
}

TEST_CASE("triage-gcore: JSON report; SIGINT, SIGTERM and SIGHUP mid-dump, twice, leave no file and a running target") {
    test_support::scratch_dir dir{"coredump"};
    const std::string tool = std::string{TRIAGE_EXAMPLE_DIR} + "/triage-gcore";

    victim small{{test_support::victim_path("core_threads")}};
    auto json = test_support::run_command({tool, std::to_string(small.pid()), "-o", dir / "small.core", "--json", "--sample-ms", "300"});
    REQUIRE_MESSAGE(json.exit_code == 0, json.err);
    auto doc = nlohmann::json::parse(json.out);
    CHECK(doc["pid"] == small.pid());
    CHECK(doc["threads"] == 26);
    CHECK(doc["first_thread"] == small.number("spinner", 0));
    CHECK(doc["allocated_bytes"].get<std::uint64_t>() > 0);
    CHECK(doc["stopped_seconds"].get<double>() > 0);
    auto usage = test_support::run_command({tool, "not-a-pid"});
    CHECK(usage.exit_code == 2);
    // Above the kernel's PID_MAX_LIMIT no process can exist: a usage error.
    CHECK(test_support::run_command({tool, "999999999"}).exit_code == 2);
    auto gone = test_support::run_command({tool, "4194303"});  // a pid no process holds here
    CHECK(gone.exit_code == 1);
    CHECK(gone.err.find("no such process") != std::string::npos);
    CHECK(std::count(gone.err.begin(), gone.err.end(), '\n') == 1);

    victim big{{test_support::victim_path("core_big"), "1024"}};
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
        CAPTURE(signal);
        std::string target = dir / "big.core";
        test_support::child_process gcore{{tool, std::to_string(big.pid()), "-o", target, "--sample-ms", "0"}};
        // Wait until it holds the target (it is copying then), and interrupt it.
        bool attached = false;
        for (int i = 0; i < 20000 && !attached; ++i) {
            // The tracer is a thread of gcore (its session's tracer thread).
            const long tracer = test_support::tracer_pid(big.pid());
            auto tracer_status = triage::procfs::read_status(static_cast<pid_t>(tracer));
            attached = tracer > 0 && tracer_status && tracer_status->tgid == gcore.pid();
            if (!attached) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        CHECK(attached);
        REQUIRE(::kill(gcore.pid(), signal) == 0);
        // An impatient second signal (Ctrl+C again) must not kill it before it cleans up.
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
        (void)::kill(gcore.pid(), signal);
        auto status = gcore.wait_for_exit(std::chrono::seconds{60});
        REQUIRE(status.has_value());
        CHECK(WIFEXITED(*status));
        CHECK(WEXITSTATUS(*status) == 1);
        CHECK(dir.entries() == std::vector<std::string>{"small.core"});
        CHECK(coredump_test::running_freely(big));
    }
}

TEST_CASE("a full disk and a target that dies mid-dump: no file, a clear error") {
    test_support::scratch_dir dir{"coredump"};
    victim v{{test_support::victim_path("core_threads")}};
    std::string mount_point = dir / "tiny";
    REQUIRE(::mkdir(mount_point.c_str(), 0755) == 0);
    if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=256k") != 0) {
        MESSAGE("ENOSPC cases not run: mounting a 256 KiB tmpfs failed (", std::strerror(errno), "); run as root");
    } else {
        struct unmount_at_end {
            std::string path;
            ~unmount_at_end() { ::umount2(path.c_str(), MNT_DETACH); }
        } unmount{mount_point};
        // Checked before starting: the expected size does not fit.
        auto early = dump_process(v.pid(), mount_point + "/core", quick());
        REQUIRE(!early);
        CHECK(early.error().code == errc::no_space);
        CHECK(early.error().message().find(" are free") != std::string::npos);
        CHECK(coredump_test::running_freely(v));
        // Not checked: the write itself fails with ENOSPC part way.
        dump_options unchecked = quick();
        unchecked.check_free_space = false;
        auto late = dump_process(v.pid(), mount_point + "/core", unchecked);
        REQUIRE(!late);
        CHECK(late.error().code == errc::no_space);
        CHECK(late.error().message().find(mount_point + "/core") != std::string::npos);
        CHECK(test_support::run_command({"ls", "-A", mount_point}).out.empty());
        CHECK(coredump_test::running_freely(v));
    }

    // The target dies while its memory is being written out, held stopped.
    dump_options killing = quick();
    killing.strategy = copy_strategy::to_file;
    killing.write.chunk_bytes = 64 * 1024;
    pid_t pid = v.pid();
    killing.write.progress = coredump_test::kill_at_first_chunk(pid);
    auto died = dump_process(pid, dir / "dead.core", killing);
    REQUIRE(!died);
    CHECK(died.error().code == errc::no_such_process);
    CHECK(died.error().message().find("exited during the dump") != std::string::npos);
    CHECK(dir.entries() == std::vector<std::string>{"tiny"});
}
