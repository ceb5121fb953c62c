// triage/ptrace/impl/session.ipp — the definitions of
// triage/ptrace/session.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/ptrace/session.hpp"

namespace triage::ptrace::detail {

[[nodiscard]] TRIAGE_DECL stop_report classify(int status) noexcept {
    if (!WIFSTOPPED(status)) return {stop_report::exited, 0};
    int signal = WSTOPSIG(status);
    int event = (status >> 16) & 0xff;
    if (event == PTRACE_EVENT_STOP)
        return {is_stopping_signal(signal) ? stop_report::group_stop : stop_report::event_stop, signal};
    if (event == PTRACE_EVENT_CLONE) return {stop_report::clone_event, 0};
    if (event == PTRACE_EVENT_EXEC) return {stop_report::exec_event, 0};
    if (event != 0) return {stop_report::other_event, 0};
    if (signal == (SIGTRAP | 0x80)) return {stop_report::syscall_stop, 0};
    return {stop_report::signal_stop, signal};
}

[[nodiscard]] TRIAGE_DECL pid_t next_report(int& status) noexcept {
    const pid_t r = ::waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
    return r > 0 ? r : 0;
}

[[nodiscard]] TRIAGE_DECL std::string describe_process(pid_t pid) {
    auto name = procfs::read_comm(pid);
    std::string out = "pid " + std::to_string(pid);
    if (name) out += " (" + std::string{name->view()} + ")";
    return out;
}

[[nodiscard]] TRIAGE_DECL std::string thread_context(pid_t pid, pid_t tid) {
    if (pid == tid) return "attaching to " + describe_process(pid);
    return "attaching to thread " + std::to_string(tid) + " of " + describe_process(pid);
}

[[nodiscard]] TRIAGE_DECL std::string describe_unstoppable(const procfs::proc_dir& dir, pid_t tid) {
    auto status = procfs::read_status(dir, tid);
    if (!status) return "has exited";
    std::string facts = "state " + std::string(1, status->state);
    if (auto call = procfs::read_syscall(dir, tid)) {
        if (call->kind == procfs::syscall_kind::in_syscall) {
            std::string_view name = call->name();
            facts += ", in " + (name.empty() ? "system call " + std::to_string(call->number) : std::string{name});
        } else if (call->kind == procfs::syscall_kind::outside_syscall) {
            facts += ", in the kernel outside a system call";
        }
    }
    if (auto channel = procfs::read_wchan(dir, tid); channel && !channel->empty())
        facts += ", wchan " + std::string{channel->view()};
    if (status->state == 'D') return "is in uninterruptible sleep (" + facts + ")";
    return "did not stop (" + facts + ")";
}

} // namespace triage::ptrace::detail
