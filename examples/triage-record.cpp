// triage-record — a sampling profile of a live Python process, written as
// a file other tools open, without stopping the process (unless --native).
//   triage-record PID -o FILE [--format flamegraph|speedscope|collapsed|pprof] [--rate HZ] [--duration S]
//                 [--idle] [--gil] [--threads] [--no-lines] [--native]
// Samples every thread's Python stack --rate times a second (100) for
// --duration seconds (until Ctrl+C when 0, the default), from the process's
// memory alone (cpython/sampler.hpp): it is never attached to or stopped.
// --native adds each thread's C frames (Python frames in place of the
// interpreter's, and the threads that run no Python): every thread is
// stopped for each sample (≈1 ms), so the rate is 10 by default and at
// most 100; the summary says how long the process was held.
// By default only samples of threads on a CPU are kept (--idle keeps all;
// --gil keeps only the GIL holder's); --threads keeps each thread's stacks
// apart. Formats: collapsed (folded stacks for flamegraph.pl, inferno,
// speedscope) and speedscope (its JSON file format; one profile per thread
// with --threads), pprof (profile.proto, gzip-compressed: go tool pprof,
// Pyroscope, Parca; a "thread" label per sample with --threads) and
// flamegraph (an interactive SVG: hover names a frame and its share, click
// zooms; the default when FILE ends in .svg, pprof for .pb.gz, speedscope
// for .json, collapsed otherwise). On a terminal a progress line shows samples, the rate
// achieved and the time elapsed. Ctrl+C (SIGINT, SIGTERM, SIGHUP) ends the
// recording and still writes the file. The summary on stderr states the
// rate achieved, late ticks (taken a period or more after they were due)
// and missed ones (skipped: too far behind), and
// torn stacks (changed while read; kept).
// Exit codes: 0 written; 1 not Python, unsupported, gone before a sample, or
// the file cannot be written; 2 usage error.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "triage/cpython/live_python.hpp"
#include "triage/cpython/sampler.hpp"
#include "triage/report/cli.hpp"
#include "triage/report/profile.hpp"
#include "triage/report/profile_file.hpp"

namespace {

using namespace triage;

int run(int argc, char** argv) {
    report::command_line cli{"triage-record",
                             "Record a sampling profile of a live Python process's stacks without stopping it."};
    pid_t pid = 0;
    double rate = 100, duration = 0;
    std::string output, format;
    report::profile_options keep;
    bool no_lines = false, native = false;
    cli.pid("pid", pid, "process id of the Python process").required();
    cli.add("-o,--output", output, "file to write the profile to").required();
    cli.add("--format", format,
            "flamegraph (SVG), speedscope (JSON), collapsed (folded stacks) or pprof (gzipped protobuf); "
            "default: from FILE's ending (.svg, .json, .pb.gz, else collapsed)")
        .one_of({"flamegraph", "speedscope", "collapsed", "pprof"});
    auto rate_option =
        cli.add("--rate", rate, "samples per second (default 100; 10 with --native)").range(0.1, 100000.0);
    cli.add("--duration", duration, "seconds to record (0: until Ctrl+C)").range(0.0, 31'536'000.0);
    cli.flag("--idle", keep.idle, "also samples of threads not on a CPU");
    cli.flag("--gil", keep.gil_only, "only samples of the thread holding the GIL");
    cli.flag("--threads", keep.by_thread, "each thread's stacks apart (its tid and name as the root frame)");
    cli.flag("--no-lines", no_lines, "frames are functions, not lines: one frame per function");
    cli.flag("--native", native,
             "also native (C) frames: stops every thread briefly at each sample (at most 100 Hz)");
    if (auto code = cli.parse(argc, argv)) return *code;
    keep.lines = !no_lines;
    if (native && !rate_option.given()) rate = 10;

    auto py = cpython::open_live_python(pid);
    if (!py) return report::print_failure(cli.program(), py.error());
    report::profile_file_options options;
    options.sampling.rate_hz = rate;
    options.sampling.duration = std::chrono::nanoseconds{static_cast<std::int64_t>(duration * 1e9)};
    options.sampling.stop_requested = [] { return report::stop_requested(); };
    options.sampling.native = native;
    options.keep = keep;
    if (!format.empty()) options.format = report::profile_format_named(format);
    options.name = "triage-record " + std::to_string(pid);
    // On a terminal, a progress line at most 4 times a second.
    auto last_shown = std::chrono::steady_clock::now();
    std::uint64_t ticks = 0;
    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    options.on_tick = [&](const cpython::sampling_tick& tick, const report::profile&) {
        ++ticks;
        const auto now = std::chrono::steady_clock::now();
        if (!terminal || now - last_shown < std::chrono::milliseconds{250}) return;
        last_shown = now;
        const double seconds = std::chrono::duration<double>(tick.at).count();
        fmt::print(stderr, "\r\x1b[K{} samples, {:.0f} Hz, {:.1f} s", ticks, seconds > 0 ? ticks / seconds : 0.0, seconds);
    };
    report::end_on_signals();
    fmt::print(stderr, "triage-record: sampling process {} at {} Hz {}\n", pid, rate,
               duration > 0 ? fmt::format("for {} s", duration) : std::string{"until Ctrl+C"});
    auto recorded = report::record_profile_file(*py, output, options);
    if (terminal) fmt::print(stderr, "\r\x1b[K");
    if (!recorded) return report::print_failure(cli.program(), recorded.error());
    const report::profile& profile = recorded->folded;
    const cpython::sampling_summary* summary = &recorded->summary;
    fmt::print(stderr,
               "triage-record: wrote {} ({} samples of {} distinct stacks{}): {} ticks in {:.2f} s, {:.1f} Hz of {} asked; "
               "{} late, {} missed, {} torn stacks{}\n",
               output, profile.samples(), profile.stacks().size(),
               keep.idle ? "" : fmt::format(", {} idle left out", profile.idle_samples()), summary->ticks,
               std::chrono::duration<double>(summary->elapsed).count(), summary->achieved_rate(), rate, summary->late,
               summary->missed, summary->torn_stacks, summary->process_exited ? "; the process exited" : "");
    if (native) {
        fmt::print(stderr, "triage-record: held the process {:.1f} ms in all ({:.2f}% of the time), {:.2f} ms at most\n",
                   std::chrono::duration<double, std::milli>(summary->stopped).count(),
                   100 * std::chrono::duration<double>(summary->stopped).count() /
                       std::max(std::chrono::duration<double>(summary->elapsed).count(), 1e-9),
                   std::chrono::duration<double, std::milli>(summary->longest_stop).count());
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    return triage::report::run_program("triage-record", [&] { return run(argc, argv); });
}
