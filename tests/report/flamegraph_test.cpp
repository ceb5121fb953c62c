// The SVG flame graph writer (report/flamegraph.hpp) on profiles built from
// hand-made sampling ticks: its structure read back with Python's XML
// parser, hostile target names, and the file as Chromium draws it and runs
// its script (hover, zoom, reset, search).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/report/flamegraph.hpp"

namespace flamegraph_test {

using namespace triage;
using triage::test_support::scratch_dir;

struct frame_spec {
    std::string function;
    std::string file = "app.py";
    int line = 1;
};

struct stack_spec {
    std::vector<frame_spec> frames;  // outermost first
    std::uint64_t samples = 1;
    std::uint32_t thread = 0;        // tid 100 + thread, named thread_names[thread]
};

// A profile folded from ticks made by hand: each stack's thread sampled
// `samples` times, on a CPU.
report::profile profile_of(const std::vector<stack_spec>& stacks, bool by_thread,
                           const std::vector<std::string>& thread_names = {"MainThread", "worker"}) {
    report::profile p{{.idle = false, .gil_only = false, .by_thread = by_thread, .lines = true}};
    cpython::python_thread thread;
    std::uint64_t index = 0;
    for (const stack_spec& s : stacks) {
        thread.python_ident = 1 + s.thread;
        thread.tid = static_cast<pid_t>(100 + s.thread);
        thread.frames.clear();
        for (auto f = s.frames.rbegin(); f != s.frames.rend(); ++f) {
            cpython::python_frame frame;
            frame.function = f->function, frame.file = f->file, frame.line = f->line;
            thread.frames.push_back(std::move(frame));
        }
        cpython::thread_sample sample;
        sample.thread = &thread, sample.tid = thread.tid, sample.name = thread_names.at(s.thread), sample.on_cpu = true;
        for (std::uint64_t i = 0; i < s.samples; ++i) {
            p.add(cpython::sampling_tick{index, std::chrono::milliseconds{10 * index}, std::span{&sample, 1}});
            ++index;
        }
    }
    return p;
}

// ~200 distinct stacks of a made-up web service, 4 to 10 frames deep,
// sharing prefixes: a profile a person would look at.
report::profile service_profile() {
    const std::vector<std::vector<std::string>> levels = {
        {"serve_forever"},
        {"_handle_request_noblock", "handle_request"},
        {"process_request", "finish_request", "verify_request"},
        {"do_GET", "do_POST", "do_PUT", "parse_request"},
        {"route", "authenticate", "load_session", "render_template", "query"},
        {"execute", "fetchall", "json_dumps", "compile_template", "hash_password", "decode_body"},
        {"_iterencode", "cursor_execute", "pbkdf2_hmac", "_compile", "read_chunk", "parse_header", "escape"},
    };
    const std::vector<std::string> modules = {"socketserver", "socketserver", "http/server", "app/handlers",
                                              "app/views", "app/db", "app/util"};
    std::uint32_t seed = 2024;
    auto next = [&seed](std::uint32_t bound) {
        seed = seed * 1664525u + 1013904223u;
        return (seed >> 8) % bound;
    };
    std::vector<stack_spec> stacks;
    for (int i = 0; i < 200; ++i) {
        stack_spec s{{{"<module>", "service.py", 1}, {"main", "service.py", 40}}, 1 + next(40), 0};
        const std::uint32_t depth = 2 + next(static_cast<std::uint32_t>(levels.size()) - 1);
        for (std::uint32_t level = 0; level < depth; ++level) {
            const std::uint32_t pick = next(static_cast<std::uint32_t>(levels[level].size()));
            s.frames.push_back({levels[level][pick], modules[level] + ".py", static_cast<int>(10 + 20 * pick)});
        }
        s.frames.push_back({"leaf_" + std::to_string(i), "app/leaves.py", 100 + i});
        stacks.push_back(std::move(s));
    }
    return profile_of(stacks, false);
}

// Reads an SVG with Python's xml.dom.minidom (expat): an XML parser we did
// not write, which refuses a file that is not well-formed.
constexpr std::string_view read_svg_py = R"py(
import json, struct, sys, zlib, xml.dom.minidom

def text(e):
    return "".join(n.data for n in e.childNodes if n.nodeType in (n.TEXT_NODE, n.CDATA_SECTION_NODE))

def read_svg(path):
    doc = xml.dom.minidom.parse(path)
    svg = doc.documentElement
    out = {"root": svg.tagName, "width": float(svg.getAttribute("width")), "height": float(svg.getAttribute("height")),
           "scripts": len(doc.getElementsByTagName("script")), "texts": {}, "frames": []}
    for t in doc.getElementsByTagName("text"):
        if t.getAttribute("id"):
            out["texts"][t.getAttribute("id")] = text(t)
    box = [g for g in doc.getElementsByTagName("g") if g.getAttribute("id") == "frames"][0]
    for g in box.childNodes:
        if g.nodeType != g.ELEMENT_NODE:
            continue
        r = g.getElementsByTagName("rect")[0]
        labels = g.getElementsByTagName("text")
        out["frames"].append({"title": text(g.getElementsByTagName("title")[0]),
                              "x": float(r.getAttribute("x")), "y": float(r.getAttribute("y")),
                              "width": float(r.getAttribute("width")), "height": float(r.getAttribute("height")),
                              "fill": r.getAttribute("fill"), "label": text(labels[0]) if labels else None})
    return out
)py";

struct drawn_frame {
    std::string title, fill;
    std::optional<std::string> label;
    double x = 0, y = 0, width = 0, height = 0;

    // "function (file:line)": the title without " — N samples, P%".
    [[nodiscard]] std::string name() const { return title.substr(0, title.rfind(" \u2014 ")); }
    [[nodiscard]] double end() const { return x + width; }
};

struct drawn_svg {
    double width = 0, height = 0;
    int scripts = 0;
    nlohmann::json texts;
    std::vector<drawn_frame> frames;

    [[nodiscard]] std::vector<drawn_frame> named(std::string_view name) const {
        std::vector<drawn_frame> out;
        for (const drawn_frame& f : frames)
            if (f.name() == name) out.push_back(f);
        return out;
    }
    [[nodiscard]] drawn_frame only(std::string_view name) const {
        auto all = named(name);
        REQUIRE_MESSAGE(all.size() == 1, "frames named ", name, ": ", all.size());
        return all.front();
    }
};

std::string write(const scratch_dir& dir, std::string_view name, const std::string& content) {
    const std::string path = dir / name;
    std::ofstream{path, std::ios::binary} << content;
    return path;
}

drawn_svg read_svg(const scratch_dir& dir, const std::string& svg) {
    const std::string path = write(dir, "read.svg", svg);
    auto run = test_support::run_command(
        {"python3", "-c", std::string{read_svg_py} + "json.dump(read_svg(sys.argv[1]), sys.stdout)\n", path});
    REQUIRE_MESSAGE(run.exit_code == 0, "the SVG is not well-formed XML: ", run.err);
    const auto j = nlohmann::json::parse(run.out);
    drawn_svg out;
    CHECK(j.at("root") == "svg");
    out.width = j.at("width"), out.height = j.at("height"), out.scripts = j.at("scripts"), out.texts = j.at("texts");
    for (const auto& f : j.at("frames")) {
        drawn_frame d;
        d.title = f.at("title"), d.fill = f.at("fill");
        if (!f.at("label").is_null()) d.label = f.at("label").get<std::string>();
        d.x = f.at("x"), d.y = f.at("y"), d.width = f.at("width"), d.height = f.at("height");
        out.frames.push_back(std::move(d));
    }
    return out;
}

struct rgb {
    int r = 0, g = 0, b = 0;
};

rgb parse_fill(const std::string& fill) {
    REQUIRE(fill.size() == 7);
    REQUIRE(fill[0] == '#');
    const int v = std::stoi(fill.substr(1), nullptr, 16);
    return {v >> 16, (v >> 8) & 0xff, v & 0xff};
}

std::size_t characters(std::string_view utf8) {
    return static_cast<std::size_t>(
        std::count_if(utf8.begin(), utf8.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Headless Chromium, bounded in time, leaving nothing behind: its profile,
// cache and home in `dir`; `timeout` ends its whole process group. The
// result's `err` holds the lines the page's console printed (script errors).
test_support::command_result chromium(const scratch_dir& dir, std::vector<std::string> arguments) {
    const std::string binary = "/usr/bin/chromium";
    REQUIRE_MESSAGE(std::filesystem::exists(binary),
                    binary, " is missing: these tests draw the flame graph with it (Debian package chromium)");
    std::filesystem::create_directories(dir / "home");
    std::vector<std::string> argv{"env",  "HOME=" + dir / "home", "XDG_CONFIG_HOME=" + dir / "home",
                                  "XDG_CACHE_HOME=" + dir / "home", "timeout", "--kill-after=5", "60", binary,
                                  "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                  "--hide-scrollbars", "--force-device-scale-factor=1",
                                  "--enable-logging=stderr", "--log-level=0",
                                  "--user-data-dir=" + dir / "chromium-profile"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto run = test_support::run_command(std::move(argv), {.timeout = std::chrono::seconds{90}, .as_nobody = false});
    REQUIRE_MESSAGE(run.exit_code == 0, "chromium failed (exit ", run.exit_code, ", signal ", run.signal, "): ", run.err);
    std::string console;
    for (std::string_view rest = run.err; !rest.empty();) {
        const std::string_view line = rest.substr(0, rest.find('\n'));
        rest.remove_prefix(std::min(rest.size(), line.size() + 1));
        if (line.find(":CONSOLE") != std::string_view::npos) console += std::string{line} + "\n";
    }
    run.err = std::move(console);
    return run;
}

std::string url_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            out += static_cast<char>(std::stoi(std::string{text.substr(i + 1, 2)}, nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The value of attribute `name` in Chromium's dump of the DOM ("" when absent).
std::string dumped_attribute(const std::string& dom, const std::string& name) {
    const std::size_t at = dom.find(" " + name + "=\"");
    if (at == std::string::npos) return {};
    const std::size_t from = at + name.size() + 3;
    return dom.substr(from, dom.find('"', from) - from);
}

TEST_CASE("flamegraph: one box per merged frame, as wide as its samples, the root at the bottom") {
    scratch_dir dir{"flamegraph"};
    const frame_spec main{"main", "app.py", 1}, a{"a", "app.py", 2}, b{"b", "lib.py", 3}, c{"c", "lib.py", 4},
        d{"d", "app.py", 5};
    const auto p = profile_of({{{main, a, b}, 30}, {{main, a, c}, 10}, {{main, d, b}, 40}}, false);
    report::flamegraph_options options;
    options.title = "python3 app.py";
    options.subtitle = "80 samples at 100 Hz";
    const drawn_svg svg = read_svg(dir, report::to_flamegraph(p, options));

    CHECK(svg.width == 1200);
    CHECK(svg.scripts == 1);
    CHECK(svg.texts.at("title") == "python3 app.py");
    CHECK(svg.texts.at("subtitle") == "80 samples at 100 Hz");
    // all, main, a, d, b under a, c, b under d: common prefixes merged.
    REQUIRE(svg.frames.size() == 7);
    const auto all = svg.only("all"), m = svg.only("main (app.py:1)"), fa = svg.only("a (app.py:2)"),
               fd = svg.only("d (app.py:5)"), fc = svg.only("c (lib.py:4)");
    const auto bs = svg.named("b (lib.py:3)");
    REQUIRE(bs.size() == 2);
    const drawn_frame& ab = bs[0].x < bs[1].x ? bs[0] : bs[1];
    const drawn_frame& db = bs[0].x < bs[1].x ? bs[1] : bs[0];
    CHECK(all.title == "all \u2014 80 samples, 100%");
    CHECK(ab.title == "b (lib.py:3) \u2014 30 samples, 37.5%");
    CHECK(fc.title == "c (lib.py:4) \u2014 10 samples, 12.5%");

    // Widths: shares of the 1180 px between the margins.
    CHECK(all.x == doctest::Approx(10).epsilon(0.001));
    CHECK(all.width == doctest::Approx(1180).epsilon(0.001));
    CHECK(m.width == doctest::Approx(1180).epsilon(0.001));
    CHECK(std::abs(fa.width - 590) <= 1);
    CHECK(std::abs(fd.width - 590) <= 1);
    CHECK(std::abs(ab.width - 3 * fc.width) <= 1);  // 30 : 10
    CHECK(std::abs(ab.width + fc.width - fa.width) <= 1);
    CHECK(std::abs(db.width - fd.width) <= 1);
    // Children inside their parent, side by side; a level is 16 px above its parent's.
    CHECK(ab.x >= fa.x - 0.1);
    CHECK(std::abs(fc.x - ab.end()) <= 0.2);
    CHECK(fc.end() <= fa.end() + 0.2);
    CHECK(db.x >= fd.x - 0.1);
    CHECK(db.end() <= fd.end() + 0.2);
    CHECK(std::abs(fd.x - fa.end()) <= 0.2);
    CHECK(all.y - m.y == 16);
    CHECK(m.y - fa.y == 16);
    CHECK(fa.y == fd.y);
    CHECK(fa.y - ab.y == 16);
    CHECK(ab.y == db.y);
    CHECK(ab.y == fc.y);
    CHECK(all.height == 15);
    CHECK(all.y + all.height < svg.height);
    // Colours: warm, by function name.
    CHECK(ab.fill == db.fill);
    CHECK(fa.fill != fd.fill);
    for (const drawn_frame& f : svg.frames) {
        const rgb c = parse_fill(f.fill);
        CHECK(c.r >= 200);
        CHECK(c.r > c.g);
        CHECK(c.g > c.b);
    }
    // Labels fit whole where there is room.
    CHECK(all.label == "all");
    CHECK(ab.label == "b (lib.py:3)");
}

TEST_CASE("flamegraph: frames under 0.1% are left out and counted; labels are cut to fit") {
    scratch_dir dir{"flamegraph"};
    const frame_spec main{"main", "app.py", 1}, tiny{"tiny", "app.py", 3};
    const frame_spec long_named{"a_function_whose_name_is_far_too_long_for_its_box_\u00e9\u00e9\u00e9", "app.py", 4};
    const auto p = profile_of({{{main, {"x", "app.py", 2}}, 1900},
                               {{main, long_named}, 100},
                               {{main, {"small", "app.py", 5}, {"small_child", "app.py", 6}}, 3},
                               {{main, tiny, {"tiny_child", "app.py", 7}}, 1}},
                              false);
    // 2,004 samples on 1180 px: 0.59 px a sample; 0.1% is 1.18 px.
    report::flamegraph_options options;
    options.subtitle = "2,004 samples";
    const drawn_svg svg = read_svg(dir, report::to_flamegraph(p, options));
    CHECK(svg.texts.at("title") == "Flame graph");
    CHECK(svg.texts.at("subtitle") == "2,004 samples \u00b7 2 frames narrower than 0.1% not drawn");
    CHECK(svg.frames.size() == 6);  // all, main, x, long_named, small, small_child
    CHECK(svg.named("tiny (app.py:3)").empty());
    CHECK(svg.named("tiny_child (app.py:7)").empty());
    const auto small = svg.only("small (app.py:5)");
    CHECK(small.width == doctest::Approx(3 * 1180.0 / 2004).epsilon(0.05));
    CHECK(!small.label);  // no room for a label
    // 58.9 px: the label is the name's first characters and "…", no wider than its box.
    const auto cut = svg.only(long_named.function + " (app.py:4)");
    REQUIRE(cut.label);
    CHECK(cut.label->ends_with("\u2026"));
    CHECK(characters(*cut.label) >= 4);
    CHECK(characters(*cut.label) * 12 * 0.6 <= cut.width - 6);
    CHECK(long_named.function.starts_with(cut.label->substr(0, cut.label->size() - 3)));

    // Without a share, the floor is 1 px: tiny (0.59 px) is still left out.
    options.min_frame_share = 0;
    const drawn_svg one_px = read_svg(dir, report::to_flamegraph(p, options));
    CHECK(one_px.texts.at("subtitle") == "2,004 samples \u00b7 2 frames narrower than 1 px not drawn");
    // Twice as wide: 1.2 px a sample, all drawn.
    options.width = 2420;
    const drawn_svg wide = read_svg(dir, report::to_flamegraph(p, options));
    CHECK(wide.texts.at("subtitle") == "2,004 samples");
    CHECK(wide.frames.size() == 8);

    // No samples: a valid file that says so.
    const drawn_svg empty = read_svg(dir, report::to_flamegraph(report::profile{}, {}));
    CHECK(empty.frames.empty());
    CHECK(empty.texts.at("subtitle") == "no samples");
}

TEST_CASE("flamegraph: by_thread puts the thread labels on the first level") {
    scratch_dir dir{"flamegraph"};
    const frame_spec main{"main", "app.py", 1}, a{"a", "app.py", 2}, run{"run", "threading.py", 9};
    const std::vector<stack_spec> stacks{{{main, a}, 6, 0}, {{main, a}, 2, 1}, {{run}, 2, 1}};
    const drawn_svg apart = read_svg(dir, report::to_flamegraph(profile_of(stacks, true), {}));
    // all; 100 MainThread > main > a; 101 worker > main > a, run.
    REQUIRE(apart.frames.size() == 8);
    const auto all = apart.only("all"), t0 = apart.only("100 MainThread"), t1 = apart.only("101 worker");
    CHECK(t0.title == "100 MainThread \u2014 6 samples, 60%");
    CHECK(all.y - t0.y == 16);
    CHECK(t0.y == t1.y);
    CHECK(std::abs(t0.width - 708) <= 1);
    CHECK(std::abs(t1.width - 472) <= 1);
    const auto mains = apart.named("main (app.py:1)");
    REQUIRE(mains.size() == 2);
    CHECK(t0.y - mains[0].y == 16);
    CHECK(apart.only("run (threading.py:9)").y == mains[0].y);
    for (const drawn_frame& t : {t0, t1}) {  // pale blue, not a frame's warm colour
        const rgb c = parse_fill(t.fill);
        CHECK(c.b > c.r);
    }
    CHECK(mains[0].fill == mains[1].fill);
    // The same ticks together: all, main, a, run.
    const drawn_svg together = read_svg(dir, report::to_flamegraph(profile_of(stacks, false), {}));
    CHECK(together.frames.size() == 4);
    CHECK(together.only("main (app.py:1)").title == "main (app.py:1) \u2014 8 samples, 80%");
}

TEST_CASE("flamegraph: hostile names keep the file well-formed XML, shown escaped, and the script running") {
    scratch_dir dir{"flamegraph"};
    const std::vector<std::string> hostile{
        "<script>alert(1)</script>",
        "a & b &amp; c",
        "\"double\" 'single'",
        "ctl\x01\x1b[31m\x7f" + std::string(1, '\0') + "end",
        "bad\xff\xfeutf8\xc3",
        "]]><x/><![CDATA[",
        "non\xef\xbf\xbf" "char\xef\xbf\xbe",
        "\xc2\x85next\xe2\x80\xaeline",
        "tab\there\nnewline",
        std::string(200, '<') + "\xe2\x82\xac\xe2\x82\xac",
    };
    std::vector<stack_spec> stacks;
    for (std::size_t i = 0; i < hostile.size(); ++i)
        stacks.push_back({{{"main", "<evil>.py\n", 1}, {hostile[i], "f\x1b" "&.py", static_cast<int>(i + 1)}}, 5, 0});
    stacks.push_back({{{"run", "w.py", 1}}, 5, 1});
    const auto p = profile_of(stacks, true, {"</title><script>alert(2)</script>", "w\xff\x1b]0;x\x07"});
    report::flamegraph_options options;
    options.title = "<b>&\"x\"</b>\x1b[2J]]>";
    options.subtitle = "\xff\x01 <!-- -->";
    const std::string text = report::to_flamegraph(p, options);
    const drawn_svg svg = read_svg(dir, text);  // fails unless expat reads it

    CHECK(svg.scripts == 1);
    CHECK(svg.texts.at("title") == "<b>&\"x\"</b>\\x1b[2J]]>");
    CHECK(svg.texts.at("subtitle") == "\\xff\\x01 <!-- -->");
    CHECK(svg.only("100 </title><script>alert(2)</script>").title.starts_with("100 </title>"));
    CHECK(svg.named("101 w\\xff\\x1b]0;x\\x07").size() == 1);
    const std::string file = " (f\\x1b&.py:";
    CHECK(svg.named("<script>alert(1)</script>" + file + "1)").size() == 1);
    CHECK(svg.named("a & b &amp; c" + file + "2)").size() == 1);
    CHECK(svg.named("\"double\" 'single'" + file + "3)").size() == 1);
    CHECK(svg.named("ctl\\x01\\x1b[31m\\x7f\\x00end" + file + "4)").size() == 1);
    CHECK(svg.named("bad\\xff\\xfeutf8\\xc3" + file + "5)").size() == 1);
    CHECK(svg.named("]]><x/><![CDATA[" + file + "6)").size() == 1);
    CHECK(svg.named("non\\uffffchar\\ufffe" + file + "7)").size() == 1);
    CHECK(svg.named("\\u0085next\\u202eline" + file + "8)").size() == 1);
    CHECK(svg.named("tab\\there\\nnewline" + file + "9)").size() == 1);
    // Cut between characters, not inside an entity or a UTF-8 sequence.
    const auto cut = svg.only(std::string(200, '<') + "\u20ac\u20ac" + file + "10)");
    REQUIRE(cut.label);
    const std::size_t kept = cut.label->size() - std::string_view{"\u2026"}.size();
    CHECK(kept >= 5);
    CHECK(*cut.label == std::string(kept, '<') + "\u2026");
    CHECK(static_cast<double>(kept + 1) * 12 * 0.6 <= cut.width - 6);
    CHECK(svg.only("main (<evil>.py\\n:1)").label);
    // No raw control byte anywhere in the file.
    CHECK(std::none_of(text.begin(), text.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return (b < 0x20 && b != '\n') || b == 0x7f;
    }));

    // And the script still runs on it.
    const std::string path = write(dir, "hostile.svg", text);
    const auto dom = chromium(dir, {"--dump-dom", "file://" + path});
    CHECK_MESSAGE(dumped_attribute(dom.out, "data-ready") == "1", "the script did not finish: ", dom.err);
    CHECK_MESSAGE(dom.err.empty(), "the console: ", dom.err);
}

// Decodes Chromium's PNG (zlib, filters 0-4) with the standard library
// only, and compares what it shows with the frames of the SVG: on a
// scanline through each level, the runs of one frame colour; the frame
// colours present; the coloured area; dark (text) pixels.
constexpr std::string_view check_png_py = R"py(
def read_png(path, rows_wanted):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat = 8, b""
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + size]
        at += 12 + size
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(min(height, rows_wanted)):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        else:
            assert kind == 0, "filter %d" % kind
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows

svg = read_svg(sys.argv[1])
png_width, png_height, rows = read_png(sys.argv[2], int(svg["height"]))
coloured = lambda p: max(p) - min(p) >= 20
out = {"png_width": png_width, "png_height": png_height, "levels": [], "fills": 0, "fills_seen": 0}
ys = sorted({f["y"] for f in svg["frames"]})
for y in ys:
    level = [f for f in svg["frames"] if f["y"] == y]
    row = rows[int(y) + 1]   # above the labels' glyphs
    runs, length = 0, 0
    for x in range(1, png_width):
        same = coloured(row[x]) and row[x] == row[x - 1]
        length = length + 1 if same else 0
        if length == 2:      # 3 pixels of one frame colour
            runs += 1
    out["levels"].append({"y": y, "frames": len(level), "wide": sum(f["width"] >= 6 for f in level), "runs": runs})
pixels = {}
for row in rows[int(ys[0]):int(ys[-1]) + 15]:
    for p in row:
        pixels[p] = pixels.get(p, 0) + 1
fills = {f["fill"] for f in svg["frames"] if f["width"] >= 6}
out["fills"] = len(fills)
out["fills_seen"] = sum(pixels.get(tuple(int(f[i:i + 2], 16) for i in (1, 3, 5)), 0) >= 10 for f in fills)
out["coloured_px"] = sum(n for p, n in pixels.items() if coloured(p))
out["dark_px"] = sum(n for p, n in pixels.items() if max(p) < 100)
out["frame_area"] = sum(f["width"] * f["height"] for f in svg["frames"])
out["title_dark_px"] = sum(1 for row in rows[8:30] for p in row if max(p) < 100)
json.dump(out, sys.stdout)
)py";

// The service profile's flame graph, read back and written to a file.
struct service_graph {
    scratch_dir dir{"flamegraph"};
    report::profile profile = service_profile();
    std::string text;
    drawn_svg svg;
    std::string path;

    service_graph() {
        REQUIRE(profile.stacks().size() == 200);
        report::flamegraph_options options;
        options.title = "python3 service.py";
        options.subtitle = std::to_string(profile.samples()) + " samples at 100 Hz, 42 s";
        text = report::to_flamegraph(profile, options);
        svg = read_svg(dir, text);
        REQUIRE(svg.frames.size() >= 150);
        REQUIRE(svg.height <= 800);
        path = write(dir, "service.svg", text);
    }
};

TEST_CASE("flamegraph: Chromium draws ~200 stacks as a flame graph: frames, colours, labels") {
    service_graph g;
    const auto& [dir, p, text, svg, path] = g;
    MESSAGE("a flame graph of ", p.stacks().size(), " stacks, ", p.samples(), " samples: ", text.size(), " bytes");
    const std::string png = dir / "service.png";
    const auto shot = chromium(dir, {"--screenshot=" + png, "--window-size=1200,800", "file://" + path});
    CHECK_MESSAGE(shot.err.empty(), "the console: ", shot.err);
    auto run = test_support::run_command(
        {"python3", "-c", std::string{read_svg_py} + std::string{check_png_py}, path, png});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    const auto seen = nlohmann::json::parse(run.out);
    CHECK(seen.at("png_width") == 1200);
    CHECK(seen.at("png_height") == 800);
    int runs = 0, wide = 0, frames = 0;
    for (const auto& level : seen.at("levels")) {
        const int r = level.at("runs"), w = level.at("wide"), f = level.at("frames");
        INFO("level at y=", level.at("y").get<double>(), ": ", f, " frames, ", w, " at least 6 px wide, ", r,
             " runs of one colour");
        CHECK(r >= w * 9 / 10);  // adjacent frames of one colour run together
        CHECK(r <= f);
        runs += r, wide += w, frames += f;
    }
    MESSAGE(frames, " frames drawn, ", wide, " at least 6 px wide; ", runs, " runs of one colour on the screenshot");
    CHECK(runs >= 100);
    const int fills = seen.at("fills"), fills_seen = seen.at("fills_seen");
    CHECK(fills >= 30);
    CHECK(fills_seen >= fills * 95 / 100);
    const double area = seen.at("frame_area"), coloured = seen.at("coloured_px");
    CHECK(coloured >= 0.6 * area);  // less the labels' glyphs and the boxes' rounded corners
    CHECK(coloured <= 1.02 * area);
    CHECK(seen.at("dark_px").get<int>() >= 2000);  // labels
    CHECK(seen.at("title_dark_px").get<int>() >= 100);
}

TEST_CASE("flamegraph: in Chromium, hover shows details, a click zooms, Reset zoom undoes it, search highlights") {
    service_graph g;
    const auto& [dir, p, text, svg, path] = g;
    // The zoomed frame: the wider of the two on the fifth level (handle_request, _handle_request_noblock).
    const double root_y = svg.only("all").y;
    const drawn_frame* target = nullptr;
    for (const drawn_frame& f : svg.frames)
        if (f.y == root_y - 4 * 16 && f.width < 1100 && (!target || f.width > target->width)) target = &f;
    REQUIRE(target);
    // What a zoom into it must show: its ancestors and its subtree.
    constexpr double eps = 0.05;
    std::size_t expect_shown = 0;
    for (const drawn_frame& f : svg.frames) {
        const bool ancestor = f.y > target->y && f.x <= target->x + eps && f.end() >= target->end() - eps;
        const bool inside = f.y <= target->y && f.x >= target->x - eps && f.end() <= target->end() + eps;
        expect_shown += ancestor || inside;
    }
    std::uint64_t leaf_samples = 0;
    std::size_t leaves = 0;
    for (const drawn_frame& f : svg.frames) {
        if (!f.title.starts_with("leaf_")) continue;
        ++leaves;
        const std::string count = f.title.substr(f.title.rfind(" \u2014 ") + std::string_view{" \u2014 "}.size());
        leaf_samples += std::stoull(count);  // under 1,000 each: no separator
    }
    std::string interactions = R"js(<script><![CDATA[
(function () {
  var svg = document.documentElement, box = document.getElementById("frames"), out = {};
  var gs = Array.prototype.slice.call(box.children);
  var shown = function () { return gs.filter(function (g) { return g.getAttribute("display") !== "none"; }); };
  var rect = function (g) { var r = g.querySelector("rect"); return [+r.getAttribute("x"), +r.getAttribute("width")]; };
  var target = gs.filter(function (g) { return g.querySelector("title").textContent === TARGET; })[0];
  var click = function (e) { e.dispatchEvent(new MouseEvent("click", {bubbles: true})); };
  target.querySelector("rect").dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
  out.details = document.getElementById("details").textContent;
  click(target.querySelector("rect"));
  out.zoomed = rect(target);
  out.root = rect(gs[0]);
  out.root_dimmed = gs[0].classList.contains("up");
  out.shown = shown().map(function (g) { return [gs.indexOf(g)].concat(rect(g)); });
  out.reset = document.getElementById("reset").getAttribute("display");
  var label = target.querySelector("text");
  out.label = label ? label.textContent : null;
  click(document.getElementById("reset"));
  out.after_reset = rect(target);
  out.shown_after_reset = shown().length;
  window.prompt = function () { return "^leaf_"; };
  document.dispatchEvent(new KeyboardEvent("keydown", {key: "f", ctrlKey: true, bubbles: true}));
  out.matched = document.getElementById("matched").textContent;
  out.hits = box.querySelectorAll("rect.hit").length;
  out.search = document.getElementById("search").textContent;
  svg.setAttribute("data-test", encodeURIComponent(JSON.stringify(out)));
})();
]]></script>
</svg>
)js";
    interactions.replace(interactions.find("TARGET"), 6, nlohmann::json(target->title).dump());
    std::string driven = text;
    driven.replace(driven.rfind("</svg>"), std::string::npos, interactions);
    const auto dom = chromium(dir, {"--dump-dom", "file://" + write(dir, "driven.svg", driven)});
    REQUIRE_MESSAGE(dumped_attribute(dom.out, "data-ready") == "1", dom.err);
    const std::string encoded = dumped_attribute(dom.out, "data-test");
    REQUIRE_MESSAGE(!encoded.empty(), "the test's script did not finish: ", dom.err);
    CHECK_MESSAGE(dom.err.empty(), "the console: ", dom.err);
    const auto seen = nlohmann::json::parse(url_decode(encoded));
    INFO("zoomed into ", target->title, " at x=", target->x, ", ", target->width, " px wide");

    CHECK(seen.at("details") == target->title);
    CHECK(seen.at("zoomed")[0].get<double>() == doctest::Approx(10).epsilon(0.001));
    CHECK(seen.at("zoomed")[1].get<double>() == doctest::Approx(1180).epsilon(0.001));
    CHECK(seen.at("root")[1].get<double>() == doctest::Approx(1180).epsilon(0.001));
    CHECK(seen.at("root_dimmed") == true);
    CHECK(seen.at("reset") == "inline");
    REQUIRE(seen.at("label").is_string());
    CHECK(seen.at("label").get<std::string>() == target->name());  // room for all of it now
    CHECK(seen.at("shown").size() == expect_shown);
    const double stretch = 1180 / target->width;
    for (const auto& s : seen.at("shown")) {
        const drawn_frame& f = svg.frames.at(s.at(0).get<std::size_t>());
        const double x = s.at(1), width = s.at(2);
        INFO(f.title, " at x=", f.x, ", ", f.width, " px wide, now at x=", x, ", ", width, " px wide");
        CHECK(x >= 10 - eps);
        CHECK(x + width <= 1190 + 0.2);
        if (f.y <= target->y) {  // the subtree, widened by the same factor (positions are to 0.1 px)
            CHECK(std::abs(width - f.width * stretch) <= 0.3);
            CHECK(std::abs(x - (10 + (f.x - target->x) * stretch)) <= 0.3);
        } else {                 // its ancestors, full width
            CHECK(width == doctest::Approx(1180).epsilon(0.001));
        }
    }
    CHECK(seen.at("after_reset")[0].get<double>() == doctest::Approx(target->x).epsilon(0.001));
    CHECK(seen.at("after_reset")[1].get<double>() == doctest::Approx(target->width).epsilon(0.001));
    CHECK(seen.at("shown_after_reset") == svg.frames.size());
    // Search: the leaves' share of all samples.
    CHECK(seen.at("hits") == leaves);
    CHECK(seen.at("search") == "Clear search");
    const std::string matched = seen.at("matched");
    const double share = 100.0 * static_cast<double>(leaf_samples) / static_cast<double>(p.samples());
    REQUIRE(matched.starts_with("Matched "));
    CHECK(std::stod(matched.substr(8)) == doctest::Approx(share).epsilon(0.01));
    CHECK(matched.ends_with(" samples) in " + std::to_string(leaves) + " frames"));
}

} // namespace flamegraph_test
