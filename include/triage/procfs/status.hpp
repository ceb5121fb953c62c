// triage/procfs/status.hpp — /proc/PID/status and task/TID/status: the
// human-readable "Key:\tvalue" view of a task.
//
// Offers: `task_status` (name, state, ids, the ids in each nested PID
// namespace (NStgid, NSpid; empty for a task being reaped), tracer, uids/gids, thread count, memory sizes,
// signal masks, context switches) and `parse_status(text)`
// (pure, fuzzed; unknown keys are ignored, so newer kernels parse), plus
// `read_status(pid)`, `read_status(pid, tid)`, `read_status(dir, tid)`.
// The Name line is unescaped as the kernel escapes it ("\n" → newline,
// "\\" → backslash). Memory fields are absent for kernel threads.
// Errors: errc::malformed for lines without ':' or with bad numbers in the
// fields we keep, or without a Pid line; readers add no_such_process and
// permission_denied.
// Thread-safe: yes. Signal-safe: no (the name is a std::string).
// Target process: reads a /proc file only.
//
//   auto s = TRIAGE_TRY(triage::procfs::read_status(pid));
//   if (s.tracer_pid != 0) fmt::print("traced by {}\n", s.tracer_pid);
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::procfs {

struct task_status {
    std::string name;
    char state = '?';
    pid_t tgid = 0;
    pid_t pid = 0;
    pid_t ppid = 0;
    pid_t tracer_pid = 0;
    // The task's tgid and pid (for task/TID/status: its tid) in every PID
    // namespace it is in, from the namespace of this /proc's mount (the
    // same as tgid and pid) to its own, innermost one; one entry when the
    // task is in the reader's namespace (empty before Linux 4.1).
    std::vector<pid_t> ns_tgids;
    std::vector<pid_t> ns_pids;
    std::array<std::uint32_t, 4> uid{};  // real, effective, saved, filesystem
    std::array<std::uint32_t, 4> gid{};
    std::uint64_t threads = 0;
    std::optional<std::uint64_t> vm_peak_kb, vm_size_kb, vm_hwm_kb, vm_rss_kb, vm_swap_kb;
    std::uint64_t sig_pending = 0, sig_blocked = 0, sig_ignored = 0, sig_caught = 0;
    std::uint64_t cap_effective = 0;
    std::uint64_t voluntary_ctxt_switches = 0;
    std::uint64_t nonvoluntary_ctxt_switches = 0;
};

namespace detail {
// The Name value as the kernel escapes it (newline as \n, backslash as
// \\) → the name.
[[nodiscard]] inline std::string unescape_status_name(std::string_view text) {
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

// "1234\t5" → {1234, 5}. A task being reaped (a thread killed by another
// thread's exec, an exiting process) has lost its pid: the kernel prints 0
// for each level then, or nothing; both read as an empty list.
[[nodiscard]] inline bool parse_ns_ids(std::string_view value, std::vector<pid_t>& out) {
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

template <std::size_t N>
[[nodiscard]] constexpr bool parse_id_list(std::string_view value, std::array<std::uint32_t, N>& out) noexcept {
    for (auto& id : out) {
        auto v = parse_unsigned<std::uint32_t>(next_token(value, '\t'));
        if (!v) return false;
        id = *v;
    }
    return true;
}
} // namespace detail

[[nodiscard]] inline result<task_status> parse_status(std::string_view text) {
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
        else if (key == "voluntary_ctxt_switches") ok = number(s.voluntary_ctxt_switches);
        else if (key == "nonvoluntary_ctxt_switches") ok = number(s.nonvoluntary_ctxt_switches);
        if (!ok) return bad();
    }
    if (!have_pid) return fail(errc::malformed, "parsing status: no Pid line");
    return s;
}

[[nodiscard]] inline result<task_status> read_status(const proc_dir& dir, pid_t tid = whole_process) {
    std::string text = TRIAGE_TRY(dir.read_all(tid, "status"));
    auto s = parse_status(text);
    if (!s) return fail(std::move(s.error()).within("reading " + dir.path(tid, "status")));
    return s;
}

[[nodiscard]] inline result<task_status> read_status(pid_t pid, pid_t tid = whole_process) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_status(dir, tid);
}

} // namespace triage::procfs
