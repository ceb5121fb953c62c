// triage/coredump/live_dump.hpp — write a core file of a running process,
// stopping it only while its memory is copied.
//
// Offers: `dump_process(pid, path, options)` → `dump_report`. It composes
// procfs (facts, CPU sample, smaps, coredump_filter), ptrace::session (stop,
// registers), page_map (what is resident), memory::live_process (batched
// process_vm_readv) and write_core (writer.hpp) into output_file
// (output_file.hpp). In order:
//   1. running: the hottest thread — most CPU over `options.sample` (two
//      sweeps of /proc/PID/task/*/stat), else one in state R, else the main
//      thread — goes first in the core, so gdb opens on it; the others
//      follow by tid. Process facts for NT_PRPSINFO (stat, status, comm,
//      cmdline), NT_AUXV (/proc/PID/auxv), coredump_filter. The output file
//      is created (unnamed until complete), and the room for the copy
//      reserved (see below), during the sampling window.
//   2. stopped (ptrace::session::attach): registers of every thread
//      (NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE), per-thread signal masks and
//      CPU times, the mappings and their VmFlags (smaps), the decision per
//      mapping (dump_filter.hpp), resident pages (pagemap); free space is
//      checked against the bytes to copy; memory is copied; released.
//      Where it is copied is `options.strategy`: by default (automatic)
//      into our own memory (memory::snapshot, reserved and faulted in at
//      step 1, sized by VmRSS) when that fits in half of MemAvailable, so
//      the target is stopped only for a memory-to-memory copy; otherwise
//      straight into the file, the target stopped until the last byte is
//      written (the report says which: copied_to_memory).
//      Pages of dumped file mappings that are not resident are read from
//      the mapped file (/proc/PID/map_files, else the path when it is the
//      same inode), not faulted into the target.
//   3. running again: the core is written (from the copy), and the file is
//      given its name.
// Errors: every failure releases the target and removes the partial file
// (the file has no name until step 3); the error names what happened:
// no_such_process (gone before or during the dump: "the process exited
// during the dump"), permission_denied, already_traced, no_space (before:
// "need N bytes, M free"; during: the write that failed), interrupted
// (options.write.cancel was set, e.g. by the caller's SIGINT handler; a
// SIGINT/SIGTERM without a handler of the caller's is caught by the ptrace
// session's guard, which releases the target before the program dies, and
// the unnamed file vanishes with it).
// Thread-safe: call from one thread (ptrace ties the target to it).
// Signal-safe: no.
// Target process: every thread is stopped from the attach to the end of
// the copy (`dump_report::stopped`); nothing is written to it; its pages
// are read, and only those present or swapped (swapped ones are swapped
// in by the read, as for the kernel's own dump).
//
//   triage::coredump::dump_options options;
//   auto report = TRIAGE_TRY(triage::coredump::dump_process(pid, "core." + std::to_string(pid), options));
//   fmt::print("{} threads, {} bytes, stopped {} ms\n", report.threads, report.bytes_written,
//              report.stopped.count() / 1000000);
#pragma once

#include <elf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "triage/base/read_file.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/coredump/dump_filter.hpp"
#include "triage/coredump/output_file.hpp"
#include "triage/coredump/page_map.hpp"
#include "triage/coredump/records.hpp"
#include "triage/coredump/writer.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/memory/snapshot.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/status.hpp"
#include "triage/ptrace/session.hpp"

namespace triage::coredump {

// Where the target's memory goes while the target is stopped.
enum class copy_strategy : std::uint8_t {
    automatic,      // to_memory when the copy fits in half of MemAvailable, else to_file
    to_memory,      // copy into our own memory, release the target, then write the file
    to_file,        // write the file while the target is stopped (no extra memory)
};

struct dump_options {
    std::chrono::milliseconds sample{100};  // CPU sampling window for the hottest thread (0: state only)
    std::optional<dump_filter> filter;      // default: the target's /proc/PID/coredump_filter
    bool check_free_space = true;
    copy_strategy strategy = copy_strategy::automatic;
    write_options write;  // chunk size, cancel flag, progress callback
};

struct dump_report {
    pid_t pid = 0;
    std::string path;
    std::size_t threads = 0;
    pid_t first_thread = 0;         // the thread gdb opens on
    std::optional<double> first_thread_cpu;  // its CPU% over the sample
    std::size_t mappings = 0;       // PT_LOAD segments
    std::size_t mappings_dumped = 0;  // with p_filesz > 0
    std::uint64_t bytes_to_copy = 0;  // headers + resident pages of dumped ranges (the free-space check)
    std::uint64_t bytes_written = 0;  // non-zero bytes written
    std::uint64_t file_size = 0;
    std::uint64_t allocated = 0;  // st_blocks × 512
    dump_filter filter;
    bool copied_to_memory = false;  // the strategy used: to_memory (true) or to_file
    std::chrono::nanoseconds stopped{0};
    std::chrono::nanoseconds elapsed{0};
};

namespace detail {
struct thread_order {
    pid_t first = 0;
    std::optional<double> cpu;
};

// The hottest thread over a sampling window that began with `before` (no
// window: `before` is empty, and a thread in state R is taken).
[[nodiscard]] inline result<thread_order> hottest_thread(const procfs::proc_dir& dir,
                                                         const std::optional<procfs::cpu_sample>& before) {
    procfs::cpu_sample after = TRIAGE_TRY(procfs::sample_cpu(dir));
    if (before) {
        auto usage = procfs::cpu_usage(*before, after);
        const procfs::thread_cpu* hottest = nullptr;
        for (const auto& t : usage)
            if (t.cpu_percent && *t.cpu_percent > 0 && (hottest == nullptr || *t.cpu_percent > *hottest->cpu_percent))
                hottest = &t;
        if (hottest != nullptr) return thread_order{hottest->stat.pid, hottest->cpu_percent};
    }
    for (const auto& t : after.threads)
        if (t.state == 'R') return thread_order{t.pid, std::nullopt};
    return thread_order{dir.pid(), std::nullopt};
}

[[nodiscard]] inline std::chrono::microseconds ticks_to_us(std::uint64_t ticks) {
    return std::chrono::microseconds{static_cast<std::int64_t>(ticks * 1000000 / static_cast<std::uint64_t>(procfs::clock_ticks_per_second()))};
}

// The file behind a mapping, without going through the target: its
// map_files link (root), else its path when that is still the same inode.
[[nodiscard]] inline unique_fd open_mapped_file(pid_t pid, const procfs::mapping& m) {
    std::string link = "/proc/" + std::to_string(pid) + "/map_files/" + std::string{hex(m.start).substr(2)} + "-" +
                       std::string{hex(m.end).substr(2)};
    int fd = ::open(link.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) return unique_fd{fd};
    if (m.deleted || !m.is_file()) return {};
    fd = ::open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    unique_fd file{fd};
    struct ::stat st{};
    if (::fstat(fd, &st) != 0 || st.st_ino != m.inode || major(st.st_dev) != m.dev_major || minor(st.st_dev) != m.dev_minor)
        return {};
    return file;
}

// MemAvailable of /proc/meminfo in bytes, 0 when unknown.
[[nodiscard]] inline std::uint64_t memory_available() {
    auto text = read_file("/proc/meminfo");
    if (!text) return 0;
    std::string_view rest = *text;
    while (!rest.empty()) {
        auto pair = split_key_value(next_line(rest));
        if (pair && pair->key == "MemAvailable") return parse_kb(pair->value).value_or(0) * 1024;
    }
    return 0;
}

// Whether `bytes` go to memory first; `reserved` bytes of room are held
// already (and no longer counted in MemAvailable).
[[nodiscard]] inline bool copy_to_memory(copy_strategy strategy, std::uint64_t bytes, std::uint64_t reserved = 0) {
    if (strategy != copy_strategy::automatic) return strategy == copy_strategy::to_memory;
    return bytes <= reserved || bytes - reserved <= memory_available() / 2;
}

[[nodiscard]] inline std::uint32_t segment_flags(const procfs::mapping& m) noexcept {
    return (m.readable ? PF_R : 0u) | (m.writable ? PF_W : 0u) | (m.executable ? PF_X : 0u);
}

// The runs of one dumped range: resident pages from memory; for a file
// mapping, the gaps between them from the file.
inline void add_runs(core_segment& segment, const procfs::mapping& m, std::uint64_t end,
                     const std::vector<page_run>& resident, int fd) {
    std::uint64_t at = m.start;
    auto file_gap = [&](std::uint64_t from, std::uint64_t to) {
        if (fd >= 0 && to > from) segment.content.push_back(content_run{from, to - from, fd, m.offset + (from - m.start)});
    };
    for (const page_run& r : resident) {
        std::uint64_t from = std::max(r.address, m.start);
        std::uint64_t to = std::min(r.address + r.size, end);
        if (from >= to) continue;
        file_gap(at, from);
        segment.content.push_back(content_run{from, to - from, -1, 0});
        at = to;
    }
    file_gap(at, end);
}
} // namespace detail

[[nodiscard]] inline result<dump_report> dump_process(pid_t pid, const std::string& path, const dump_options& options = {}) {
    const auto started = std::chrono::steady_clock::now();
    dump_report report;
    report.pid = pid;
    report.path = path;
    procfs::proc_dir dir = TRIAGE_TRY(procfs::proc_dir::open(pid));

    // 1. While it runs.
    report.filter = options.filter ? *options.filter : TRIAGE_TRY(read_dump_filter(dir));
    // The CPU sampling window runs while the rest of step 1 is done.
    std::optional<procfs::cpu_sample> window_start;
    if (options.sample.count() > 0) window_start = TRIAGE_TRY(procfs::sample_cpu(dir));
    const auto window_end = std::chrono::steady_clock::now() + options.sample;
    core_layout layout;
    procfs::task_stat leader = TRIAGE_TRY(procfs::read_stat(dir));
    procfs::task_status status = TRIAGE_TRY(procfs::read_status(dir));
    std::string cmdline = TRIAGE_TRY(dir.read_all(procfs::whole_process, "cmdline"));
    std::string auxv = TRIAGE_TRY(dir.read_all(procfs::whole_process, "auxv"));
    core_process& process = layout.process;
    process.pid = pid;
    process.ppid = leader.ppid;
    process.pgrp = leader.pgrp;
    process.sid = leader.session;
    process.uid = status.uid[0];
    process.gid = status.gid[0];
    process.state = leader.state;
    process.nice = static_cast<int>(leader.nice);
    process.flags = leader.flags;
    process.fname = std::string{leader.comm.view()};
    process.psargs = cmdline.substr(0, 79);
    std::replace(process.psargs.begin(), process.psargs.end(), '\0', ' ');  // as fill_psinfo(), the last NUL too
    auto auxv_bytes = std::as_bytes(std::span{auxv.data(), auxv.size()});
    process.auxv.assign(auxv_bytes.begin(), auxv_bytes.end());
    memory::live_process memory = TRIAGE_TRY(memory::live_process::open(pid));
    output_file out = TRIAGE_TRY(output_file::create(path));
    page_map pages = TRIAGE_TRY(page_map::open(pid));
    // Room for the copy, its pages faulted in while the target still runs
    // (sized by its resident set; the copy grows it if that falls short).
    memory::snapshot copy;
    const std::uint64_t rss = status.vm_rss_kb.value_or(0) * 1024;
    if (detail::copy_to_memory(options.strategy, rss)) {
        if (auto reserved = memory::snapshot::reserve(rss)) copy = std::move(*reserved);
    }
    std::this_thread::sleep_until(window_end);
    detail::thread_order order = TRIAGE_TRY(detail::hottest_thread(dir, window_start));

    // 2. Stopped.
    ptrace::session session = TRIAGE_TRY(ptrace::session::attach(pid));
    auto gone = [&](error e) {
        if (options.write.cancel != nullptr && *options.write.cancel != 0)
            return fail(errc::interrupted, "dumping process " + std::to_string(pid),
                        "stopped by a signal; the target was released and no core was written");
        if (e.code == errc::no_such_process || !dir.alive())
            return fail(errc::no_such_process, "dumping process " + std::to_string(pid),
                        "the process exited during the dump; no core was written");
        return fail(std::move(e));
    };
    std::vector<pid_t> tids = session.threads();
    auto first = std::find(tids.begin(), tids.end(), order.first);
    if (first == tids.end()) first = std::find(tids.begin(), tids.end(), pid);
    if (first != tids.end()) std::rotate(tids.begin(), first, first + 1);
    report.first_thread = tids.empty() ? pid : tids.front();
    report.first_thread_cpu = order.first == report.first_thread ? order.cpu : std::nullopt;
    for (pid_t tid : tids) {
        auto regs = session.registers(tid);
        if (!regs) return gone(std::move(regs.error()));
        core_thread t;
        t.tid = tid;
        t.general = regs->general;
        t.fp = regs->fp;
        t.xstate = std::move(regs->xstate);
        t.ppid = leader.ppid;
        t.pgrp = leader.pgrp;
        t.sid = leader.session;
        auto st = procfs::read_stat(dir, tid);
        auto ts = procfs::read_status(dir, tid);
        if (!st || !ts) return gone(st ? std::move(ts.error()) : std::move(st.error()));
        t.sig_pending = ts->sig_pending;
        t.sig_blocked = ts->sig_blocked;
        // The leader's record carries the process totals, as fill_prstatus() does.
        const procfs::task_stat& times = tid == pid ? leader : *st;
        t.user_time = detail::ticks_to_us(times.utime);
        t.system_time = detail::ticks_to_us(times.stime);
        t.children_user_time = detail::ticks_to_us(static_cast<std::uint64_t>(std::max<std::int64_t>(leader.cutime, 0)));
        t.children_system_time = detail::ticks_to_us(static_cast<std::uint64_t>(std::max<std::int64_t>(leader.cstime, 0)));
        layout.threads.push_back(std::move(t));
    }
    auto regions = read_regions(dir);
    if (!regions) return gone(std::move(regions.error()));
    std::vector<unique_fd> files;
    std::vector<page_run> resident;
    for (const region& r : *regions) {
        const procfs::mapping& m = r.map;
        core_segment segment{m.start, m.end, detail::segment_flags(m), 0, {}};
        if (m.is_file()) layout.files.push_back(mapped_file{m.start, m.end, m.offset, m.path + (m.deleted ? " (deleted)" : "")});
        bool file_backed = m.inode != 0 && !m.path.empty() && m.path.front() == '/';
        unique_fd file;
        bool executable = false;
        if (file_backed && m.offset == 0 && m.readable) {
            file = detail::open_mapped_file(pid, m);
            struct ::stat st{};
            executable = file && ::fstat(file.get(), &st) == 0 && (st.st_mode & 0111) != 0;
        }
        extent e = decide(r, report.filter, executable);
        if (e == extent::first_page_if_elf) {
            char magic[SELFMAG]{};
            bool elf = file && ::pread(file.get(), magic, sizeof magic, 0) == SELFMAG && std::memcmp(magic, ELFMAG, SELFMAG) == 0;
            e = elf ? extent::first_page : extent::nothing;
        }
        if (e != extent::nothing) {
            segment.dump_size = e == extent::whole ? m.size() : std::min(page_size, m.size());
            std::uint64_t end = m.start + segment.dump_size;
            if (r.special()) {
                segment.content.push_back(content_run{m.start, segment.dump_size, -1, 0});
            } else {
                resident.clear();
                if (!pages.resident_runs(m.start, end, resident)) resident.assign(1, page_run{m.start, end - m.start});
                if (file_backed && !file) file = detail::open_mapped_file(pid, m);
                detail::add_runs(segment, m, end, resident, file_backed ? file.get() : -1);
            }
            ++report.mappings_dumped;
        }
        if (file) files.push_back(std::move(file));
        layout.segments.push_back(std::move(segment));
    }
    report.threads = layout.threads.size();
    report.mappings = layout.segments.size();
    report.bytes_to_copy = expected_bytes(layout);
    if (options.check_free_space) {
        std::uint64_t free = TRIAGE_TRY(out.free_space());
        if (free < report.bytes_to_copy)
            return fail(errc::no_space, "writing " + path + ": the core needs up to " + std::to_string(report.bytes_to_copy) +
                                            " bytes and " + std::to_string(free) + " are free");
    }
    std::vector<memory::address_range> from_memory;
    for (const auto& segment : layout.segments)
        for (const auto& run : segment.content)
            if (run.fd < 0) from_memory.push_back({run.address, run.size});
    std::uint64_t memory_bytes = 0;
    for (const auto& r : from_memory) memory_bytes += r.size;
    report.copied_to_memory = detail::copy_to_memory(options.strategy, memory_bytes, copy.reserved());
    result<write_stats> stats;
    if (report.copied_to_memory) {
        auto taken = copy.take(memory, from_memory, {options.write.chunk_bytes, options.write.cancel});
        if (!taken) return gone(std::move(taken.error()));
        TRIAGE_TRY(session.release());
        report.stopped = session.stopped_for();
        stats = write_core(layout, copy, out, options.write);
        if (!stats) return gone(std::move(stats.error()));
    } else {
        copy = memory::snapshot{};  // the reservation, if any, is not needed
        stats = write_core(layout, memory, out, options.write);
        if (!stats) return gone(std::move(stats.error()));
        TRIAGE_TRY(session.release());
        report.stopped = session.stopped_for();
    }

    // 3. Running again.
    TRIAGE_TRY(out.commit());
    report.bytes_written = stats->bytes_written;
    report.file_size = stats->file_size;
    report.allocated = stats->allocated;
    report.elapsed = std::chrono::steady_clock::now() - started;
    return report;
}

} // namespace triage::coredump
