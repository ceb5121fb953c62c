// triage/report/impl/profile.ipp — the definitions of
// triage/report/profile.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <functional>
#include <string_view>

#include "triage/report/profile.hpp"

namespace triage::report {

TRIAGE_DECL std::size_t profile::frame_key_hash::operator()(const profile_frame& f) const noexcept {
    const std::size_t h = std::hash<std::string_view>{}(f.function);
    return (h * 31 + std::hash<std::string_view>{}(f.file)) * 31 + static_cast<std::size_t>(f.line);
}

TRIAGE_DECL std::size_t profile::stack_key_hash::operator()(const std::vector<std::uint32_t>& s) const noexcept {
    std::size_t h = s.size();
    for (std::uint32_t v : s) h = (h ^ v) * 0x100000001b3ULL;
    return h;
}

TRIAGE_DECL std::uint32_t profile::thread_index(const cpython::thread_sample& t) {
    if (!options_.by_thread) {
        if (threads_.empty()) threads_.emplace_back("all threads");
        return 0;
    }
    const auto key = std::tuple{t.thread->python_ident, t.tid.value_or(0)};
    auto [at, added] = thread_ids_.try_emplace(key, static_cast<std::uint32_t>(threads_.size()));
    if (added) {
        std::string label = t.tid ? std::to_string(*t.tid) : "ident " + std::to_string(t.thread->python_ident);
        if (!t.name.empty()) label += " " + std::string{t.name};
        threads_.push_back(std::move(label));
    }
    return at->second;
}

TRIAGE_DECL std::uint32_t profile::frame_id(profile_frame frame) {
    auto [at, added] = frame_ids_.try_emplace(frame, static_cast<std::uint32_t>(frames_.size()));
    if (added) frames_.push_back(std::move(frame));
    return at->second;
}

TRIAGE_DECL std::uint32_t profile::frame_id(const cpython::python_frame& f) {
    return frame_id(profile_frame{f.function, f.file, options_.lines ? f.line.value_or(0) : 0});
}

// A native frame: its function (else "??"), and its source file (else its object).
TRIAGE_DECL std::uint32_t profile::frame_id(const unwind::native_symbol& s) {
    return frame_id(profile_frame{s.function.empty() ? "??" : s.function, s.file.empty() ? s.object : s.file,
                                  options_.lines ? s.line : 0});
}

TRIAGE_DECL void profile::add(const cpython::sampling_tick& tick) {
    for (const cpython::thread_sample& t : tick.threads) {
        if (!t.on_cpu && !options_.idle) {
            ++idle_;
            continue;
        }
        if (options_.gil_only && !t.holds_gil) {
            ++gil_dropped_;
            continue;
        }
        if (t.thread->frames.empty() && t.native.empty()) {
            ++empty_;
            continue;
        }
        key_.clear();
        key_.push_back(thread_index(t));
        if (t.native.empty()) {
            for (auto f = t.thread->frames.rbegin(); f != t.thread->frames.rend(); ++f) key_.push_back(frame_id(*f));
        } else {
            for (auto f = t.native.rbegin(); f != t.native.rend(); ++f) key_.push_back(f->python ? frame_id(f->py) : frame_id(f->symbol));
        }
        auto [at, added] = stack_ids_.try_emplace(key_, stacks_.size());
        if (added) stacks_.push_back({key_.front(), {key_.begin() + 1, key_.end()}, 0});
        ++stacks_[at->second].samples;
        ++samples_;
    }
}

} // namespace triage::report
