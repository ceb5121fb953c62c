// triage/report/impl/profile_formats.ipp — the definitions of
// triage/report/profile_formats.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <nlohmann/json.hpp>

#include "triage/base/escape.hpp"
#include "triage/report/profile_formats.hpp"

namespace triage::report {

namespace detail::profile_text {
// A name that cannot break a folded line.
[[nodiscard]] TRIAGE_DECL std::string folded_name(std::string_view text) {
    std::string out;
    for (char c : escape_controls(text)) {
        if (c == ';') out += "\\x3b";
        else out += c;
    }
    return out;
}
} // namespace detail::profile_text

[[nodiscard]] TRIAGE_DECL std::string to_collapsed(const profile& p) {
    namespace d = detail::profile_text;
    std::vector<std::string> frames;
    frames.reserve(p.frames().size());
    for (const profile_frame& f : p.frames()) {
        std::string where = d::folded_name(f.file);
        if (f.line > 0) where += ":" + std::to_string(f.line);
        frames.push_back(d::folded_name(f.function) + " (" + where + ")");
    }
    std::string out;
    for (const profile_stack& s : p.stacks()) {
        bool first = true;
        if (p.options().by_thread) {
            out += d::folded_name(p.threads()[s.thread]);
            first = false;
        }
        for (std::uint32_t f : s.frames) {
            if (!first) out += ';';
            out += frames[f];
            first = false;
        }
        out += ' ';
        out += std::to_string(s.samples);
        out += '\n';
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL std::string to_speedscope(const profile& p, std::string_view name,
                                                    std::chrono::nanoseconds period) {
    using json = nlohmann::ordered_json;
    const double weight = std::chrono::duration<double>(period).count();
    json frames = json::array();
    for (const profile_frame& f : p.frames()) {
        json frame{{"name", f.function}, {"file", f.file}};
        if (f.line > 0) frame["line"] = f.line;
        frames.push_back(std::move(frame));
    }
    json profiles = json::array();
    for (std::uint32_t thread = 0; thread < p.threads().size(); ++thread) {
        json samples = json::array(), weights = json::array();
        double total = 0;
        for (const profile_stack& s : p.stacks()) {
            if (s.thread != thread) continue;
            samples.push_back(s.frames);
            weights.push_back(weight * static_cast<double>(s.samples));
            total += weight * static_cast<double>(s.samples);
        }
        profiles.push_back(json{{"type", "sampled"},
                                {"name", p.threads()[thread]},
                                {"unit", "seconds"},
                                {"startValue", 0},
                                {"endValue", total},
                                {"samples", std::move(samples)},
                                {"weights", std::move(weights)}});
    }
    json file{{"$schema", "https://www.speedscope.app/file-format-schema.json"},
              {"shared", {{"frames", std::move(frames)}}},
              {"profiles", std::move(profiles)},
              {"name", std::string{name}},
              {"activeProfileIndex", 0},
              {"exporter", "triage-record"}};
    return file.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace triage::report
