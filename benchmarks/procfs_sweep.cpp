// bench_procfs_sweep PID [--syscall] — one per-thread sweep of a process,
// printing what `ps -L -o tid,pcpu,stat,wchan -p PID` prints: thread id,
// CPU% over the thread's life (ps's definition), state, wait channel. With
// --syscall it also reads task/TID/syscall and prints the system call each
// blocked thread is in (what triage-top adds). benchmarks/top_sweep.sh
// times both against ps and top.
// Reads task/TID/{stat,wchan[,syscall]} through one /proc/PID directory fd,
// three syscalls per file, and skips wchan/syscall for running threads (the
// kernel reports none for them); output is built in one buffer and written
// once.
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "triage/base/text.hpp"
#include "triage/procfs/cpu_sample.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/tasks.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/procfs/wchan.hpp"

namespace procfs = triage::procfs;

int main(int argc, char** argv) {
    const bool with_syscall = argc == 3 && std::string_view{argv[2]} == "--syscall";
    auto pid = argc == 2 || with_syscall ? triage::parse_unsigned<unsigned>(argv[1]) : std::nullopt;
    if (!pid || *pid == 0) {
        std::fprintf(stderr, "usage: bench_procfs_sweep PID [--syscall]\n");
        return 2;
    }
    auto dir = procfs::proc_dir::open(static_cast<pid_t>(*pid));
    auto threads = dir ? procfs::tasks(*dir) : std::unexpected(dir.error());
    if (!threads) {
        std::fprintf(stderr, "bench_procfs_sweep: %s\n", threads.error().message().c_str());
        return 1;
    }
    timespec boot{};
    ::clock_gettime(CLOCK_BOOTTIME, &boot);
    const double hz = static_cast<double>(procfs::clock_ticks_per_second());
    const double uptime_ticks = (static_cast<double>(boot.tv_sec) + static_cast<double>(boot.tv_nsec) * 1e-9) * hz;

    std::string out = with_syscall ? "TID %CPU S SYSCALL WCHAN\n" : "TID %CPU S WCHAN\n";
    out.reserve(64 * threads->listed());
    char line[512];
    for (const auto& t : *threads) {
        procfs::thread_activity what;
        if (with_syscall) {
            auto activity = procfs::read_activity(*dir, t);
            if (!activity) continue;  // exited since the listing
            what = *activity;
        } else if (t.state != 'R') {
            auto wchan = procfs::read_wchan(*dir, t.tid);
            if (!wchan) continue;
            what.wchan = *wchan;
        }
        double life = uptime_ticks - static_cast<double>(t.starttime);
        double pcpu = life > 0 ? 100.0 * static_cast<double>(t.cpu_ticks()) / life : 0.0;
        std::string_view call = what.syscall_name().empty() ? "-" : what.syscall_name();
        std::string_view wchan = what.wchan.empty() ? "-" : what.wchan.view();
        int n = with_syscall ? std::snprintf(line, sizeof line, "%d %.1f %c %.*s %.*s\n", t.tid, pcpu, t.state,
                                             static_cast<int>(call.size()), call.data(),
                                             static_cast<int>(wchan.size()), wchan.data())
                             : std::snprintf(line, sizeof line, "%d %.1f %c %.*s\n", t.tid, pcpu, t.state,
                                             static_cast<int>(wchan.size()), wchan.data());
        out.append(line, static_cast<std::size_t>(n > 0 ? std::min<int>(n, sizeof line - 1) : 0));
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
