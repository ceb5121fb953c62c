// triage/coredump/impl/live_dump.ipp — the definitions of
// triage/coredump/live_dump.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <elf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "triage/base/read_file.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/coredump/dump_filter.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/coredump/output_file.hpp"
#include "triage/coredump/page_map.hpp"
#include "triage/coredump/records.hpp"
#include "triage/coredump/writer.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/memory/snapshot.hpp"
#include "triage/procfs/cgroup_memory.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/hottest.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/smaps_rollup.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/status.hpp"
#include "triage/ptrace/reap_guardian.hpp"
#include "triage/ptrace/registers.hpp"
#include "triage/ptrace/session.hpp"

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL hot_thread busiest_thread(const std::optional<procfs::cpu_sample>& before, const procfs::cpu_sample& after) {
    if (before) {
        auto top = procfs::cpu_usage(*before, after) | procfs::hottest(1);
        if (!top.empty() && top.front().cpu_percent.value_or(0) > 0) return {top.front().stat.tid, top.front().cpu_percent};
    }
    for (const auto& t : after.threads)
        if (t.stat.state == 'R') return {t.stat.tid, std::nullopt};
    return {after.pid, std::nullopt};
}

} // namespace triage::coredump

namespace triage::coredump::detail {

[[nodiscard]] TRIAGE_DECL std::chrono::microseconds ticks_to_us(std::uint64_t ticks) {
    return std::chrono::microseconds{static_cast<std::int64_t>(ticks * 1000000 / static_cast<std::uint64_t>(procfs::clock_ticks_per_second()))};
}

[[nodiscard]] TRIAGE_DECL bool cancelled(const volatile std::sig_atomic_t* cancel) noexcept { return cancel != nullptr && *cancel != 0; }

// Sleeps until `deadline` in slices of at most 10 ms, so that a signal
// handler's flag ends the wait at once.
TRIAGE_DECL void wait_until(std::chrono::steady_clock::time_point deadline, const volatile std::sig_atomic_t* cancel) {
    for (auto now = std::chrono::steady_clock::now(); now < deadline && !cancelled(cancel); now = std::chrono::steady_clock::now()) {
        const auto slice = std::min<std::chrono::nanoseconds>(deadline - now, std::chrono::milliseconds{10});
        const timespec ts{static_cast<time_t>(slice.count() / 1'000'000'000), static_cast<long>(slice.count() % 1'000'000'000)};
        ::nanosleep(&ts, nullptr);  // EINTR: a handler ran; the loop looks at the flag
    }
}

// The file behind a mapping, without going through the target: its
// map_files link (root), else its path when that is still the same inode.
[[nodiscard]] TRIAGE_DECL unique_fd open_mapped_file(pid_t pid, const procfs::mapping& m) {
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
[[nodiscard]] TRIAGE_DECL std::uint64_t memory_available() {
    auto text = read_file("/proc/meminfo");
    if (!text) return 0;
    std::string_view rest = *text;
    while (!rest.empty()) {
        auto pair = split_key_value(next_line(rest));
        if (pair && pair->key == "MemAvailable") return parse_kb(pair->value).value_or(0) * 1024;
    }
    return 0;
}

// The memory `pid` may still take: MemAvailable, or less when its cgroup
// has less headroom.
[[nodiscard]] TRIAGE_DECL std::uint64_t memory_free_for(pid_t pid) {
    std::uint64_t free = memory_available();
    if (auto cgroup = procfs::read_cgroup_memory(pid))
        if (auto room = cgroup->headroom()) free = std::min(free, *room);
    return free;
}

// Whether `bytes` go to memory first; `reserved` bytes of room are held
// already (and no longer counted as free). fork_snapshot decides as
// automatic: it copies only when the fork failed.
[[nodiscard]] TRIAGE_DECL bool copy_to_memory(copy_strategy strategy, std::uint64_t bytes, std::uint64_t reserved = 0) {
    if (strategy == copy_strategy::to_memory || strategy == copy_strategy::to_file) return strategy == copy_strategy::to_memory;
    return bytes <= reserved || bytes - reserved <= memory_free_for(::getpid()) / 2;
}

struct strategy_choice {
    copy_strategy strategy;
    std::string reason;
};

// What `automatic` means for a process holding `bytes` to dump (see
// copy_strategy); any other strategy is kept, with its reason.
[[nodiscard]] TRIAGE_DECL strategy_choice choose_strategy(copy_strategy asked, pid_t pid, const procfs::task_status& status,
                                                          std::uint64_t bytes) {
    const std::string mib = std::to_string(bytes >> 20) + " MiB";
    if (asked == copy_strategy::to_memory) return {asked, "asked: copy to memory in the stop"};
    if (asked == copy_strategy::to_file) return {asked, "asked: write the file in the stop"};
    if (asked == copy_strategy::fork_snapshot) return {asked, "asked: fork a copy-on-write snapshot"};
    std::string no_fork = "asked to copy in the stop";
    const std::uint64_t machine = memory_available();
    std::optional<std::uint64_t> cgroup_room;
    if (auto cgroup = procfs::read_cgroup_memory(pid)) cgroup_room = cgroup->headroom();
    const std::uint64_t room = std::min(machine, cgroup_room.value_or(machine));
    const std::string where = cgroup_room && *cgroup_room < machine ? "free in its cgroup" : "available on the machine";
#if !defined(__x86_64__)
    no_fork = "a fork snapshot is made on x86-64 only";
#else
    if (asked == copy_strategy::copy_in_stop) {
    } else if (status.seccomp != 0) no_fork = "it runs under seccomp, whose filter may kill it for a clone()";
    else if (bytes > room)
        no_fork = "the pages it may rewrite during a fork snapshot's dump (up to " + mib + ") do not fit in the " +
                  std::to_string(room >> 20) + " MiB " + where;
    else no_fork.clear();
#endif
    if (no_fork.empty())
        return {copy_strategy::fork_snapshot, "fork: a copy-on-write snapshot; the pages it may rewrite during the dump (up to " +
                                                  mib + ") fit in the " + std::to_string(room >> 20) + " MiB " + where};
    const std::uint64_t ours = memory_free_for(::getpid());
    if (bytes <= ours / 2)
        return {copy_strategy::to_memory, "memory: " + no_fork + "; the copy (" + mib + ") fits in half of the " +
                                              std::to_string(ours >> 20) + " MiB free for us"};
    return {copy_strategy::to_file, "file: " + no_fork + "; a copy (" + mib + ") does not fit in half of the " +
                                        std::to_string(ours >> 20) + " MiB free for us"};
}

[[nodiscard]] TRIAGE_DECL std::uint32_t segment_flags(const procfs::mapping& m) noexcept {
    return (m.readable ? PF_R : 0u) | (m.writable ? PF_W : 0u) | (m.executable ? PF_X : 0u);
}

// The runs of one dumped range: resident pages from memory; for a file
// mapping, the gaps between them from the file.
TRIAGE_DECL void add_runs(core_segment& segment, const procfs::mapping& m, std::uint64_t end,
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

// The PT_LOADs (and NT_FILE entries) of the process's mappings, as the
// kernel would dump them under `filter`, into `layout`; the mapped files
// the runs read stay open in `files`. Returns how many segments hold data.
// `shared_pages`, when given, tells the resident pages of shared mappings
// (a fork's own page tables do not map them).
[[nodiscard]] TRIAGE_DECL std::size_t lay_out_segments(pid_t pid, const std::vector<region>& regions, dump_filter filter,
                                                       page_map& pages, core_layout& layout, std::vector<unique_fd>& files,
                                                       page_map* shared_pages = nullptr) {
    std::size_t dumped = 0;
    std::vector<page_run> resident;
    for (const region& r : regions) {
        const procfs::mapping& m = r.map;
        core_segment segment{m.start, m.end, segment_flags(m), 0, {}};
        if (m.is_file()) layout.files.push_back(mapped_file{m.start, m.end, m.offset, m.path + (m.deleted ? " (deleted)" : "")});
        bool file_backed = m.inode != 0 && !m.path.empty() && m.path.front() == '/';
        unique_fd file;
        bool executable = false;
        if (file_backed && m.offset == 0 && m.readable) {
            file = open_mapped_file(pid, m);
            struct ::stat st{};
            executable = file && ::fstat(file.get(), &st) == 0 && (st.st_mode & 0111) != 0;
        }
        extent e = decide(r, filter, executable);
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
                page_map& residency = r.vm_shared && shared_pages != nullptr ? *shared_pages : pages;
                if (!residency.resident_runs(m.start, end, resident)) resident.assign(1, page_run{m.start, end - m.start});
                if (file_backed && !file) file = open_mapped_file(pid, m);
                add_runs(segment, m, end, resident, file_backed ? file.get() : -1);
            }
            ++dumped;
        }
        if (file) files.push_back(std::move(file));
        layout.segments.push_back(std::move(segment));
    }
    return dumped;
}

// The ranges the layout reads from the target's memory.
[[nodiscard]] TRIAGE_DECL std::vector<memory::address_range> memory_ranges(const core_layout& layout) {
    std::vector<memory::address_range> out;
    for (const auto& segment : layout.segments)
        for (const auto& run : segment.content)
            if (run.fd < 0) out.push_back({run.address, run.size});
    return out;
}

[[nodiscard]] TRIAGE_DECL std::uint64_t total_size(const std::vector<memory::address_range>& ranges) noexcept {
    std::uint64_t total = 0;
    for (const auto& r : ranges) total += r.size;
    return total;
}

[[nodiscard]] TRIAGE_DECL result<void> check_free_space(const output_file& out, std::uint64_t needed, std::string_view how) {
    const std::uint64_t free = TRIAGE_TRY(out.free_space());
    if (free < needed)
        return fail(errc::no_space, "writing " + out.path() + ": the core needs " + std::string{how} + " " + std::to_string(needed) +
                                        " bytes and " + std::to_string(free) + " are free");
    return {};
}

// write_dump's work for a fork_snapshot copy: lay the core out from the
// fork, write it from the fork's memory, let the fork go.
[[nodiscard]] TRIAGE_DECL result<void> write_from_fork(dump_copy& copy) {
    dump_report& report = copy.report;
    copied_core& held = copy.held;
    ptrace::forked_copy& fork = *held.fork;
    const std::string what = "writing " + report.path + " from the fork " + std::to_string(fork.pid()) + " of process " +
                             std::to_string(report.pid);
    auto written = [&]() -> result<write_stats> {
        procfs::proc_dir dir = TRIAGE_TRY(procfs::proc_dir::open(fork.pid()));
        const std::vector<region> regions = TRIAGE_TRY(read_regions(dir));
        page_map pages = TRIAGE_TRY(page_map::open(fork.pid()));
        page_map* shared = held.target_pages ? &*held.target_pages : nullptr;
        report.mappings_dumped = lay_out_segments(fork.pid(), regions, held.filter, pages, held.layout, held.files, shared);
        report.mappings = held.layout.segments.size();
        report.bytes_to_copy = expected_bytes(held.layout);
        if (held.check_free_space) TRIAGE_TRY(check_free_space(held.out, report.bytes_to_copy, "up to"));
        // Through /proc/PID/mem, never process_vm_readv: that pins each
        // page read-only, and since Linux 5.19 the kernel first unshares
        // (copies) an anonymous page the copy still shares with the target,
        // so the copy would end up with a private copy of all the memory.
        memory::proc_mem memory = TRIAGE_TRY(memory::proc_mem::open(fork.pid()));
        return write_core(held.layout, memory, held.out, held.write);
    }();
    if (auto rollup = procfs::read_smaps_rollup(fork.pid()))
        report.memory_used = (rollup->private_clean_kb + rollup->private_dirty_kb) * 1024;
    auto disposed = fork.dispose();
    report.cleanup_stopped_for = fork.cleanup_stopped_for();
    if (!written) {
        if (cancelled(held.write.cancel)) return fail(errc::interrupted, what, "stopped by a signal; no core was written");
        return fail(std::move(written.error()).within(what));
    }
    if (!disposed) return fail(std::move(disposed.error()));
    held.written = *written;
    return {};
}

} // namespace triage::coredump::detail

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL result<dump_plan> plan_dump(pid_t pid, std::string path, const dump_options& options) {
    const auto started = std::chrono::steady_clock::now();
    procfs::proc_dir dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
    procfs::task_stat leader = TRIAGE_TRY(procfs::read_stat(dir));
    procfs::task_status status = TRIAGE_TRY(procfs::read_status(dir));
    const std::string who = "dumping pid " + std::to_string(pid) + " (" + std::string{leader.comm.view()} + ")";
    if (leader.kernel_thread()) return fail(errc::unsupported, who, "it is a kernel thread, which has no user memory to dump");
    if ((leader.state == 'Z' || leader.state == 'X') && status.threads <= 1)
        return fail(errc::no_such_process, who,
                    "it is a zombie: it has exited and holds no memory any more; its parent, pid " + std::to_string(leader.ppid) +
                        ", has not reaped it yet");
    dump_filter filter = options.filter ? *options.filter : TRIAGE_TRY(read_dump_filter(dir));
    std::string cmdline = TRIAGE_TRY(dir.read_all(procfs::whole_process, "cmdline"));
    std::string auxv = TRIAGE_TRY(dir.read_all(procfs::whole_process, "auxv"));
    core_process process;
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
    output_file out = TRIAGE_TRY(output_file::create(path, options.output));
    page_map pages = TRIAGE_TRY(page_map::open(pid));

    // The core as it would be now: its size before anything is stopped.
    core_layout estimate;
    estimate.process = process;
    core_thread sized;
    sized.fp = user_fpregs_struct{};
    sized.xstate.resize(ptrace::detail::xstate_capacity());
    estimate.threads.assign(std::max<std::uint64_t>(status.threads, 1), sized);
    std::vector<unique_fd> files;
    const std::vector<region> regions = TRIAGE_TRY(read_regions(dir));
    (void)detail::lay_out_segments(pid, regions, filter, pages, estimate, files);
    std::vector<std::string> not_in_fork;
    for (const region& r : regions)
        if (r.dont_fork || r.wipe_on_fork)
            not_in_fork.push_back(std::string{hex(r.map.start)} + "-" + std::string{hex(r.map.end)} +
                                  (r.dont_fork ? " MADV_DONTFORK" : " MADV_WIPEONFORK"));
    dump_plan plan{pid,
                   std::move(path),
                   filter,
                   std::move(process),
                   estimate.threads.size(),
                   expected_bytes(estimate),
                   detail::total_size(detail::memory_ranges(estimate)),
                   copy_strategy::automatic,
                   {},
                   {std::move(dir), std::move(memory), std::move(pages), std::move(out), {}, options, started, std::move(not_in_fork)}};
    auto choice = detail::choose_strategy(options.strategy, pid, status, plan.estimated_memory_bytes);
    plan.strategy = choice.strategy;
    plan.strategy_reason = std::move(choice.reason);
    if (options.check_free_space) TRIAGE_TRY(detail::check_free_space(plan.held.out, plan.estimated_bytes, "about"));
    return plan;
}

TRIAGE_DECL std::uint64_t reserve_copy(dump_plan& plan) {
    const std::uint64_t bytes = plan.estimated_memory_bytes;
    if (plan.strategy == copy_strategy::fork_snapshot || !detail::copy_to_memory(plan.strategy, bytes)) return 0;
    auto room = memory::snapshot::reserve(bytes);
    if (!room) return 0;
    plan.held.room = std::move(*room);
    return plan.held.room.reserved();
}

[[nodiscard]] TRIAGE_DECL result<dump_copy> copy_dump(dump_plan&& plan, const ptrace::session& session,
                                                      std::optional<pid_t> first_tid) {
    const pid_t pid = plan.pid;
    const std::string what = "dumping process " + std::to_string(pid);
    if (!session.held() || session.pid() != pid)
        return fail(errc::invalid_argument, what, "copy_dump needs a held ptrace::session of that process");
    detail::planned_core& held = plan.held;
    const dump_options& options = held.options;
    auto gone = [&](error e) {
        if (detail::cancelled(options.write.cancel))
            return fail(errc::interrupted, what, "stopped by a signal; no core was written");
        if (e.code == errc::no_such_process || !held.dir.alive())
            return fail(errc::no_such_process, what, "the process exited during the dump; no core was written");
        return fail(std::move(e));
    };
    dump_copy out{{}, {{}, {}, {}, std::move(held.out), std::nullopt, options.write, held.started, std::nullopt, std::nullopt, plan.filter,
                   options.check_free_space}};
    dump_report& report = out.report;
    report.pid = pid;
    report.path = plan.path;
    report.filter = plan.filter;
    core_layout& layout = out.held.layout;
    layout.process = std::move(plan.process);

    std::vector<pid_t> tids = session.threads();
    auto first = std::find(tids.begin(), tids.end(), first_tid.value_or(pid));
    if (first == tids.end()) first = std::find(tids.begin(), tids.end(), pid);
    if (first != tids.end()) std::rotate(tids.begin(), first, first + 1);
    report.first_tid = tids.empty() ? pid : tids.front();
    auto leader = procfs::read_stat(held.dir);
    if (!leader) return gone(std::move(leader.error()));
    for (pid_t tid : tids) {
        auto regs = session.registers(tid);
        if (!regs) return gone(std::move(regs.error()));
        core_thread t;
        t.tid = tid;
        t.general = regs->general;
        t.fp = regs->fp;
        t.xstate = std::move(regs->xstate);
        t.ppid = leader->ppid;
        t.pgrp = leader->pgrp;
        t.sid = leader->session;
        auto st = procfs::read_stat(held.dir, tid);
        auto ts = procfs::read_status(held.dir, tid);
        if (!st || !ts) return gone(st ? std::move(ts.error()) : std::move(st.error()));
        t.sig_pending = ts->sig_pending;
        t.sig_blocked = ts->sig_blocked;
        // The leader's record carries the process totals, as fill_prstatus() does.
        const procfs::task_stat& times = tid == pid ? *leader : *st;
        t.user_time = detail::ticks_to_us(times.utime);
        t.system_time = detail::ticks_to_us(times.stime);
        t.children_user_time = detail::ticks_to_us(static_cast<std::uint64_t>(std::max<std::int64_t>(leader->cutime, 0)));
        t.children_system_time = detail::ticks_to_us(static_cast<std::uint64_t>(std::max<std::int64_t>(leader->cstime, 0)));
        layout.threads.push_back(std::move(t));
    }
    report.threads = layout.threads.size();
    report.strategy_reason = plan.strategy_reason;
    if (plan.strategy == copy_strategy::fork_snapshot) {
        auto fork = ptrace::fork_copy(session, options.fork);
        if (fork) {
            report.forked = true;
            report.fork_time = fork->fork_time();
            report.not_in_fork = std::move(held.not_in_fork);
            out.held.fork.emplace(std::move(*fork));
            out.held.target_pages.emplace(std::move(held.pages));
            return out;
        }
        if (!session.held()) return gone(std::move(fork.error()));
        report.fork_fallback = fork.error().message();
    }
    auto regions = read_regions(held.dir);
    if (!regions) return gone(std::move(regions.error()));
    report.mappings_dumped = detail::lay_out_segments(pid, *regions, plan.filter, held.pages, layout, out.held.files);
    report.mappings = layout.segments.size();
    report.bytes_to_copy = expected_bytes(layout);
    output_file& file = out.held.out;
    if (options.check_free_space) TRIAGE_TRY(detail::check_free_space(file, report.bytes_to_copy, "up to"));
    const std::vector<memory::address_range> from_memory = detail::memory_ranges(layout);
    report.copied_to_memory = detail::copy_to_memory(plan.strategy, detail::total_size(from_memory), held.room.reserved());
    if (report.copied_to_memory) {
        report.memory_used = detail::total_size(from_memory);
        out.held.copy = std::move(held.room);
        auto taken = out.held.copy.take(held.memory, from_memory, {options.write.chunk_bytes, options.write.cancel});
        if (!taken) return gone(std::move(taken.error()));
    } else {
        auto written = write_core(layout, held.memory, file, options.write);
        if (!written) return gone(std::move(written.error()));
        out.held.written = *written;
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL result<dump_report> write_dump(dump_copy&& copy, const ptrace::session& session) {
    dump_report& report = copy.report;
    detail::copied_core& held = copy.held;
    if (session.held() || session.pid() != report.pid)
        return fail(errc::invalid_argument, "writing the core of process " + std::to_string(report.pid),
                    "write_dump takes the released session of that process (the file is written while it runs)");
    report.stopped_for = session.stopped_for();
    if (held.fork) {
        TRIAGE_TRY(detail::write_from_fork(copy));
    } else if (!held.written) {
        auto written = write_core(held.layout, held.copy, held.out, held.write);
        if (!written) {
            if (detail::cancelled(held.write.cancel))
                return fail(errc::interrupted, "writing " + report.path, "stopped by a signal; no core was written");
            return fail(std::move(written.error()));
        }
        held.written = *written;
    }
    TRIAGE_TRY(held.out.commit());
    report.bytes_written = held.written->bytes_written;
    report.file_size = held.written->file_size;
    report.allocated = held.written->allocated;
    report.elapsed = std::chrono::steady_clock::now() - held.started;
    return std::move(report);
}

[[nodiscard]] TRIAGE_DECL result<dump_report> dump_process(pid_t pid, const std::string& path, const dump_options& options) {
    const auto started = std::chrono::steady_clock::now();
    // The CPU sampling window runs while the plan is made and the room reserved.
    const bool sampling = !options.first_tid && options.sample.count() > 0;
    std::optional<procfs::cpu_sample> window_start;
    if (sampling) window_start = TRIAGE_TRY(procfs::sample_cpu(pid));
    dump_plan plan = TRIAGE_TRY(plan_dump(pid, path, options));
    reserve_copy(plan);
    if (sampling) detail::wait_until(started + options.sample, options.write.cancel);
    if (detail::cancelled(options.write.cancel))
        return fail(errc::interrupted, "dumping process " + std::to_string(pid),
                    "stopped by a signal before the process was stopped; no core was written");
    hot_thread first{options.first_tid.value_or(pid), std::nullopt};
    if (!options.first_tid) first = busiest_thread(window_start, TRIAGE_TRY(procfs::sample_cpu(plan.held.dir)));

    // Forked before the stop: it reaps the copy if we are SIGKILLed.
    std::optional<ptrace::reap_guardian> guardian;
    if (plan.strategy == copy_strategy::fork_snapshot && plan.held.options.fork.guardian == nullptr) {
        if (auto started_guardian = ptrace::reap_guardian::start()) {
            guardian.emplace(std::move(*started_guardian));
            plan.held.options.fork.guardian = &*guardian;
        }
    }
    ptrace::session session = TRIAGE_TRY(ptrace::session::attach(pid));
    dump_copy copy = TRIAGE_TRY(copy_dump(std::move(plan), session, first.tid));
    TRIAGE_TRY(session.release());
    dump_report report = TRIAGE_TRY(write_dump(std::move(copy), session));
    if (report.first_tid == first.tid) report.first_thread_cpu = first.cpu_percent;
    report.elapsed = std::chrono::steady_clock::now() - started;
    return report;
}

[[nodiscard]] TRIAGE_DECL result<copy_strategy> copy_strategy_named(std::string_view copy, std::string_view snapshot) {
    if (copy != "auto" && copy != "memory" && copy != "file") {
        return fail(errc::invalid_argument, "a copy of \"" + std::string(copy) + "\" (auto, memory or file)");
    }
    if (snapshot != "auto" && snapshot != "fork" && snapshot != "stop") {
        return fail(errc::invalid_argument, "a snapshot by \"" + std::string(snapshot) + "\" (auto, fork or stop)");
    }
    if (snapshot == "fork") return copy_strategy::fork_snapshot;
    if (copy == "memory") return copy_strategy::to_memory;
    if (copy == "file") return copy_strategy::to_file;
    return snapshot == "auto" ? copy_strategy::automatic : copy_strategy::copy_in_stop;
}

} // namespace triage::coredump
