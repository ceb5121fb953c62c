// triage/report/impl/python_top_view.ipp — the definitions of
// triage/report/python_top_view.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <optional>
#include <tuple>
#include <utility>

#include "triage/report/python_top_view.hpp"
#include "triage/report/terminal_view.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL result<python_top_view_end> run_python_top_view(cpython::live_python& py, python_top& top,
                                                                          python_top_screen screen,
                                                                          cpython::sampling_options sampling,
                                                                          std::chrono::nanoseconds refresh) {
    bool quit = false;
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
    if (!summary) return fail(std::move(summary.error()));
    return python_top_view_end{std::move(*summary), quit};
}

} // namespace triage::report
