// triage/procfs/impl/status.ipp — the definitions of
// triage/procfs/status.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/status.hpp"

namespace triage::procfs::detail {

[[nodiscard]] TRIAGE_DECL std::string unescape_status_name(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            char next = text[i + 1];
            if (next == 'n') { out += '\n'; ++i; continue; }
            if (next == '\\') { out += '\\'; ++i; continue; }
        }
        out += text[i];
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL bool parse_ns_ids(std::string_view value, std::vector<pid_t>& out) {
    out.clear();
    value = trim(value);
    bool detached = false;
    while (!value.empty()) {
        auto v = parse_unsigned<std::uint32_t>(next_token(value, '\t'));
        if (!v || *v > static_cast<std::uint32_t>(INT32_MAX)) return false;
        if (*v == 0) detached = true;
        out.push_back(static_cast<pid_t>(*v));
    }
    if (detached) out.clear();
    return true;
}

} // namespace triage::procfs::detail

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<task_status> parse_status(std::string_view text) {
    task_status s;
    bool have_pid = false;
    std::size_t line_number = 0;
    while (!text.empty()) {
        std::string_view line = next_line(text);
        ++line_number;
        if (line.empty()) continue;
        auto bad = [&] { return fail(errc::malformed, "parsing status line " + std::to_string(line_number)); };
        auto pair = split_key_value(line);
        if (!pair) return bad();
        auto [key, value] = *pair;
        if (!value.empty() && value.front() == '\t') value.remove_prefix(1);
        auto number = [&](auto& out) {
            auto v = parse_unsigned<std::uint64_t>(trim(value));
            if (v) out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
            return v.has_value();
        };
        auto mask = [&](std::uint64_t& out) {
            auto v = parse_unsigned<std::uint64_t>(trim(value), 16);
            if (v) out = *v;
            return v.has_value();
        };
        auto kb = [&](std::optional<std::uint64_t>& out) {
            out = parse_kb(value);
            return out.has_value();
        };
        bool ok = true;
        if (key == "Name") s.name = detail::unescape_status_name(value);
        else if (key == "State") { ok = !value.empty(); if (ok) s.state = value.front(); }
        else if (key == "Tgid") ok = number(s.tgid);
        else if (key == "Pid") ok = have_pid = number(s.pid);
        else if (key == "PPid") ok = number(s.ppid);
        else if (key == "TracerPid") ok = number(s.tracer_pid);
        else if (key == "NStgid") ok = detail::parse_ns_ids(value, s.ns_tgids);
        else if (key == "NSpid") ok = detail::parse_ns_ids(value, s.ns_pids);
        else if (key == "Uid") ok = detail::parse_id_list(value, s.uid);
        else if (key == "Gid") ok = detail::parse_id_list(value, s.gid);
        else if (key == "Threads") ok = number(s.threads);
        else if (key == "VmPeak") ok = kb(s.vm_peak_kb);
        else if (key == "VmSize") ok = kb(s.vm_size_kb);
        else if (key == "VmHWM") ok = kb(s.vm_hwm_kb);
        else if (key == "VmRSS") ok = kb(s.vm_rss_kb);
        else if (key == "VmSwap") ok = kb(s.vm_swap_kb);
        else if (key == "SigPnd") ok = mask(s.sig_pending);
        else if (key == "SigBlk") ok = mask(s.sig_blocked);
        else if (key == "SigIgn") ok = mask(s.sig_ignored);
        else if (key == "SigCgt") ok = mask(s.sig_caught);
        else if (key == "CapEff") ok = mask(s.cap_effective);
        else if (key == "Seccomp") ok = number(s.seccomp);
        else if (key == "x86_Thread_features") {
            for (std::string_view words = trim(value); !words.empty();)
                if (next_token(words, ' ') == "shstk") s.shadow_stack = true;
        }
        else if (key == "voluntary_ctxt_switches") ok = number(s.voluntary_ctxt_switches);
        else if (key == "nonvoluntary_ctxt_switches") ok = number(s.nonvoluntary_ctxt_switches);
        if (!ok) return bad();
    }
    if (!have_pid) return fail(errc::malformed, "parsing status: no Pid line");
    return s;
}

[[nodiscard]] TRIAGE_DECL result<task_status> read_status(const proc_dir& dir, pid_t tid) {
    std::string text = TRIAGE_TRY(dir.read_all(tid, "status"));
    auto s = parse_status(text);
    if (!s) return fail(std::move(s.error()).within("reading " + dir.path(tid, "status")));
    return s;
}

[[nodiscard]] TRIAGE_DECL result<task_status> read_status(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_status(dir, tid);
}

} // namespace triage::procfs
