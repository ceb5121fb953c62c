// triage/report/impl/flamegraph.ipp — the definitions of
// triage/report/flamegraph.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "triage/base/escape.hpp"
#include "triage/report/flamegraph.hpp"

namespace triage::report {

namespace detail::flamegraph {

// `value` rounded to `decimals` places, trailing zeros dropped ("12.5",
// "3"); the C locale's point whatever the program's locale.
[[nodiscard]] TRIAGE_DECL std::string decimal(double value, int decimals) {
    std::array<char, 64> buffer{};
    auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed, decimals);
    if (ec != std::errc{}) return "0";
    std::string_view text{buffer.data(), static_cast<std::size_t>(end - buffer.data())};
    if (text.find('.') != std::string_view::npos) {
        while (text.ends_with('0')) text.remove_suffix(1);
        if (text.ends_with('.')) text.remove_suffix(1);
    }
    return text == "-0" ? "0" : std::string{text};
}

// 1234567 → "1,234,567".
[[nodiscard]] TRIAGE_DECL std::string grouped(std::uint64_t value) {
    std::string digits = std::to_string(value), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// Appends `text`, which escape_controls made (printable, valid UTF-8), as
// XML character data: markup characters as entities, and the two
// noncharacters that are valid UTF-8 but not XML (U+FFFE, U+FFFF) as \u.
TRIAGE_DECL void append_xml(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        switch (text[i]) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            if (text.substr(i, 2) == "\xEF\xBF" && i + 2 < text.size() && (text[i + 2] == '\xBE' || text[i + 2] == '\xBF')) {
                out += text[i + 2] == '\xBE' ? "\\ufffe" : "\\uffff";
                i += 2;
            } else {
                out += text[i];
            }
        }
    }
}

// The characters (code points) of valid UTF-8 text.
[[nodiscard]] constexpr std::size_t characters(std::string_view text) noexcept {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Valid UTF-8 text cut to at most `limit` characters, the last one "…" when cut.
[[nodiscard]] TRIAGE_DECL std::string cut(std::string_view text, std::size_t limit) {
    if (characters(text) <= limit) return std::string{text};
    std::size_t kept = 0, at = 0;
    for (; at < text.size(); ++at) {
        if ((static_cast<unsigned char>(text[at]) & 0xC0) != 0x80 && kept++ == limit - 1) break;
    }
    return std::string{text.substr(0, at)} + "\u2026";
}

// FNV-1a: the same name gets the same colour on every machine and in every run.
[[nodiscard]] constexpr std::uint64_t name_hash(std::string_view text) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

// "#rrggbb": warm (red to yellow) for frames, pale blue for thread labels.
[[nodiscard]] TRIAGE_DECL std::string colour(std::string_view name, bool thread) {
    const std::uint64_t h = name_hash(name);
    const unsigned r = thread ? 160 + h % 40 : 205 + h % 51;
    const unsigned g = thread ? 180 + (h >> 8) % 40 : 60 + (h >> 8) % (r - 85);  // below r: never green
    const unsigned b = thread ? 225 + (h >> 16) % 31 : 20 + (h >> 16) % 56;
    constexpr char digit[] = "0123456789abcdef";
    std::string out = "#";
    for (unsigned v : {r, g, b}) {
        out += digit[v >> 4];
        out += digit[v & 15];
    }
    return out;
}

// The stack tree: the root ("all"), then thread labels with by_thread,
// then frames; a node's children merged by key and sorted by name.
struct node {
    std::uint32_t parent = 0;
    std::uint32_t key = 0;       // index into frames(), or threads() on the thread level
    std::uint32_t depth = 0;
    std::uint64_t samples = 0;   // of the stacks through it
    std::uint64_t offset = 0;    // samples left of it on its level
    std::uint64_t subtree = 1;   // nodes in its subtree, itself included
    std::vector<std::uint32_t> children;
};

// The script: reads what it needs from the drawn frames (the rect's
// geometry, the title's text), so the SVG carries no second copy of it.
inline constexpr std::string_view script = R"js((function () {
"use strict";
var svg = document.documentElement, NS = "http://www.w3.org/2000/svg";
var byId = function (id) { return document.getElementById(id); };
var box = byId("frames"), details = byId("details"), matched = byId("matched");
var reset = byId("reset"), search = byId("search");
var hint = "Hover over a frame for details, click to zoom, Ctrl+F to search";
details.textContent = hint;
var frames = [], ty = +box.getAttribute("data-ty");
for (var i = 0; i < box.children.length; i++) {
  var g = box.children[i], r = g.querySelector("rect"), tip = g.querySelector("title").textContent;
  var at = tip.lastIndexOf(" \u2014 "), count = tip.slice(at + 3).match(/[\d,]+/);
  var f = { g: g, r: r, t: g.querySelector("text"), tip: tip, name: tip.slice(0, at),
            chars: Array.from(tip.slice(0, at)), samples: count ? +count[0].replace(/,/g, "") : 0,
            x: +r.getAttribute("x"), w: +r.getAttribute("width"), y: +r.getAttribute("y") };
  g.fg = f;
  frames.push(f);
}
if (!frames.length) { svg.setAttribute("data-ready", "1"); return; }
var root = frames[0], gx = root.x, gw = root.w, total = root.samples || 1, eps = 0.05;
var probe = document.createElementNS(NS, "text");
probe.textContent = "abcdefghijklmnopqrstuvwxyz_.:()ABCDEFGHIJ0123456789";
box.parentNode.appendChild(probe);
var cw = probe.getComputedTextLength() / probe.textContent.length || 7;
probe.parentNode.removeChild(probe);

// Moves and widens frames, then fits their labels: all written, then all
// measured (one layout, not one per label), until every label fits.
function place(moves) {
  var todo = [];
  moves.forEach(function (m) {
    var f = m[0], x = m[1], w = m[2];
    f.r.setAttribute("x", x.toFixed(1));
    f.r.setAttribute("width", w.toFixed(1));
    f.room = w - 6;
    f.n = Math.floor(f.room / cw);
    if (f.n < 3) { if (f.t) f.t.textContent = ""; return; }
    if (!f.t) {
      f.t = document.createElementNS(NS, "text");
      f.t.setAttribute("y", (f.y + ty).toFixed(1));
      f.g.appendChild(f.t);
    }
    f.t.setAttribute("x", (x + 3).toFixed(1));
    label(f);
    todo.push(f);
  });
  for (var pass = 0; todo.length; pass++) {
    var widths = todo.map(function (f) { return f.t.getComputedTextLength(); });
    todo = todo.filter(function (f, k) {
      if (widths[k] <= f.room) return false;
      if (f.n <= 3 || pass === 8) { f.t.textContent = ""; return false; }
      f.n = Math.max(3, Math.min(f.n - 1, Math.floor(f.n * f.room / widths[k])));
      label(f);
      return true;
    });
  }
}
function label(f) {
  f.t.textContent = f.chars.length <= f.n ? f.name : f.chars.slice(0, f.n - 1).join("") + "\u2026";
}

function zoom(z) {
  reset.setAttribute("display", z === root ? "none" : "inline");
  var moves = [];
  frames.forEach(function (e) {
    var show = true;
    if (e.y > z.y) {  // nearer the root: z's ancestors span the width
      if (e.x <= z.x + eps && e.x + e.w >= z.x + z.w - eps) moves.push([e, gx, gw]);
      else show = false;
    } else if (e.x >= z.x - eps && e.x + e.w <= z.x + z.w + eps) {
      moves.push([e, gx + (e.x - z.x) * gw / z.w, e.w * gw / z.w]);
    } else {
      show = false;
    }
    e.g.classList.toggle("up", show && e.y > z.y);
    if (show) e.g.removeAttribute("display");
    else e.g.setAttribute("display", "none");
  });
  place(moves);
}

function grouped(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

var term = "";
function find(text) {
  term = text || "";
  var re = null;
  if (term) { try { re = new RegExp(term); } catch (err) { re = null; } }
  var hits = [];
  frames.forEach(function (e) {
    var hit = !!term && e !== root && (re ? re.test(e.name) : e.name.indexOf(term) >= 0);
    e.r.classList.toggle("hit", hit);
    if (hit) hits.push(e);
  });
  hits.sort(function (a, b) { return a.x - b.x || b.w - a.w; });
  var sum = 0, end = -1;
  // Counted once where hits nest: a frame is at least 1 px wide, positions are to 0.1 px.
  hits.forEach(function (e) { if (e.x >= end - 0.5) { sum += e.samples; end = e.x + e.w; } });
  matched.textContent = term ? "Matched " + (100 * sum / total).toFixed(1) + "% (" + grouped(sum) +
                               " samples) in " + hits.length + " frames" : "";
  search.textContent = term ? "Clear search" : "Search";
}
function ask() {
  var text = window.prompt("Search frames (a regular expression):", term);
  if (text !== null) find(text);
}

box.addEventListener("mouseover", function (ev) {
  var g = ev.target.closest("#frames > g");
  if (g) details.textContent = g.fg.tip;
});
box.addEventListener("mouseout", function () { details.textContent = hint; });
box.addEventListener("click", function (ev) {
  var g = ev.target.closest("#frames > g");
  if (g) zoom(g.fg);
});
reset.addEventListener("click", function () { zoom(root); });
search.addEventListener("click", function () { if (term) find(""); else ask(); });
document.addEventListener("keydown", function (ev) {
  if ((ev.ctrlKey || ev.metaKey) && ev.key === "f") { ev.preventDefault(); ask(); }
  else if (ev.key === "Escape") { find(""); zoom(root); }
});
zoom(root);
svg.setAttribute("data-ready", "1");
})();
)js";

} // namespace detail::flamegraph

[[nodiscard]] TRIAGE_DECL std::string to_flamegraph(const profile& p, const flamegraph_options& options) {
    namespace d = detail::flamegraph;
    const int width = std::clamp(options.width, 200, 100'000);
    const int frame_height = std::clamp(options.frame_height, 8, 100);
    const int font_size = std::clamp(options.font_size, 6, frame_height - 2);
    const double graph_width = width - 20.0, left = 10.0, top = 56.0, bottom = 30.0;
    const bool by_thread = p.options().by_thread;

    // Names as drawn: escaped for a reader, not yet for XML.
    std::vector<std::string> frame_names;
    frame_names.reserve(p.frames().size());
    for (const profile_frame& f : p.frames()) {
        std::string name = escape_controls(f.function);
        if (!f.file.empty() || f.line > 0) {
            name += " (" + escape_controls(f.file);
            if (f.line > 0) name += ":" + std::to_string(f.line);
            name += ')';
        }
        frame_names.push_back(std::move(name));
    }
    std::vector<std::string> thread_names;
    thread_names.reserve(p.threads().size());
    for (const std::string& t : p.threads()) thread_names.push_back(escape_controls(t));

    // The tree, children after their parents.
    std::vector<d::node> nodes(1);
    std::unordered_map<std::uint64_t, std::uint32_t> child_of;  // parent << 32 | key → node
    auto child = [&](std::uint32_t parent, std::uint32_t key) {
        auto [at, added] = child_of.try_emplace(std::uint64_t{parent} << 32 | key, static_cast<std::uint32_t>(nodes.size()));
        if (added) {
            nodes.push_back({parent, key, nodes[parent].depth + 1, 0, 0, 1, {}});
            nodes[parent].children.push_back(at->second);
        }
        return at->second;
    };
    for (const profile_stack& s : p.stacks()) {
        std::uint32_t at = 0;
        nodes[0].samples += s.samples;
        if (by_thread) {
            at = child(at, s.thread);
            nodes[at].samples += s.samples;
        }
        for (std::uint32_t f : s.frames) {
            at = child(at, f);
            nodes[at].samples += s.samples;
        }
    }
    const auto is_thread = [&](const d::node& n) { return by_thread && n.depth == 1; };
    const auto name_of = [&](const d::node& n) -> const std::string& {
        static const std::string all = "all";
        return n.depth == 0 ? all : is_thread(n) ? thread_names[n.key] : frame_names[n.key];
    };
    for (std::size_t i = nodes.size(); i-- > 1;) nodes[nodes[i].parent].subtree += nodes[i].subtree;
    for (d::node& n : nodes) {
        std::sort(n.children.begin(), n.children.end(), [&](std::uint32_t a, std::uint32_t b) {
            const std::string &x = name_of(nodes[a]), &y = name_of(nodes[b]);
            return x != y ? x < y : nodes[a].key < nodes[b].key;
        });
        std::uint64_t offset = n.offset;
        for (std::uint32_t c : n.children) {
            nodes[c].offset = offset;
            offset += nodes[c].samples;
        }
    }

    // What is drawn: frames at least min_px wide, in depth-first order, the root first.
    const std::uint64_t total = nodes[0].samples;
    const double scale = total > 0 ? graph_width / static_cast<double>(total) : 0;
    const double min_share = std::clamp(options.min_frame_share, 0.0, 1.0);
    const double min_px = std::max(1.0, min_share * graph_width);
    std::vector<std::uint32_t> drawn, pending;
    std::uint64_t elided = 0;
    std::uint32_t levels = 0;
    if (total > 0) pending.push_back(0);
    while (!pending.empty()) {
        const std::uint32_t at = pending.back();
        const d::node& n = nodes[at];
        pending.pop_back();
        if (at != 0 && static_cast<double>(n.samples) * scale < min_px) {
            elided += n.subtree;
            continue;
        }
        drawn.push_back(at);
        levels = std::max(levels, n.depth + 1);
        pending.insert(pending.end(), n.children.rbegin(), n.children.rend());
    }

    const int height = static_cast<int>(top + bottom) + static_cast<int>(levels) * frame_height;
    const std::string w = std::to_string(width), h = std::to_string(height);
    const std::string right = std::to_string(width - 10), bottom_line = std::to_string(height - 10);
    std::string out;
    out.reserve(2048 + drawn.size() * 160);
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w + "\" height=\"" + h +
           "\" viewBox=\"0 0 " + w + " " + h + "\">\n";
    out += "<style>\ntext{font:" + std::to_string(font_size) +
           "px Verdana,\"DejaVu Sans\",Arial,sans-serif;fill:#000}\n"
           "#title{font-size:17px;text-anchor:middle}\n"
           "#subtitle{text-anchor:middle;fill:#555}\n"
           "#search,#matched{text-anchor:end}\n"
           ".ctl{cursor:pointer;fill:#1a5fb4}\n"
           ".ctl:hover{text-decoration:underline}\n"
           "#frames g{cursor:pointer}\n"
           "#frames text{pointer-events:none}\n"
           "#frames g:hover rect{stroke:#000;stroke-width:.7}\n"
           "#frames .up rect{opacity:.55}\n"
           "#frames rect.hit{fill:#e040e0}\n"
           "</style>\n";
    out += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
    out += "<text id=\"title\" x=\"" + d::decimal(width / 2.0, 1) + "\" y=\"24\">";
    d::append_xml(out, escape_controls(options.title.empty() ? std::string_view{"Flame graph"} : options.title));
    out += "</text>\n<text id=\"subtitle\" x=\"" + d::decimal(width / 2.0, 1) + "\" y=\"44\">";
    std::string subtitle = escape_controls(options.subtitle);
    if (total == 0) subtitle += std::string{subtitle.empty() ? "" : " \u00b7 "} + "no samples";
    if (elided > 0) {
        subtitle += std::string{subtitle.empty() ? "" : " \u00b7 "} + d::grouped(elided) + " frames narrower than " +
                    (min_px > 1.0 ? d::decimal(min_share * 100, 3) + "%" : std::string{"1 px"}) + " not drawn";
    }
    d::append_xml(out, subtitle);
    out += "</text>\n<text id=\"reset\" class=\"ctl\" x=\"10\" y=\"24\" display=\"none\">Reset zoom</text>\n";
    out += "<text id=\"search\" class=\"ctl\" x=\"" + right + "\" y=\"24\">Search</text>\n";
    out += "<text id=\"details\" x=\"10\" y=\"" + bottom_line + "\"> </text>\n";
    out += "<text id=\"matched\" x=\"" + right + "\" y=\"" + bottom_line + "\"> </text>\n";

    // A frame: <g><title>…</title><rect …/><text …>label</text></g>.
    const double text_dy = (frame_height - 1) / 2.0 + font_size * 0.35;
    const double char_width = font_size * 0.6;  // a wide estimate; the script measures
    out += "<g id=\"frames\" data-ty=\"" + d::decimal(text_dy, 1) + "\">\n";
    for (std::uint32_t at : drawn) {
        const d::node& n = nodes[at];
        const std::string& name = name_of(n);
        const double x = left + static_cast<double>(n.offset) * scale, fw = static_cast<double>(n.samples) * scale;
        const double y = top + static_cast<double>(levels - 1 - n.depth) * frame_height;
        out += "<g><title>";
        d::append_xml(out, name);
        out += " \u2014 " + d::grouped(n.samples) + (n.samples == 1 ? " sample, " : " samples, ") +
               d::decimal(100.0 * static_cast<double>(n.samples) / static_cast<double>(total), 2) + "%</title>";
        out += "<rect x=\"" + d::decimal(x, 1) + "\" y=\"" + d::decimal(y, 1) + "\" width=\"" + d::decimal(fw, 1) +
               "\" height=\"" + std::to_string(frame_height - 1) + "\" rx=\"2\" fill=\"";
        const std::string_view hashed = n.depth == 0 ? std::string_view{"all"}
                                        : is_thread(n) ? std::string_view{p.threads()[n.key]}
                                                       : std::string_view{p.frames()[n.key].function};
        out += d::colour(hashed, is_thread(n)) + "\"/>";
        const auto fits = static_cast<std::size_t>(std::max(0.0, (fw - 6) / char_width));
        if (fits >= 3) {
            out += "<text x=\"" + d::decimal(x + 3, 1) + "\" y=\"" + d::decimal(y + text_dy, 1) + "\">";
            d::append_xml(out, d::cut(name, fits));
            out += "</text>";
        }
        out += "</g>\n";
    }
    out += "</g>\n<script><![CDATA[\n";
    out += d::script;
    out += "]]></script>\n</svg>\n";
    return out;
}

} // namespace triage::report
