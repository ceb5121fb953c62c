// triage/report/terminal_view.hpp — a full-screen view on a terminal that
// is always put back: the alternate screen, the cursor hidden, and (when
// stdin is the terminal) keys read as they are typed, without echo, Ctrl+Z
// disabled (a stopped view would leave the terminal as it is). All restored
// by the destructor, on every way out of the view: a return, an exception,
// and after SIGINT, SIGTERM or SIGHUP (report::end_on_signals makes them end
// the work, not the program).
//
// Offers: `terminal_view` (RAII), `size()` (columns, lines; 80 × 24 when
// the terminal does not say), `resized()` (SIGWINCH since the last call),
// `key()` (a key typed, without waiting), `draw(text)` (a screen in one
// write, each line cleared to its end).
// Thread-safe: no (one view per process). Signal-safe: no. Target process:
// none.
//
//   triage::report::terminal_view view;
//   while (!done) { if (auto k = view.key(); k == 'q') break; view.draw(screen_text()); }
#pragma once

#include <signal.h>
#include <termios.h>

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include "triage/base/config.hpp"

namespace triage::report {

class terminal_view {
public:
    TRIAGE_DECL terminal_view();
    terminal_view(const terminal_view&) = delete;
    terminal_view& operator=(const terminal_view&) = delete;
    TRIAGE_DECL ~terminal_view();

    // Columns and lines (80 × 24 when the terminal does not say).
    [[nodiscard]] TRIAGE_DECL static std::pair<std::size_t, std::size_t> size();
    // Whether the terminal was resized since the last call.
    [[nodiscard]] TRIAGE_DECL static bool resized();
    // A key typed since the last call.
    [[nodiscard]] TRIAGE_DECL std::optional<char> key() const;
    // `text` (lines ending in \n, no more than the screen holds) over the previous screen, in one write.
    TRIAGE_DECL static void draw(std::string_view text);

private:
    termios saved_{};
    bool keys_ = false;
    struct sigaction saved_winch_ {};
};

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/terminal_view.ipp"
#endif
