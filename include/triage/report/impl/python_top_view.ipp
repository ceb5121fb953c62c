// triage/report/impl/python_top_view.ipp — the definitions of
// triage/report/python_top_view.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include <fmt/core.h>

#include "triage/report/python_top_view.hpp"
#include "triage/report/terminal_view.hpp"

namespace triage::report {

namespace detail {
// A top of a process that exited before its first sample has nothing to show.
[[nodiscard]] TRIAGE_DECL result<cpython::sampling_summary> sampled_something(result<cpython::sampling_summary> summary,
                                                                            pid_t pid) {
    if (summary && summary->ticks == 0 && summary->process_exited) {
        return fail(error{errc::no_such_process, 0,
                          "sampling process " + std::to_string(pid) + " (it exited before a sample)", "nothing to show"});
    }
    return summary;
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL std::string describe(const cpython::sampling_summary& summary) {
    return fmt::format("{} samples in {:.1f} s ({:.1f} Hz)", summary.ticks,
                       std::chrono::duration<double>(summary.elapsed).count(), summary.achieved_rate());
}

[[nodiscard]] TRIAGE_DECL std::string describe(const python_top_view_end& end) {
    const std::string why = end.summary.process_exited ? fmt::format("process {} exited", end.pid)
                            : end.quit                 ? std::string{"quit"}
                                                       : std::string{"interrupted"};
    return why + " after " + describe(end.summary);
}

[[nodiscard]] TRIAGE_DECL result<python_top_table_end> python_top_table(cpython::live_python& py, python_top& top,
                                                                        python_top_screen screen,
                                                                        const cpython::sampling_options& sampling) {
    auto summary = TRIAGE_TRY(detail::sampled_something(
        cpython::sample_stacks(py, sampling, [&](const cpython::sampling_tick& tick) { top.add(tick); }), py.dir.pid()));
    if (summary.process_exited) {
        screen.status = "The process exited: " + describe(summary) + ".";
    } else if (sampling.stop_requested && sampling.stop_requested()) {
        screen.status = "Interrupted: " + describe(summary) + ".";
    }
    std::string text = render_python_top(top, screen);
    return python_top_table_end{summary, std::move(text)};
}

[[nodiscard]] TRIAGE_DECL result<python_top_view_end> run_python_top_view(cpython::live_python& py, python_top& top,
                                                                          python_top_screen screen,
                                                                          cpython::sampling_options sampling,
                                                                          std::chrono::nanoseconds refresh) {
    bool quit = false;
    if (screen.status.empty()) {
        screen.status = fmt::format("q quit  1-4 sort by column  refreshed every {} ms, {:g} samples a second; the "
                                    "process is never stopped",
                                    std::chrono::duration_cast<std::chrono::milliseconds>(refresh).count(),
                                    sampling.rate_hz);
    }
    std::optional<terminal_view> view{std::in_place};
    const auto fit = [&] { std::tie(screen.width, screen.height) = terminal_view::size(); };
    fit();
    terminal_view::draw(render_python_top(top, screen));
    std::chrono::nanoseconds drawn{0};
    auto asked_to_stop = std::move(sampling.stop_requested);
    sampling.stop_requested = [&] { return quit || (asked_to_stop && asked_to_stop()); };
    auto summary = cpython::sample_stacks(py, sampling, [&](const cpython::sampling_tick& tick) {
        top.add(tick);
        bool again = false;
        while (auto key = view->key()) {
            if (*key == 'q' || *key == 'Q') quit = true;
            if (*key >= '1' && *key <= '4') {
                screen.sort = static_cast<python_top_sort>(*key - '1');
                again = true;
            }
        }
        if (quit) return;
        if (terminal_view::resized()) {
            fit();
            again = true;
        }
        if (tick.at - drawn >= refresh) {
            terminal_view::draw(render_python_top(top, screen));
            top.next_window();
            drawn = tick.at;
        } else if (again) {
            terminal_view::draw(render_python_top(top, screen));
        }
    });
    view.reset();  // the terminal as it was, before the caller prints on it
    auto sampled = TRIAGE_TRY(detail::sampled_something(std::move(summary), py.dir.pid()));
    return python_top_view_end{py.dir.pid(), sampled, quit};
}

} // namespace triage::report
