// triage/report/impl/terminal_view.ipp — the definitions of
// triage/report/terminal_view.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <string>

#include "triage/report/terminal_view.hpp"

namespace triage::report {

namespace detail::terminal {
inline volatile std::sig_atomic_t window_resized = 0;

TRIAGE_DECL void write_all(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the terminal is gone: nothing left to restore on it
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}
} // namespace detail::terminal

TRIAGE_DECL terminal_view::terminal_view() {
    if (::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
        termios keys = saved_;
        keys.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
        keys.c_cc[VMIN] = 0;  // read() returns at once, with a key or none
        keys.c_cc[VTIME] = 0;
        keys.c_cc[VSUSP] = _POSIX_VDISABLE;
        keys_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &keys) == 0;
    }
    struct sigaction resized {};
    resized.sa_handler = [](int) { detail::terminal::window_resized = 1; };
    resized.sa_flags = SA_RESTART;  // redrawn at the next tick
    sigemptyset(&resized.sa_mask);
    ::sigaction(SIGWINCH, &resized, &saved_winch_);
    detail::terminal::write_all("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
}

TRIAGE_DECL terminal_view::~terminal_view() {
    detail::terminal::write_all("\x1b[?25h\x1b[?1049l");
    if (keys_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    ::sigaction(SIGWINCH, &saved_winch_, nullptr);
}

[[nodiscard]] TRIAGE_DECL std::pair<std::size_t, std::size_t> terminal_view::size() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return {ws.ws_col, ws.ws_row};
    return {80, 24};
}

[[nodiscard]] TRIAGE_DECL bool terminal_view::resized() {
    const bool was = detail::terminal::window_resized != 0;
    detail::terminal::window_resized = 0;
    return was;
}

[[nodiscard]] TRIAGE_DECL std::optional<char> terminal_view::key() const {
    char c = 0;
    if (keys_ && ::read(STDIN_FILENO, &c, 1) == 1) return c;
    return std::nullopt;
}

TRIAGE_DECL void terminal_view::draw(std::string_view text) {
    std::string frame = "\x1b[H";
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        frame.append(text.substr(at, end - at)).append("\x1b[K");
        at = end + 1;
        if (at < text.size()) frame += "\r\n";
    }
    detail::terminal::write_all(frame + "\x1b[J");
}

} // namespace triage::report
