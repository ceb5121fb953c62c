// triage/report/impl/python_top.ipp — the definitions of
// triage/report/python_top.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <algorithm>
#include <limits>
#include <utility>

#include <fmt/core.h>

#include "triage/base/escape.hpp"
#include "triage/report/python_top.hpp"

namespace triage::report {

namespace detail::python_top {

[[nodiscard]] constexpr std::size_t char_columns(char32_t c) noexcept {
    if (c == 0x200B || c == 0x200C || c == 0x200D || c == 0xFEFF || (c >= 0x0300 && c <= 0x036F) ||
        (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
        (c >= 0xFE20 && c <= 0xFE2F)) {
        return 0;
    }
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
        (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
        (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
        (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
        (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD)) {
        return 2;
    }
    return 1;
}

// One character of `text` at `at`: its bytes and display columns (a byte
// that does not start valid UTF-8 is one column).
struct text_char {
    std::size_t length = 1;
    std::size_t columns = 1;
};

[[nodiscard]] constexpr text_char char_at(std::string_view text, std::size_t at) noexcept {
    if (static_cast<unsigned char>(text[at]) < 0x80) return {};
    const auto u = triage::detail::escape::decode(text, at);
    if (u.length == 0) return {};
    return {u.length, char_columns(u.code)};
}

[[nodiscard]] TRIAGE_DECL std::size_t display_width(std::string_view text) noexcept {
    std::size_t columns = 0;
    for (std::size_t at = 0; at < text.size();) {
        const auto c = char_at(text, at);
        columns += c.columns;
        at += c.length;
    }
    return columns;
}

[[nodiscard]] TRIAGE_DECL std::string fit(std::string_view text, std::size_t columns, bool keep_end) {
    if (display_width(text) <= columns) return std::string{text};
    constexpr std::string_view ellipsis = "...";
    if (columns < ellipsis.size()) return std::string(columns, '.');
    const std::size_t room = columns - ellipsis.size();
    std::vector<std::pair<std::size_t, std::size_t>> chars;  // offset, columns
    for (std::size_t at = 0; at < text.size();) {
        const auto c = char_at(text, at);
        chars.emplace_back(at, c.columns);
        at += c.length;
    }
    std::size_t used = 0;
    if (!keep_end) {
        std::size_t end = 0;
        for (const auto& [at, width] : chars) {
            if (used + width > room) break;
            used += width;
            end = at + char_at(text, at).length;
        }
        return std::string{text.substr(0, end)} + std::string{ellipsis};
    }
    std::size_t begin = text.size();
    for (auto c = chars.rbegin(); c != chars.rend(); ++c) {
        if (used + c->second > room) break;
        used += c->second;
        begin = c->first;
    }
    return std::string{ellipsis} + std::string{text.substr(begin)};
}

[[nodiscard]] TRIAGE_DECL std::string duration_text(double seconds) {
    if (seconds < 100) return fmt::format("{:.2f}s", seconds);
    const auto whole = static_cast<std::uint64_t>(seconds);
    if (whole < 6000) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
    return fmt::format("{}h{:02}m", whole / 3600, whole / 60 % 60);
}

} // namespace detail::python_top

TRIAGE_DECL std::uint32_t python_top::function_index(const cpython::python_frame& frame) {
    const int line = options_.lines ? frame.line.value_or(0) : 0;
    key_.assign(frame.function);
    key_ += '\0';
    key_ += frame.file;
    key_ += '\0';
    key_ += std::to_string(line);
    if (auto at = function_ids_.find(key_); at != function_ids_.end()) return at->second;
    const auto index = static_cast<std::uint32_t>(functions_.size());
    python_top_function f;
    f.function = frame.function;
    f.file = frame.file;
    f.line = line;
    functions_.push_back(std::move(f));
    last_stack_.push_back(0);
    function_ids_.emplace(key_, index);
    return index;
}

TRIAGE_DECL std::uint32_t python_top::thread_index(const cpython::thread_sample& t) {
    const auto key = std::tuple{t.thread->python_ident, t.tid.value_or(0)};
    auto [at, added] = thread_ids_.try_emplace(key, static_cast<std::uint32_t>(threads_.size()));
    if (added) {
        python_top_thread thread;
        thread.label = t.tid ? std::to_string(*t.tid) : "ident " + std::to_string(t.thread->python_ident);
        if (!t.name.empty()) thread.label += " " + std::string{t.name};
        threads_.push_back(std::move(thread));
    }
    return at->second;
}

TRIAGE_DECL void python_top::add(const cpython::sampling_tick& tick) {
    const auto both = [this](auto counter) {
        ++(window_.*counter);
        ++(all_.*counter);
    };
    both(&python_top_counts::ticks);
    if (last_at_) {
        const auto between = tick.at - *last_at_;
        window_.span += between, all_.span += between;
        both(&python_top_counts::intervals);
    }
    last_at_ = tick.at;
    thread_count_ = tick.threads.size();
    bool gil_held = false;
    for (const cpython::thread_sample& t : tick.threads) {
        both(&python_top_counts::thread_samples);
        if (t.on_cpu) both(&python_top_counts::on_cpu);
        if (t.holds_gil) {
            python_top_thread& holder = threads_[thread_index(t)];
            ++holder.gil_ticks, ++holder.gil_ticks_all;
            gil_held = true;
        }
        if (!t.on_cpu && !options_.idle) {
            both(&python_top_counts::idle);
            continue;
        }
        if (options_.gil_only && !t.holds_gil) {
            both(&python_top_counts::gil_dropped);
            continue;
        }
        if (t.thread->frames.empty()) {
            both(&python_top_counts::empty);
            continue;
        }
        both(&python_top_counts::samples);
        ++stack_number_;
        bool innermost = true;
        for (const cpython::python_frame& frame : t.thread->frames) {
            const std::uint32_t index = function_index(frame);
            python_top_function& f = functions_[index];
            if (innermost) ++f.own, ++f.own_all;
            innermost = false;
            // Once per stack: a recursive function is in it many times.
            if (last_stack_[index] == stack_number_) continue;
            last_stack_[index] = stack_number_;
            ++f.total, ++f.total_all;
        }
    }
    if (gil_held) both(&python_top_counts::gil_ticks);
}

TRIAGE_DECL void python_top::next_window() {
    window_ = {};
    for (python_top_function& f : functions_) f.own = f.total = 0;
    for (python_top_thread& t : threads_) t.gil_ticks = 0;
}

TRIAGE_DECL const python_top_thread* python_top::gil_holder() const {
    const bool in_window = std::ranges::any_of(threads_, [](const python_top_thread& t) { return t.gil_ticks > 0; });
    const python_top_thread* most = nullptr;
    for (const python_top_thread& t : threads_) {
        const std::uint64_t held = in_window ? t.gil_ticks : t.gil_ticks_all;
        if (held > 0 && (most == nullptr || held > (in_window ? most->gil_ticks : most->gil_ticks_all))) most = &t;
    }
    return most;
}

TRIAGE_DECL std::vector<const python_top_function*> python_top::sorted(python_top_sort key) const {
    std::vector<const python_top_function*> out;
    out.reserve(functions_.size());
    for (const python_top_function& f : functions_) out.push_back(&f);
    const auto counts = [key](const python_top_function& f) {
        switch (key) {
        case python_top_sort::total: return std::tuple{f.total, f.own, f.total_all, f.own_all};
        case python_top_sort::own_time: return std::tuple{f.own_all, f.total_all, f.own, f.total};
        case python_top_sort::total_time: return std::tuple{f.total_all, f.own_all, f.total, f.own};
        case python_top_sort::own: break;
        }
        return std::tuple{f.own, f.total, f.own_all, f.total_all};
    };
    std::ranges::stable_sort(out, [&](const python_top_function* a, const python_top_function* b) {
        const auto ca = counts(*a), cb = counts(*b);
        if (ca != cb) return ca > cb;
        return std::tie(a->function, a->file, a->line) < std::tie(b->function, b->file, b->line);
    });
    return out;
}

[[nodiscard]] TRIAGE_DECL std::string render_python_top(const python_top& top, const python_top_screen& screen) {
    namespace d = detail::python_top;
    // Right after next_window() the window is empty: show everything since the start instead.
    const bool in_window = top.window().ticks > 0;
    const python_top_counts& w = in_window ? top.window() : top.cumulative();
    const python_top_counts& all = top.cumulative();
    const double ticks = static_cast<double>(std::max<std::uint64_t>(w.ticks, 1));
    const double rate = all.achieved_rate();
    const double period = rate > 0 ? 1 / rate : screen.rate_hz > 0 ? 1 / screen.rate_hz : 0;

    std::vector<std::string> lines;
    std::string title = fmt::format("pid {}", screen.pid);
    if (!screen.python_version.empty()) title += "  Python " + escape_controls(screen.python_version);
    if (!screen.command.empty()) title += "  " + escape_controls(screen.command);
    lines.push_back(std::move(title));

    std::string stats = fmt::format("Samples: {}", all.ticks);
    if (w.ticks != all.ticks) {
        stats += fmt::format(" ({} in the last {:.1f} s)", w.ticks, std::chrono::duration<double>(w.span).count());
    }
    stats += fmt::format("  Rate: {:.1f}{} Hz  Threads: {:.1f} of {} on a CPU  GIL: {:.1f}%", w.achieved_rate(),
                         screen.rate_hz > 0 ? fmt::format(" of {:g}", screen.rate_hz) : "",
                         static_cast<double>(w.on_cpu) / ticks, top.thread_count(),
                         100.0 * static_cast<double>(w.gil_ticks) / ticks);
    if (const python_top_thread* holder = top.gil_holder()) {
        const std::uint64_t held = in_window ? holder->gil_ticks : holder->gil_ticks_all;
        stats += fmt::format(" ({} {:.0f}%)", escape_controls(holder->label), 100.0 * static_cast<double>(held) / ticks);
    }
    lines.push_back(std::move(stats));

    const auto& options = top.options();
    std::string counted = fmt::format("Counted: {} stacks of {}", w.samples,
                                      options.gil_only ? (options.idle ? "the GIL holder" : "the GIL holder on a CPU")
                                      : options.idle   ? "all threads"
                                                       : "threads on a CPU");
    std::string left_out;
    const auto leave = [&](std::uint64_t n, std::string_view what) {
        if (n > 0) left_out += fmt::format("{}{} {}", left_out.empty() ? "" : ", ", n, what);
    };
    leave(w.idle, "idle");
    leave(w.gil_dropped, "not holding the GIL");
    leave(w.empty, "without a Python frame");
    if (!left_out.empty()) counted += " (left out: " + left_out + ")";
    lines.push_back(std::move(counted));
    lines.emplace_back();

    const std::string header = fmt::format("{:>6} {:>7} {:>8} {:>10}  ", "%Own", "%Total", "OwnTime", "TotalTime");
    lines.push_back(header + (options.lines ? "Function (file:line)" : "Function (file)"));
    const std::size_t header_lines = lines.size();

    const auto rows = top.sorted(screen.sort);
    std::size_t room = std::numeric_limits<std::size_t>::max();
    if (screen.height > 0) {
        const std::size_t around = header_lines + (screen.status.empty() ? 0 : 1);
        room = screen.height > around ? screen.height - around : 0;
    }
    if (screen.max_rows > 0) room = std::min(room, screen.max_rows);
    const std::size_t prefix_width = header.size();
    const std::size_t name_room = screen.width > prefix_width ? screen.width - prefix_width : 0;
    const auto percent = [&](std::uint64_t n) { return fmt::format("{:.1f}%", 100.0 * static_cast<double>(n) / ticks); };
    std::size_t shown = 0;
    for (const python_top_function* f : rows) {
        if (shown == room) break;
        ++shown;
        const std::string name = escape_controls(f->function);
        const std::string where = f->line > 0 ? fmt::format(":{}", f->line) : "";
        std::string file = escape_controls(f->file);
        std::string cell = file.empty() ? name + where : name + " (" + file + where + ")";
        if (screen.width > 0 && !file.empty() && d::display_width(cell) > name_room) {
            // The file loses its start first: its last part names it best.
            const std::size_t fixed = d::display_width(name) + 3 + where.size();
            constexpr std::size_t least = 8;
            if (name_room >= fixed + least) cell = name + " (" + d::fit(file, name_room - fixed, true) + where + ")";
        }
        lines.push_back(fmt::format("{:>6} {:>7} {:>8} {:>10}  {}", percent(in_window ? f->own : f->own_all),
                                    percent(in_window ? f->total : f->total_all),
                                    d::duration_text(static_cast<double>(f->own_all) * period),
                                    d::duration_text(static_cast<double>(f->total_all) * period), cell));
    }
    if (rows.empty()) {
        lines.emplace_back(w.idle > 0 && w.samples == 0 ? "(no stack counted yet: the threads were not on a CPU)"
                                                        : "(no stack counted yet)");
    } else if (shown < rows.size() && screen.height == 0) {
        lines.push_back(fmt::format("... {} more function{}", rows.size() - shown, rows.size() - shown == 1 ? "" : "s"));
    }
    if (!screen.status.empty()) {
        if (screen.height > 0) {
            while (lines.size() + 1 < screen.height) lines.emplace_back();
            if (lines.size() >= screen.height) lines.resize(screen.height - 1);
        }
        lines.push_back(escape_controls(screen.status));
    } else if (screen.height > 0 && lines.size() > screen.height) {
        lines.resize(screen.height);
    }

    std::string text;
    for (const std::string& line : lines) {
        text += screen.width > 0 ? d::fit(line, screen.width) : line;
        text += '\n';
    }
    return text;
}

[[nodiscard]] TRIAGE_DECL std::optional<python_top_sort> python_top_sort_named(std::string_view name) noexcept {
    if (name == "own") return python_top_sort::own;
    if (name == "total") return python_top_sort::total;
    if (name == "own-time") return python_top_sort::own_time;
    if (name == "total-time") return python_top_sort::total_time;
    return std::nullopt;
}

} // namespace triage::report
