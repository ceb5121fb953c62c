// triage/report/impl/hot_dump.ipp — the definitions of
// triage/report/hot_dump.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include <fmt/core.h>

#include "triage/base/escape.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/procfs/hot_streak.hpp"
#include "triage/report/detail/json.hpp"
#include "triage/report/dump_json.hpp"
#include "triage/report/hot_dump.hpp"
#include "triage/report/profile_file.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL result<dump_preamble> before_dump(pid_t pid, const std::string& core_path,
                                                            const hot_dump_options& options) {
    dump_preamble out;
    const auto say = [](const std::function<void(std::string_view)>& to, const std::string& line) {
        if (to) to(line);
    };
    if (options.when_hot) {
        const hot_trigger& t = *options.when_hot;
        procfs::hot_streak_options watch;
        watch.cpu_percent = t.cpu_percent;
        watch.interval = t.every;
        const double every_seconds = std::chrono::duration<double>(t.every).count();
        watch.samples = static_cast<unsigned>(std::max(1.0, std::ceil(t.for_seconds / every_seconds)));
        if (t.timeout_seconds > 0) watch.timeout = std::chrono::milliseconds{static_cast<std::int64_t>(t.timeout_seconds * 1000)};
        watch.scope = t.whole_process ? procfs::hot_scope::whole_process : procfs::hot_scope::any_thread;
        if (t.thread != 0) watch.thread = t.thread;
        watch.stop_requested = options.stop_requested;
        say(options.notice, fmt::format("waiting until {} stays at {}% CPU or more for {} s",
                                        t.whole_process ? "the process"
                                        : t.thread != 0 ? fmt::format("thread {}", t.thread)
                                                        : std::string{"a thread"},
                                        t.cpu_percent, watch.samples * every_seconds));
        auto dir = TRIAGE_TRY(procfs::proc_dir::open(pid));
        auto hot = TRIAGE_TRY(procfs::wait_until_hot(dir, watch));
        out.hot_tid = hot.tid;
        out.members["trigger"] = {{"scope", t.whole_process ? "process" : "thread"},
                                  {"tid", hot.tid},
                                  {"cpu_percent", hot.cpu_percent},
                                  {"interval_seconds", every_seconds}};
        say(options.outcome, fmt::format("{} stayed at {}% CPU or more for {} intervals of {} ms (last {:.1f}%)",
                                         t.whole_process ? std::string{"the process"} : fmt::format("thread {}", hot.tid),
                                         t.cpu_percent, hot.cpu_percent.size(), t.every.count(), hot.cpu_percent.back()));
    }
    if (options.stacks_for) {
        profile_file_options record;
        record.sampling.duration = std::chrono::nanoseconds{static_cast<std::int64_t>(*options.stacks_for * 1e9)};
        record.sampling.stop_requested = options.stop_requested;
        record.replace = options.replace;
        record.mode = 0600;
        record.discard_when_stopped = true;
        auto py = cpython::open_live_python(pid);
        auto profile = py ? record_profile_file(*py, core_path + ".folded", record) : fail(std::move(py.error()));
        if (!profile && profile.error().code == errc::interrupted) return fail(std::move(profile.error()));
        if (profile) {
            const double rate = profile->summary.achieved_rate();
            const std::string hottest = describe_hottest(profile->folded);
            out.members["profile"] = {{"path", profile->path}, {"samples", profile->folded.samples()}, {"rate_hz", rate}};
            say(options.outcome, fmt::format("recorded {} samples at {:.0f} Hz into {}{}", profile->folded.samples(), rate,
                                             escape_controls(profile->path), hottest.empty() ? "" : "; hottest: " + hottest));
        } else {
            // A process that is not Python still gets its core.
            out.members["profile"] = {{"error", profile.error().message()}};
            say(options.outcome, "no Python profile: " + escape_controls(profile.error().message()));
        }
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL std::string to_json_text(const coredump::dump_report& report, const dump_preamble& preamble) {
    nlohmann::ordered_json document = to_json(report);
    document.update(preamble.members);
    return detail::json_text(document, 2);
}

} // namespace triage::report
