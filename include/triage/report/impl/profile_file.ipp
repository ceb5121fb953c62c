// triage/report/impl/profile_file.ipp — the definitions of
// triage/report/profile_file.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <fmt/core.h>

#include "triage/base/text.hpp"
#include "triage/base/unique_fd.hpp"

#include "triage/report/flamegraph.hpp"
#include "triage/report/pprof.hpp"
#include "triage/report/profile_file.hpp"
#include "triage/report/profile_formats.hpp"

namespace triage::report {

TRIAGE_DECL std::optional<profile_format> profile_format_named(std::string_view name) noexcept {
    if (name == "collapsed") return profile_format::collapsed;
    if (name == "speedscope") return profile_format::speedscope;
    if (name == "pprof") return profile_format::pprof;
    if (name == "flamegraph") return profile_format::flamegraph;
    return std::nullopt;
}

TRIAGE_DECL profile_format profile_format_for(std::string_view path) noexcept {
    if (path.ends_with(".svg")) return profile_format::flamegraph;
    if (path.ends_with(".json")) return profile_format::speedscope;
    if (path.ends_with(".pb.gz") || path.ends_with(".pprof")) return profile_format::pprof;
    return profile_format::collapsed;
}

TRIAGE_DECL result<std::string> profile_bytes(const profile& p, profile_format format, const profile_recording& recording) {
    switch (format) {
    case profile_format::pprof: return to_pprof(p, {recording.period, recording.start, recording.duration});
    case profile_format::flamegraph: {
        flamegraph_options o;
        o.title = recording.name;
        o.subtitle = fmt::format("{} samples{} at {:.0f} Hz over {:.1f} s{}", p.samples(), p.options().idle ? "" : " on a CPU",
                                 recording.achieved_rate, std::chrono::duration<double>(recording.duration).count(),
                                 p.options().gil_only ? ", GIL holder only" : "");
        return to_flamegraph(p, o);
    }
    case profile_format::speedscope: return to_speedscope(p, recording.name, recording.period);
    case profile_format::collapsed: break;
    }
    return to_collapsed(p);
}

TRIAGE_DECL const profile_stack* hottest_stack(const profile& p) noexcept {
    const profile_stack* top = nullptr;
    for (const profile_stack& s : p.stacks()) {
        if (!s.frames.empty() && (top == nullptr || s.samples > top->samples)) top = &s;
    }
    return top;
}

TRIAGE_DECL std::string describe_hottest(const profile& p) {
    const profile_stack* top = hottest_stack(p);
    if (top == nullptr || p.samples() == 0) return {};
    const profile_frame& f = p.frames()[top->frames.back()];
    return fmt::format("{} ({}:{}) in {:.0f}% of the samples", escape_controls(f.function), escape_controls(f.file), f.line,
                       100.0 * static_cast<double>(top->samples) / static_cast<double>(p.samples()));
}

namespace detail::profile_file {

// The file, created or (with `replace`) an existing regular file emptied.
[[nodiscard]] TRIAGE_DECL result<unique_fd> create(const std::string& path, bool replace, unsigned mode) {
    // O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of blocking the open; regular files ignore it.
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (replace ? 0 : O_EXCL);
    unique_fd fd{::open(path.c_str(), flags, static_cast<mode_t>(mode))};
    if (!fd) return fail(error::from_errno(errno, "creating " + path));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(error::from_errno(errno, "creating " + path));
    if (!S_ISREG(st.st_mode)) return fail(errc::invalid_argument, "writing a profile to " + path + ": not a regular file");
    if (::ftruncate(fd.get(), 0) != 0) return fail(error::from_errno(errno, "emptying " + path));
    return fd;
}

[[nodiscard]] TRIAGE_DECL result<void> write_all(int fd, std::string_view bytes, const std::string& path) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(error::from_errno(n < 0 ? errno : ENOSPC, "writing " + path));
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

} // namespace detail::profile_file

TRIAGE_DECL result<recorded_profile_file> record_profile_file(cpython::live_python& py, const std::string& path,
                                                             const profile_file_options& options) {
    namespace d = detail::profile_file;
    auto fd = TRIAGE_TRY(d::create(path, options.replace, options.mode));
    recorded_profile_file out{path, profile{options.keep}, {}};
    const auto wall_start = std::chrono::system_clock::now();
    auto recorded = [&]() -> result<void> {
        auto summary = TRIAGE_TRY(cpython::sample_stacks(py, options.sampling, [&](const cpython::sampling_tick& tick) {
            out.folded.add(tick);
            if (options.on_tick) options.on_tick(tick, out.folded);
        }));
        out.summary = summary;
        if (options.discard_when_stopped && options.sampling.stop_requested && options.sampling.stop_requested())
            return fail(errc::interrupted, "recording the Python stacks of process " + std::to_string(py.dir.pid()) +
                                               ": interrupted; " + path + " was removed");
        const profile_recording about{
            options.name.empty() ? "triage " + std::to_string(py.dir.pid()) : options.name,
            std::chrono::nanoseconds{static_cast<std::int64_t>(1e9 / options.sampling.rate_hz)}, wall_start,
            summary.elapsed, summary.achieved_rate()};
        auto bytes = TRIAGE_TRY(profile_bytes(out.folded, options.format.value_or(profile_format_for(path)), about));
        TRIAGE_TRY(d::write_all(fd.get(), bytes, path));
        if (::close(fd.release()) != 0) return fail(error::from_errno(errno, "writing " + path));
        return {};
    }();
    if (!recorded) {
        ::unlink(path.c_str());
        return fail(std::move(recorded.error()));
    }
    return out;
}

} // namespace triage::report
