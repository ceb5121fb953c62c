// report/python_top.hpp on hand-made ticks: own and total samples (a
// recursive function counted once per stack), windows and what they reset,
// idle and GIL filters, the GIL holder and the rate; the screen: rows in
// order with their shares and times, cut to the width (a file loses its
// start, a line its end, wide characters count two columns) and to the
// height, hostile names escaped.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "triage/report/python_top.hpp"

namespace python_top_test {

namespace cpython = triage::cpython;
namespace report = triage::report;
using report::detail::python_top::display_width;

cpython::python_frame frame(std::string function, std::string file, int line) {
    cpython::python_frame f;
    f.function = std::move(function);
    f.file = std::move(file);
    f.line = line;
    return f;
}

cpython::python_thread thread(std::uint64_t ident, pid_t tid, std::vector<cpython::python_frame> innermost_first) {
    cpython::python_thread t;
    t.python_ident = ident;
    t.tid = tid;
    t.frames = std::move(innermost_first);
    return t;
}

cpython::thread_sample sample(const cpython::python_thread& t, std::string_view name, bool on_cpu, bool gil) {
    cpython::thread_sample s;
    s.thread = &t;
    s.tid = t.tid;
    s.name = name;
    s.on_cpu = on_cpu;
    s.holds_gil = gil;
    return s;
}

// Ticks 10 ms apart from `first`.
void feed(report::python_top& top, const std::vector<cpython::thread_sample>& threads, std::uint64_t ticks,
          std::uint64_t first = 0) {
    for (std::uint64_t i = first; i < first + ticks; ++i) {
        top.add(cpython::sampling_tick{i, std::chrono::milliseconds{10 * i}, threads});
    }
}

const report::python_top_function& find(const report::python_top& top, std::string_view function) {
    auto at = std::ranges::find(top.functions(), function, &report::python_top_function::function);
    REQUIRE(at != top.functions().end());
    return *at;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// The row of a function: the line that ends its cell, or "".
std::string row_of(const std::vector<std::string>& lines, std::string_view cell) {
    for (const auto& line : lines) {
        if (line.ends_with(cell)) return line;
    }
    return "";
}

std::size_t line_index(const std::vector<std::string>& lines, std::string_view text) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find(text) != std::string::npos) return i;
    }
    return lines.size();
}

} // namespace python_top_test

TEST_CASE("python_top: own is the innermost frame, total counts a function once per stack even when recursive") {
    using namespace python_top_test;
    // main → walk → walk → walk (recursion), and main → walk → leaf.
    const auto recursive = thread(1, 100, {frame("walk", "t.py", 5), frame("walk", "t.py", 6), frame("walk", "t.py", 6),
                                           frame("<module>", "t.py", 20)});
    const auto to_leaf = thread(2, 101, {frame("leaf", "u.py", 2), frame("walk", "t.py", 6), frame("<module>", "t.py", 21)});
    report::python_top top{{}};
    feed(top, {sample(recursive, "MainThread", true, true), sample(to_leaf, "worker", true, false)}, 4);

    CHECK(top.functions().size() == 3);  // lines are not kept apart by default
    CHECK(find(top, "walk").own == 4);
    CHECK(find(top, "walk").total == 8);  // 4 stacks each of both threads, not 3 × 4 + 4
    CHECK(find(top, "leaf").own == 4);
    CHECK(find(top, "leaf").total == 4);
    CHECK(find(top, "<module>").own == 0);
    CHECK(find(top, "<module>").total == 8);
    CHECK(find(top, "walk").line == 0);
    CHECK(top.window().ticks == 4);
    CHECK(top.window().samples == 8);
    CHECK(top.thread_count() == 2);

    // With lines, each line is its own row; recursion through one line still counts once.
    report::python_top by_line{{.idle = false, .gil_only = false, .lines = true}};
    feed(by_line, {sample(recursive, "MainThread", true, true)}, 3);
    CHECK(by_line.functions().size() == 3);
    const auto& line6 = *std::ranges::find_if(by_line.functions(), [](const auto& f) { return f.line == 6; });
    CHECK(line6.function == "walk");
    CHECK(line6.own == 0);
    CHECK(line6.total == 3);
}

TEST_CASE("python_top: windows reset what a refresh shows and keep the cumulative counts; idle and GIL filters") {
    using namespace python_top_test;
    const auto hot = thread(1, 100, {frame("spin", "a.py", 3), frame("<module>", "a.py", 9)});
    const auto sleeper = thread(2, 101, {frame("sleep", "b.py", 4)});
    const auto c_thread = thread(3, 102, {});
    const std::vector<cpython::thread_sample> threads{sample(hot, "MainThread", true, true),
                                                      sample(sleeper, "sleeper", false, false),
                                                      sample(c_thread, "", true, false)};
    report::python_top top{{}};
    feed(top, threads, 10);
    CHECK(top.window().idle == 10);
    CHECK(top.window().empty == 10);
    CHECK(top.window().samples == 10);
    CHECK(top.window().on_cpu == 20);
    CHECK(top.window().gil_ticks == 10);
    CHECK(top.window().achieved_rate() == doctest::Approx(100.0));  // 9 intervals of 10 ms
    CHECK(std::ranges::none_of(top.functions(), [](const auto& f) { return f.function == "sleep"; }));
    REQUIRE(top.gil_holder() != nullptr);
    CHECK(top.gil_holder()->label == "100 MainThread");

    top.next_window();
    CHECK(top.window().ticks == 0);
    CHECK(find(top, "spin").own == 0);
    CHECK(find(top, "spin").own_all == 10);
    feed(top, threads, 5, 10);
    CHECK(top.window().ticks == 5);
    CHECK(top.window().intervals == 5);  // the first tick of a window follows the last of the previous
    CHECK(top.cumulative().ticks == 15);
    CHECK(find(top, "spin").own == 5);
    CHECK(find(top, "spin").own_all == 15);
    CHECK(find(top, "<module>").total_all == 15);

    report::python_top idle{{.idle = true, .gil_only = false, .lines = false}};
    feed(idle, threads, 2);
    CHECK(find(idle, "sleep").own == 2);
    CHECK(idle.window().samples == 4);

    report::python_top gil{{.idle = true, .gil_only = true, .lines = false}};
    feed(gil, threads, 2);
    CHECK(gil.window().samples == 2);
    CHECK(gil.window().gil_dropped == 4);
    CHECK(gil.functions().size() == 2);
}

TEST_CASE("python_top: the GIL holder is the thread that held it most in the window") {
    using namespace python_top_test;
    const auto a = thread(1, 100, {frame("a", "a.py", 1)});
    const auto b = thread(2, 101, {frame("b", "b.py", 1)});
    report::python_top top{{}};
    feed(top, {sample(a, "first", true, true), sample(b, "second", true, false)}, 6);
    top.next_window();
    feed(top, {sample(a, "first", true, false), sample(b, "second", true, true)}, 2, 6);
    REQUIRE(top.gil_holder() != nullptr);
    CHECK(top.gil_holder()->label == "101 second");
    CHECK(top.gil_holder()->gil_ticks_all == 2);
    top.next_window();  // nobody held it in the (empty) window: the holder since the start
    CHECK(top.gil_holder()->label == "100 first");
}

TEST_CASE("python_top: sorted by own, by total, by the cumulative times") {
    using namespace python_top_test;
    // outer calls mid (own 1 of 4) and inner (own 3 of 4) ... then a new window where mid is hot.
    const auto in_inner = thread(1, 100, {frame("inner", "x.py", 1), frame("outer", "x.py", 9)});
    const auto in_mid = thread(1, 100, {frame("mid", "x.py", 5), frame("outer", "x.py", 9)});
    report::python_top top{{}};
    feed(top, {sample(in_inner, "", true, false)}, 30);
    feed(top, {sample(in_mid, "", true, false)}, 10, 30);
    auto names = [](const auto& rows) {
        std::vector<std::string> out;
        for (const auto* f : rows) out.push_back(f->function);
        return out;
    };
    CHECK(names(top.sorted(report::python_top_sort::own)) == std::vector<std::string>{"inner", "mid", "outer"});
    CHECK(names(top.sorted(report::python_top_sort::total)) == std::vector<std::string>{"outer", "inner", "mid"});
    top.next_window();
    feed(top, {sample(in_mid, "", true, false)}, 5, 40);
    CHECK(names(top.sorted(report::python_top_sort::own)) == std::vector<std::string>{"mid", "outer", "inner"});
    CHECK(names(top.sorted(report::python_top_sort::own_time)) == std::vector<std::string>{"inner", "mid", "outer"});
    CHECK(names(top.sorted(report::python_top_sort::total_time)) == std::vector<std::string>{"outer", "inner", "mid"});
}

TEST_CASE("render_python_top: header, rows hottest first with the window's shares and cumulative times") {
    using namespace python_top_test;
    const auto heavy = thread(1, 4242, {frame("heavy", "/srv/app/split.py", 10), frame("<module>", "/srv/app/split.py", 30)});
    const auto light = thread(1, 4242, {frame("light", "/srv/app/split.py", 16), frame("<module>", "/srv/app/split.py", 31)});
    const auto sleeper = thread(2, 4243, {frame("sleep", "/srv/app/split.py", 22)});
    report::python_top top{{}};
    // 100 ticks 10 ms apart: 75 in heavy, 25 in light; the sleeper idle.
    for (std::uint64_t i = 0; i < 100; ++i) {
        const auto& main = i % 4 == 3 ? light : heavy;
        const std::vector<cpython::thread_sample> threads{sample(main, "MainThread", true, true),
                                                          sample(sleeper, "sleeper", false, false)};
        top.add(cpython::sampling_tick{i, std::chrono::milliseconds{10 * i}, threads});
    }
    report::python_top_screen screen;
    screen.pid = 4242;
    screen.python_version = "3.11.2";
    screen.command = "python3 split.py";
    screen.rate_hz = 100;
    const auto lines = lines_of(report::render_python_top(top, screen));
    INFO(report::render_python_top(top, screen));
    REQUIRE(lines.size() == 8);
    CHECK(lines[0] == "pid 4242  Python 3.11.2  python3 split.py");
    CHECK(lines[1] == "Samples: 100  Rate: 100.0 of 100 Hz  Threads: 1.0 of 2 on a CPU  GIL: 100.0% (4242 MainThread 100%)");
    CHECK(lines[2] == "Counted: 100 stacks of threads on a CPU (left out: 100 idle)");
    CHECK(lines[3].empty());
    CHECK(lines[4] == "  %Own  %Total  OwnTime  TotalTime  Function (file)");
    CHECK(lines[5] == " 75.0%   75.0%    0.75s      0.75s  heavy (/srv/app/split.py)");
    CHECK(lines[6] == " 25.0%   25.0%    0.25s      0.25s  light (/srv/app/split.py)");
    CHECK(lines[7] == "  0.0%  100.0%    0.00s      1.00s  <module> (/srv/app/split.py)");

    // Sorted by total, limited to two rows, with a status line.
    screen.sort = report::python_top_sort::total;
    screen.max_rows = 2;
    screen.status = "the process exited";
    const auto by_total = lines_of(report::render_python_top(top, screen));
    REQUIRE(by_total.size() == 9);
    CHECK(by_total[5].ends_with("<module> (/srv/app/split.py)"));
    CHECK(by_total[6].ends_with("heavy (/srv/app/split.py)"));
    CHECK(by_total[7] == "... 1 more function");
    CHECK(by_total[8] == "the process exited");

    // A second window: shares of its ticks, times since the start.
    top.next_window();
    for (std::uint64_t i = 100; i < 150; ++i) {
        const std::vector<cpython::thread_sample> threads{sample(light, "MainThread", true, true)};
        top.add(cpython::sampling_tick{i, std::chrono::milliseconds{10 * i}, threads});
    }
    screen = {};
    screen.pid = 4242;
    const auto second = lines_of(report::render_python_top(top, screen));
    CHECK(second[0] == "pid 4242");
    CHECK(second[1].starts_with("Samples: 150 (50 in the last 0.5 s)  Rate: 100.0 Hz  Threads: 1.0 of 1 on a CPU"));
    CHECK(row_of(second, "light (/srv/app/split.py)") == "100.0%  100.0%    0.75s      0.75s  light (/srv/app/split.py)");
    CHECK(row_of(second, "heavy (/srv/app/split.py)") == "  0.0%    0.0%    0.75s      0.75s  heavy (/srv/app/split.py)");
    CHECK(line_index(second, "light (") < line_index(second, "heavy ("));
}

TEST_CASE("render_python_top: cut to the width and the height; a file loses its start, a name its end") {
    using namespace python_top_test;
    const std::string file = "/usr/lib/python3/dist-packages/some/deeply/nested/package/module_name.py";
    const auto t = thread(1, 7, {frame("handler", file, 3), frame(std::string(200, 'f'), "z.py", 1),
                                 frame("\xe5\x90\x8d\xe5\x89\x8d_wide", "\xe5\x90\x8d.py", 2)});
    report::python_top top{{}};
    feed(top, {sample(t, "MainThread", true, true)}, 20);
    report::python_top_screen screen;
    screen.pid = 7;
    screen.command = std::string(300, 'c');
    screen.width = 80;
    screen.height = 12;
    screen.status = "q quit  1-4 sort";
    const std::string text = report::render_python_top(top, screen);
    INFO(text);
    const auto lines = lines_of(text);
    CHECK(lines.size() == 12);
    for (const auto& line : lines) CHECK(display_width(line) <= 80);
    CHECK(lines.back() == "q quit  1-4 sort");
    CHECK(lines[0].ends_with("ccc..."));
    // The file's end is kept: its name says most.
    const std::string handler = row_of(lines, "module_name.py)");
    CHECK(handler.find("handler (...") != std::string::npos);
    CHECK(display_width(handler) == 80);
    // A name longer than the line: its end is cut.
    CHECK(std::ranges::any_of(lines, [](const auto& l) { return l.ends_with("fff..."); }));
    CHECK(std::ranges::any_of(lines, [](const auto& l) { return l.ends_with("\xe5\x90\x8d\xe5\x89\x8d_wide (\xe5\x90\x8d.py)"); }));

    // A screen too short for every row keeps the header and the status line.
    screen.height = 6;
    const auto short_lines = lines_of(report::render_python_top(top, screen));
    CHECK(short_lines.size() == 6);
    CHECK(short_lines[4].find("%Own") != std::string::npos);
    CHECK(short_lines[5] == "q quit  1-4 sort");
    // Without a status line, rows take its place.
    screen.height = 7;
    screen.status.clear();
    const auto no_status = lines_of(report::render_python_top(top, screen));
    CHECK(no_status.size() == 7);
    CHECK(no_status[6].find("%") != std::string::npos);

    // Wide characters: two columns each, never cut in half.
    CHECK(display_width("\xe5\x90\x8d\xe5\x89\x8d") == 4);
    CHECK(display_width("e\xcc\x81") == 1);  // e + combining acute
    CHECK(report::detail::python_top::fit("\xe5\x90\x8d\xe5\x89\x8d\xe5\x90\x8d", 5) == "\xe5\x90\x8d...");
    CHECK(report::detail::python_top::fit("ab\xe5\x90\x8d\xe5\x89\x8d", 5, true) == "...\xe5\x89\x8d");
    CHECK(report::detail::python_top::fit("short", 5) == "short");
    CHECK(report::detail::python_top::fit("longer", 2) == "..");
    CHECK(report::detail::python_top::duration_text(0.25) == "0.25s");
    CHECK(report::detail::python_top::duration_text(725) == "12m05s");
    CHECK(report::detail::python_top::duration_text(11220) == "3h07m");
}

TEST_CASE("render_python_top: hostile function, file, thread names and command lines are escaped") {
    using namespace python_top_test;
    const auto t = thread(1, 9, {frame("\x1b]0;owned\x07", "evil\x1b[2J.py", 1),
                                 frame("ok\xe2\x80\xae" "desrever", "a\nb.py", 2)});
    report::python_top top{{}};
    feed(top, {sample(t, "\x1b[31mred", true, true)}, 3);
    report::python_top_screen screen;
    screen.pid = 9;
    screen.command = "python\r\x1b[Kfake";
    screen.width = 200;
    const std::string text = report::render_python_top(top, screen);
    INFO(text);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.find("\xe2\x80\xae") == std::string::npos);
    const auto lines = lines_of(text);
    CHECK(lines.size() == 7);  // 5 of header, one row per function: no name broke a line
    CHECK(lines[0] == "pid 9  python\\r\\x1b[Kfake");
    CHECK(lines[1].ends_with("(9 \\x1b[31mred 100%)"));
    CHECK(row_of(lines, "\\x1b]0;owned\\x07 (evil\\x1b[2J.py)") != "");
    CHECK(row_of(lines, "ok\\u202edesrever (a\\nb.py)") != "");
}

TEST_CASE("render_python_top: before any stack is counted") {
    using namespace python_top_test;
    const auto sleeper = thread(1, 5, {frame("sleep", "s.py", 1)});
    report::python_top top{{}};
    report::python_top_screen screen;
    screen.rate_hz = 100;
    CHECK(lines_of(report::render_python_top(top, screen)).back() == "(no stack counted yet)");
    feed(top, {sample(sleeper, "", false, false)}, 3);
    CHECK(lines_of(report::render_python_top(top, screen)).back() ==
          "(no stack counted yet: the threads were not on a CPU)");
}

TEST_CASE("python_top_sort_named: the four columns by the names --sort takes, nothing else") {
    using triage::report::python_top_sort;
    CHECK(triage::report::python_top_sort_named("own") == python_top_sort::own);
    CHECK(triage::report::python_top_sort_named("total") == python_top_sort::total);
    CHECK(triage::report::python_top_sort_named("own-time") == python_top_sort::own_time);
    CHECK(triage::report::python_top_sort_named("total-time") == python_top_sort::total_time);
    for (const char* other : {"", "Own", "own_time", "totals"}) CHECK_FALSE(triage::report::python_top_sort_named(other));
}
