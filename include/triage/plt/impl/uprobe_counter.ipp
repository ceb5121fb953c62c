// triage/plt/impl/uprobe_counter.ipp — the definitions of
// triage/plt/uprobe_counter.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "triage/base/read_file.hpp"
#include "triage/plt/uprobe_counter.hpp"
#include "triage/procfs/task_ids.hpp"

namespace triage::plt {

[[nodiscard]] TRIAGE_DECL std::optional<std::uint64_t> file_offset(std::span<const elf::segment> segments,
                                                                   std::uint64_t file_address) {
    for (const elf::segment& s : segments) {
        if (file_address >= s.vaddr && file_address - s.vaddr < s.filesz) return s.offset + (file_address - s.vaddr);
    }
    return std::nullopt;
}

[[nodiscard]] TRIAGE_DECL result<uprobe_counter> uprobe_counter::open(pid_t pid, std::vector<probe_point> probes,
                                                                        std::optional<pid_t> only) {
    const std::string type_file = "/sys/bus/event_source/devices/uprobe/type";
    auto text = read_file(type_file);
    int type = -1;
    if (text) std::from_chars(text->data(), text->data() + text->size(), type);
    if (type < 0) {
        return fail(errc::unsupported, "counting calls in process " + std::to_string(pid) + " with uprobes",
                    "this kernel has no uprobe PMU (" + type_file + "): it was built without uprobes");
    }
    // One descriptor per probe and thread: take the whole hard limit of open files.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &files);
    }
    uprobe_counter counter{pid, std::move(probes), only, type};
    TRIAGE_TRY(counter.add_new_threads());
    if (only && counter.threads_.empty()) {
        return fail(errc::no_such_process, "counting calls in thread " + std::to_string(*only),
                    "process " + std::to_string(pid) + " has no such thread");
    }
    return counter;
}

[[nodiscard]] TRIAGE_DECL result<std::chrono::nanoseconds> teardown_cost(pid_t pid, const probe_point& probe) {
    // On the first thread that takes it: the main thread may have exited and left the others running.
    const auto tids = TRIAGE_TRY(procfs::task_ids(pid));
    error last{errc::no_such_process, 0, "measuring what closing a uprobe costs in process " + std::to_string(pid), {}};
    for (pid_t tid : tids) {
        auto one = uprobe_counter::open(pid, {probe}, tid);
        if (!one) {
            last = std::move(one.error());
            if (last.code == errc::no_such_process) continue;
            break;
        }
        const auto closing = std::chrono::steady_clock::now();
        { auto closed = std::move(*one); }
        return std::chrono::steady_clock::now() - closing;
    }
    return fail(std::move(last));
}

[[nodiscard]] TRIAGE_DECL result<std::size_t> uprobe_counter::add_new_threads() {
    auto tids = procfs::task_ids(pid_);
    if (!tids) return fail(std::move(tids.error()).within("counting calls in process " + std::to_string(pid_)));
    std::size_t added = 0;
    for (pid_t tid : *tids) {
        if (threads_.contains(tid) || (only_ && tid != *only_)) continue;
        auto opened = add_thread(tid);
        if (!opened) {
            if (opened.error().code == errc::no_such_process) continue;  // exited since the listing
            return fail(std::move(opened.error()));
        }
        threads_.insert(tid);
        ++added;
    }
    return added;
}

[[nodiscard]] TRIAGE_DECL result<void> uprobe_counter::add_thread(pid_t tid) {
    // All of the thread's probes or none: a thread left half-added would be added again later.
    thread_group group{tid, {}};
    group.events.reserve(probes_.size());
    for (std::size_t i = 0; i < probes_.size(); ++i) {
        perf_event_attr attr{};
        attr.size = sizeof attr;
        attr.type = static_cast<std::uint32_t>(pmu_type_);
        attr.config = 0;  // an entry probe (bit 0 would make it a return probe)
        attr.config1 = reinterpret_cast<std::uint64_t>(probes_[i].path.c_str());  // uprobe_path
        attr.config2 = probes_[i].offset;                                         // probe_offset
        attr.read_format = PERF_FORMAT_GROUP;
        // The leader gates its group: members count while it is enabled.
        attr.disabled = i == 0 && !counting_ ? 1 : 0;
        const int leader = group.events.empty() ? -1 : group.events.front().get();
        const long fd = ::syscall(SYS_perf_event_open, &attr, tid, -1, leader, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            const int e = errno;
            const std::string what = "opening a uprobe on " + probes_[i].path + "+" + hex(probes_[i].offset) +
                                     " for thread " + std::to_string(tid);
            if (e == ESRCH) return fail(errc::no_such_process, what);
            if (e == EACCES || e == EPERM) {
                return fail(error{errc::permission_denied, e, what,
                                  "uprobes need CAP_PERFMON or CAP_SYS_ADMIN (or kernel.perf_event_paranoid <= 1 for "
                                  "one's own processes): run as root"});
            }
            if (e == EINVAL || e == ENOENT) return fail(error{errc::invalid_argument, e, what, {}});
            if (e == EMFILE || e == ENFILE) {
                return fail(error{errc::limit_exceeded, e, what,
                                  "one descriptor per probe and thread: " +
                                      std::to_string(open_events_ + group.events.size()) +
                                      " are open; probe fewer functions or threads, or raise the hard limit "
                                      "of open files (ulimit -Hn)"});
            }
            return fail(error{errc::system, e, what, {}});
        }
        group.events.emplace_back(static_cast<int>(fd));
    }
    open_events_ += group.events.size();
    groups_.push_back(std::move(group));
    return {};
}

[[nodiscard]] TRIAGE_DECL result<void> uprobe_counter::switch_groups(unsigned long request, bool on) {
    for (const thread_group& g : groups_) {
        if (g.events.empty()) continue;
        if (::ioctl(g.events.front().get(), request, PERF_IOC_FLAG_GROUP) != 0) {
            return fail(error{errc::system, errno,
                              std::string{on ? "starting" : "stopping"} + " the uprobe counts of thread " +
                                  std::to_string(g.tid),
                              {}});
        }
    }
    counting_ = on;
    return {};
}

[[nodiscard]] TRIAGE_DECL result<void> uprobe_counter::start() { return switch_groups(PERF_EVENT_IOC_ENABLE, true); }

[[nodiscard]] TRIAGE_DECL result<void> uprobe_counter::stop() { return switch_groups(PERF_EVENT_IOC_DISABLE, false); }

[[nodiscard]] TRIAGE_DECL result<std::vector<thread_calls>> uprobe_counter::read() const {
    std::vector<thread_calls> out;
    out.reserve(open_events_);
    // PERF_FORMAT_GROUP: the number of events, then each one's count, in the order they joined.
    std::vector<std::uint64_t> values(probes_.size() + 1);
    for (const thread_group& g : groups_) {
        if (g.events.empty()) continue;
        const auto want = static_cast<ssize_t>(values.size() * sizeof(std::uint64_t));
        if (::read(g.events.front().get(), values.data(), static_cast<std::size_t>(want)) != want ||
            values[0] != probes_.size()) {
            return fail(error{errc::system, errno, "reading the uprobe counts of thread " + std::to_string(g.tid), {}});
        }
        for (std::size_t i = 0; i < probes_.size(); ++i) out.push_back({g.tid, i, values[i + 1]});
    }
    return out;
}

} // namespace triage::plt
