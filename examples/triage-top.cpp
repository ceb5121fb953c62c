// triage-top — which thread of a process is hot, and what is it doing?
//
//   triage-top PID [--interval MS] [--syscalls MS] [--json] [--limit N]
//
// Samples every thread's CPU time twice, MS milliseconds apart (default
// 1000), then prints the threads sorted by CPU (100% = one core) with their
// state and whether each is running in user space or blocked in a system
// call (and where in the kernel it sleeps). Nothing is attached to the
// target: it only reads /proc/PID/task/*/{stat,syscall,wchan}.
// With --syscalls MS (off by default) it then counts every thread's system
// calls for MS milliseconds with ptrace (an `strace -c -f`), so "this thread
// makes no system calls" is measured; that stops each thread at every call
// it makes in the window, and the report says for how long in total.
// Exit codes: 0 success, 1 the target could not be read (no such process,
// no permission), 2 usage error. Errors are one line on stderr.
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/hottest.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/ptrace/syscall_watch.hpp"

namespace procfs = triage::procfs;

namespace {

struct options {
    std::string pid;
    int interval_ms = 1000;
    bool json = false;
    std::size_t limit = 40;
    int syscalls_ms = 0;  // 0: do not attach
};

// One thread, as measured: everything a column or a JSON field shows.
struct thread_row {
    procfs::thread_cpu cpu;
    procfs::thread_activity activity;
    const triage::ptrace::thread_syscalls* syscalls = nullptr;  // with --syscalls
};

struct top_report {
    pid_t pid = 0;
    std::string command;
    int interval_ms = 0;
    double total_cpu_percent = 0;
    std::vector<thread_row> threads;  // hottest first
    std::optional<triage::ptrace::syscall_watch_result> watch;  // with --syscalls
};

// Attaches for `window` and gives each row its system-call counts.
triage::result<void> count_syscalls(top_report& report, std::chrono::milliseconds window) {
    report.watch = TRIAGE_TRY(triage::ptrace::watch_syscalls(report.pid, window));
    for (auto& row : report.threads) {
        for (const auto& t : report.watch->threads)
            if (t.tid == row.cpu.stat.pid) row.syscalls = &t;
    }
    return {};
}

std::string syscall_counts(const thread_row& r) {
    if (r.syscalls == nullptr) return "-";
    std::string text = std::to_string(r.syscalls->total);
    std::vector<std::pair<std::uint64_t, std::string_view>> top;
    for (const auto& [name, count] : r.syscalls->syscalls) top.emplace_back(count, name);
    std::sort(top.rbegin(), top.rend());
    for (std::size_t i = 0; i < top.size() && i < 3; ++i)
        text += fmt::format("{}{} {}", i == 0 ? " (" : ", ", top[i].second, top[i].first);
    return top.empty() ? text : text + ")";
}

// Two CPU samples `interval` apart, then what each thread is doing now.
triage::result<top_report> collect(pid_t pid, std::chrono::milliseconds interval) {
    auto dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
    auto before = TRIAGE_TRY(procfs::sample_cpu(dir));
    std::this_thread::sleep_for(interval);
    auto after = TRIAGE_TRY(procfs::sample_cpu(dir));

    top_report report;
    report.pid = pid;
    report.interval_ms = static_cast<int>(interval.count());
    auto args = TRIAGE_TRY(procfs::read_cmdline(dir));
    report.command = args.empty() ? "[" + std::string{after.threads.front().comm.view()} + "]"  // kernel thread
                                  : procfs::join_cmdline(args);
    auto usage = procfs::cpu_usage(before, after);
    report.total_cpu_percent = procfs::total_cpu_percent(usage);
    for (auto& cpu : usage | procfs::hottest()) {
        auto activity = procfs::read_activity(dir, cpu.stat);
        if (!activity && activity.error().code == triage::errc::no_such_process) continue;  // exited just now
        if (!activity) return triage::fail(std::move(activity.error()));
        report.threads.push_back({cpu, *activity});
    }
    return report;
}

// "futex", or "syscall_512" for a number the table does not name; nullopt
// when the thread is not in a system call.
std::optional<std::string> syscall_of(const procfs::thread_activity& a) {
    if (!a.syscall_number) return std::nullopt;
    auto name = a.syscall_name();
    return name.empty() ? fmt::format("syscall_{}", *a.syscall_number) : std::string{name};
}

std::string where(const procfs::thread_activity& a) {
    std::string text = syscall_of(a).value_or(std::string{procfs::to_string(a.kind)});
    if (a.kind == procfs::activity::stopped || a.kind == procfs::activity::traced) {
        if (a.syscall_number) text = fmt::format("{} in {}", procfs::to_string(a.kind), *syscall_of(a));
    }
    if (!a.wchan.empty()) text += fmt::format("  ({})", a.wchan.view());
    return text;
}

// A thread name for the terminal: control bytes (prctl accepts them) as '?'.
std::string printable(std::string_view name) {
    std::string out{name};
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

std::string percent(const std::optional<double>& p) { return p ? fmt::format("{:.1f}", *p) : "-"; }

// The text table, one column per entry: a new column is one more line here
// (and, for --json, one more field in to_json).
struct column {
    const char* header;
    int width;  // negative: left-aligned
    std::function<std::string(const thread_row&)> cell;
};

std::vector<column> text_columns(bool with_syscalls) {
    std::vector<column> columns{
        {"TID", 8, [](const thread_row& r) { return std::to_string(r.cpu.stat.pid); }},
        {"NAME", -16, [](const thread_row& r) { return printable(r.cpu.stat.comm.view()); }},
        {"CPU%", 6, [](const thread_row& r) { return percent(r.cpu.cpu_percent); }},
        {"S", 2, [](const thread_row& r) { return std::string(1, r.activity.state); }},
    };
    if (with_syscalls) columns.push_back({"SYSCALLS", -28, syscall_counts});
    columns.push_back({"WHERE", 0, [](const thread_row& r) { return where(r.activity); }});
    return columns;
}

// The cells of one line, padded, without trailing blanks.
std::string join_cells(const std::vector<column>& columns, const std::function<std::string(const column&)>& text) {
    std::string line;
    for (const auto& c : columns) {
        std::string cell = text(c);
        line += c.width == 0 ? cell : c.width > 0 ? fmt::format("{:>{}}  ", cell, c.width)
                                                   : fmt::format("{:<{}}  ", cell, -c.width);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

void print_text(const top_report& report, std::size_t limit) {
    std::string command = printable(report.command.size() > 100 ? report.command.substr(0, 97) + "..." : report.command);
    fmt::print("pid {}  {}\n", report.pid, command);
    fmt::print("{} threads, CPU {:.1f}% (100% = one core, over {} ms)\n", report.threads.size(),
               report.total_cpu_percent, report.interval_ms);
    if (report.watch) {
        fmt::print("{} system calls in {} ms; the target was stopped {:.2f} ms in total\n", report.watch->total(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(report.watch->window).count(),
                   static_cast<double>(report.watch->stopped_for().count()) / 1e6);
    }
    fmt::print("\n");
    auto columns = text_columns(report.watch.has_value());
    fmt::print("{}\n", join_cells(columns, [](const column& c) { return std::string{c.header}; }));
    std::size_t shown = 0;
    for (const auto& row : report.threads) {
        if (limit != 0 && shown++ == limit) {
            fmt::print("... {} more threads (--limit 0 shows all)\n", report.threads.size() - limit);
            break;
        }
        fmt::print("{}\n", join_cells(columns, [&](const column& c) { return c.cell(row); }));
    }
}

nlohmann::ordered_json to_json(const top_report& report) {
    auto threads = nlohmann::ordered_json::array();
    for (const auto& row : report.threads) {
        auto syscall = syscall_of(row.activity);
        auto& thread = threads.emplace_back(nlohmann::ordered_json{
            {"tid", row.cpu.stat.pid},
            {"name", std::string{row.cpu.stat.comm.view()}},
            {"cpu_percent", row.cpu.cpu_percent ? nlohmann::ordered_json(*row.cpu.cpu_percent) : nlohmann::ordered_json(nullptr)},
            {"state", std::string(1, row.activity.state)},
            {"in_user_space", row.activity.in_user_space()},
            {"activity", std::string{procfs::to_string(row.activity.kind)}},
            {"syscall", syscall ? nlohmann::ordered_json(*syscall) : nlohmann::ordered_json(nullptr)},
            {"wchan", row.activity.wchan.empty() ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json(std::string{row.activity.wchan.view()})},
        });
        if (report.watch) {
            // A thread that exited before the watch began has no counts.
            thread["syscall_count"] = row.syscalls ? nlohmann::ordered_json(row.syscalls->total) : nullptr;
            thread["syscalls"] = row.syscalls ? nlohmann::ordered_json(row.syscalls->syscalls) : nullptr;
        }
    }
    nlohmann::ordered_json doc;
    doc["pid"] = report.pid;
    doc["command"] = report.command;
    doc["interval_ms"] = report.interval_ms;
    doc["total_cpu_percent"] = report.total_cpu_percent;
    if (report.watch) doc["stopped_ms"] = static_cast<double>(report.watch->stopped_for().count()) / 1e6;
    doc["threads"] = std::move(threads);
    return doc;
}

int run(int argc, char** argv) {
    options opt;
    CLI::App app{"Per-thread CPU of a process, and whether each thread is in user space or in which syscall."};
    app.add_option("pid", opt.pid, "process id")->required();
    app.add_option("--interval", opt.interval_ms, "sampling interval in milliseconds")->check(CLI::Range(0, 3'600'000));
    app.add_flag("--json", opt.json, "print one JSON document");
    app.add_option("--limit", opt.limit, "threads to show in text mode (0: all)");
    app.add_option("--syscalls", opt.syscalls_ms,
                   "then count each thread's system calls for MS ms (attaches with ptrace; off by default)")
        ->check(CLI::Range(1, 60'000));
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help
    } catch (const CLI::ParseError& e) {
        fmt::print(stderr, "triage-top: {} (see --help)\n", e.what());
        return 2;
    }
    auto pid = triage::parse_unsigned<unsigned>(opt.pid);
    if (!pid || *pid == 0 || *pid > 4'194'304) {  // PID_MAX_LIMIT
        fmt::print(stderr, "triage-top: '{}' is not a process id\n", opt.pid);
        return 2;
    }
    auto report = collect(static_cast<pid_t>(*pid), std::chrono::milliseconds{opt.interval_ms});
    if (report && opt.syscalls_ms > 0) {
        if (auto counted = count_syscalls(*report, std::chrono::milliseconds{opt.syscalls_ms}); !counted)
            report = triage::fail(std::move(counted.error()));
    }
    if (!report) {
        fmt::print(stderr, "triage-top: {}\n", report.error().message());
        return 1;
    }
    if (opt.json)
        fmt::print("{}\n", to_json(*report).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    else
        print_text(*report, opt.limit);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {  // allocation failure, a closed stdout
        std::fprintf(stderr, "triage-top: %s\n", e.what());
        return 1;
    }
}
