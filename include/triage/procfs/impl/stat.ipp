// triage/procfs/impl/stat.ipp — the definitions of
// triage/procfs/stat.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/stat.hpp"

namespace triage::procfs {

[[nodiscard]] TRIAGE_DECL result<task_stat> parse_stat(std::string_view text) {
    auto bad = [](const char* what) { return fail(errc::malformed, std::string{"parsing stat: "} + what); };
    task_stat st;
    std::size_t open = text.find(" (");
    std::size_t close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2)
        return bad("no (command name)");
    if (!detail::parse_field(text.substr(0, open), st.tid)) return bad("bad pid");
    st.comm.assign(text.substr(open + 2, close - open - 2));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ' ') return bad("no state after the name");
    rest = trim(rest);

    // Fields 3..52 by number; the ones we keep are copied as they go by.
    int field = 3;
    bool ok = true;
    while (!rest.empty() && ok && field <= 52) {
        std::string_view token = next_token(rest, ' ');
        switch (field) {
        case 3:  // one of the letters of fs/proc/array.c's task_state_array (W, x, K, P: older kernels)
            ok = token.size() == 1 && std::string_view{"RSDTtXZPIWxK"}.find(token.front()) != std::string_view::npos;
            if (ok) st.state = token.front();
            break;
        case 4: ok = detail::parse_field(token, st.ppid); break;
        case 5: ok = detail::parse_field(token, st.pgrp); break;
        case 6: ok = detail::parse_field(token, st.session); break;
        case 7: ok = detail::parse_field(token, st.tty_nr); break;
        case 8: ok = detail::parse_field(token, st.tpgid); break;
        case 9: ok = detail::parse_field(token, st.flags); break;
        case 10: ok = detail::parse_field(token, st.minflt); break;
        case 12: ok = detail::parse_field(token, st.majflt); break;
        case 14: ok = detail::parse_field(token, st.utime); break;
        case 15: ok = detail::parse_field(token, st.stime); break;
        case 16: ok = detail::parse_field(token, st.cutime); break;
        case 17: ok = detail::parse_field(token, st.cstime); break;
        case 18: ok = detail::parse_field(token, st.priority); break;
        case 19: ok = detail::parse_field(token, st.nice); break;
        case 20: ok = detail::parse_field(token, st.num_threads); break;
        case 22: ok = detail::parse_field(token, st.starttime); break;
        case 23: ok = detail::parse_field(token, st.vsize); break;
        case 24: ok = detail::parse_field(token, st.rss); break;
        case 38: ok = detail::parse_field(token, st.exit_signal); break;
        case 39: ok = detail::parse_field(token, st.processor); break;
        case 40: ok = detail::parse_field(token, st.rt_priority); break;
        case 41: ok = detail::parse_field(token, st.policy); break;
        case 42: ok = detail::parse_field(token, st.delayacct_blkio_ticks); break;
        default: ok = !token.empty(); break;
        }
        ++field;
    }
    if (!ok) return fail(errc::malformed, "parsing stat: bad field " + std::to_string(field - 1));
    // Every kernel since 2.6.24 prints at least 44 fields; we need up to 41.
    if (field <= 41) return fail(errc::malformed, "parsing stat: only " + std::to_string(field - 1) + " fields");
    return st;
}

[[nodiscard]] TRIAGE_DECL result<task_stat> read_stat(const proc_dir& dir, pid_t tid) {
    char buffer[stat_buffer_size];
    std::string_view text = TRIAGE_TRY(dir.read(tid, "stat", buffer));
    auto st = parse_stat(text);
    if (!st) return fail(std::move(st.error()).within("reading " + dir.path(tid, "stat")));
    return st;
}

[[nodiscard]] TRIAGE_DECL result<task_stat> read_stat(pid_t pid, pid_t tid) {
    proc_dir dir = TRIAGE_TRY(proc_dir::open(pid));
    return read_stat(dir, tid);
}

} // namespace triage::procfs
