// triage/plt/impl/int3_counter.ipp — the definitions of
// triage/plt/int3_counter.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "triage/base/text.hpp"
#include "triage/plt/int3_counter.hpp"
#include "triage/procfs/status.hpp"

namespace triage::plt::detail {

inline constexpr std::uint8_t int3_opcode = 0xcc;
// While the window is open: follow new threads, children (to clean or serve them) and exec.
inline constexpr long int3_trace_options =
    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
// The session's own options, put back when the window closes.
inline constexpr long session_trace_options = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;

// One traced task: a thread of the session, or a vfork child (a guest: it
// shares the target's text until it execs or exits).
struct int3_task {
    ptrace::traced_thread t;
    bool guest = false;
    bool exited = false;
    bool running = false;    // resumed, no report since
    bool listening = false;  // in group-stop: resumed with PTRACE_LISTEN
    int pending_signal = 0;
    std::optional<std::size_t> queued_hit;  // stopped at this breakpoint, not yet served
    std::chrono::steady_clock::time_point stopped_at{};
};

class int3_window {
public:
    using clock = std::chrono::steady_clock;

    int3_window(ptrace::session::run_control& run, pid_t pid, int mem, std::span<const breakpoint> breakpoints,
                const int3_options& options, int3_counts& out)
        : run_{run}, pid_{pid}, mem_{mem}, breakpoints_{breakpoints}, options_{options}, out_{out} {
        for (std::size_t i = 0; i < breakpoints.size(); ++i) index_.emplace(breakpoints[i].address, i);
    }

    // The whole window; `failure` says why it could not open (nothing written then).
    result<void> run() {
        TRIAGE_TRY(insert_all());
        // From here the bytes are in: whatever is thrown (an allocation failing, a callback), they go back first.
        try {
            serve_window();
        } catch (...) {
            close_window();
            throw;
        }
        return {};
    }

private:
    // Resumes the threads and serves their hits until the window ends, then closes it.
    void serve_window() {
        for (const ptrace::traced_thread& t : run_.threads()) {
            int3_task& task = tasks_[t.tid];
            task.t = t;
            task.listening = t.slot->group_stop.load();
            task.running = true;
            out_.threads.insert(t.tid);
            (void)::ptrace(PTRACE_SETOPTIONS, t.tid, nullptr, reinterpret_cast<void*>(int3_trace_options));
        }
        opened_ = clock::now();
        run_.resume_all(PTRACE_CONT);
        const auto opened = opened_;
        if (options_.started) options_.started(tasks_.size());
        const auto deadline = opened + options_.window;
        auto next_poll = opened + options_.poll;
        ptrace::detail::sigchld_waiter sigchld;
        while (alive_threads() > 0 && !out_.target_execed && !out_.trace_full) {
            bool progress = false;
            int status = 0;
            for (int drained = 0; drained < 4096; ++drained) {
                const pid_t tid = ptrace::detail::next_report(status);
                if (tid == 0) break;
                on_report(tid, status, true);
                progress = true;
            }
            const auto now = clock::now();
            if (now >= deadline || run_.signalled()) break;
            if (now >= next_poll) {
                next_poll = now + options_.poll;
                if (options_.stop_requested && options_.stop_requested()) {
                    out_.interrupted = true;
                    break;
                }
            }
            if (!progress)
                sigchld.wait(std::min<clock::duration>(next_poll - now, deadline - now),
                             [this](pid_t p) { return tasks_.contains(p); });
        }
        out_.target_exited = alive_threads() == 0;
        out_.window = clock::now() - opened;
        close_window();
    }

    [[nodiscard]] std::size_t alive_threads() const {
        return static_cast<std::size_t>(std::ranges::count_if(tasks_, [](const auto& e) { return !e.second.guest && !e.second.exited; }));
    }

    [[nodiscard]] result<std::uint8_t> read_byte(int fd, std::uint64_t address) const {
        std::uint8_t b = 0;
        if (::pread(fd, &b, 1, static_cast<off_t>(address)) != 1)
            return fail_errno(errno == 0 ? EIO : errno, "reading the byte at " + hex(address) + " of pid " + std::to_string(pid_));
        return b;
    }
    [[nodiscard]] result<void> write_byte(int fd, std::uint64_t address, std::uint8_t b) const {
        if (::pwrite(fd, &b, 1, static_cast<off_t>(address)) != 1)
            return fail_errno(errno == 0 ? EIO : errno, "writing the byte at " + hex(address) + " of pid " + std::to_string(pid_));
        return {};
    }

    // Every thread is stopped: check every byte first, then write the traps.
    result<void> insert_all() {
        originals_.resize(breakpoints_.size());
        if (index_.size() != breakpoints_.size())
            return fail(errc::invalid_argument, "placing breakpoints in pid " + std::to_string(pid_), "an address is given twice");
        for (std::size_t i = 0; i < breakpoints_.size(); ++i) {
            originals_[i] = TRIAGE_TRY(read_byte(mem_, breakpoints_[i].address));
            if (originals_[i] == int3_opcode)
                return fail(errc::inconsistent, "placing a breakpoint at " + hex(breakpoints_[i].address) + " in pid " + std::to_string(pid_),
                            "the byte there is already an int3: another debugger's breakpoint; nothing was written");
        }
        for (std::size_t i = 0; i < breakpoints_.size(); ++i) {
            if (auto written = write_byte(mem_, breakpoints_[i].address, int3_opcode); !written) {
                restore_in(mem_, i);
                return written;
            }
        }
        inserted_ = true;
        return {};
    }

    // Writes the original bytes of the first `count` breakpoints back through `fd`.
    void restore_in(int fd, std::size_t count) const {
        for (std::size_t i = 0; i < count; ++i) (void)write_byte(fd, breakpoints_[i].address, originals_[i]);
    }

    [[nodiscard]] std::optional<std::uint64_t> rip(pid_t tid) const {
        errno = 0;
        const long v = ::ptrace(PTRACE_PEEKUSER, tid, reinterpret_cast<void*>(offsetof(user_regs_struct, rip)), nullptr);
        if (errno != 0) return std::nullopt;
        return static_cast<std::uint64_t>(v);
    }
    bool set_rip(pid_t tid, std::uint64_t value) const {
        return ::ptrace(PTRACE_POKEUSER, tid, reinterpret_cast<void*>(offsetof(user_regs_struct, rip)),
                        reinterpret_cast<void*>(value)) == 0;
    }

    // The breakpoint a SIGTRAP-stopped task just hit, if it is one of ours.
    [[nodiscard]] std::optional<std::size_t> hit_of(pid_t tid) const {
        if (!inserted_) return std::nullopt;
        const auto ip = rip(tid);
        if (!ip || *ip == 0) return std::nullopt;
        auto it = index_.find(*ip - 1);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }

    void mark_stopped(int3_task& task) {
        task.running = false;
        task.stopped_at = clock::now();
        if (!task.guest) run_.stopped(task.t);
    }

    void resume(int3_task& task) {
        if (task.exited || task.running) return;
        const int request = task.listening ? PTRACE_LISTEN : PTRACE_CONT;
        const int signal = task.listening ? 0 : std::exchange(task.pending_signal, 0);
        out_.stopped += clock::now() - task.stopped_at;
        task.running = true;
        if (task.guest)
            (void)::ptrace(static_cast<__ptrace_request>(request), task.t.tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal)));
        else
            (void)run_.resume(task.t, request, signal);
    }

    void gone(int3_task& task) {
        if (task.exited) return;
        task.exited = true;
        task.running = false;
        if (!task.guest) run_.exited(task.t.tid);
    }

    int3_task& add_thread(pid_t tid) {
        int3_task& task = tasks_[tid];
        task.t = run_.adopt(tid);
        task.running = true;  // its first stop (PTRACE_EVENT_STOP) is on its way
        out_.threads.insert(tid);
        out_.added_late.insert(tid);
        return task;
    }

    // A child process the target forked or vforked: its first stop, however it is ordered with its parent's event.
    bool wait_child_stop(pid_t child) {
        if (early_children_.erase(child) > 0) return true;
        for (int i = 0; i < 100000; ++i) {
            int status = 0;
            const pid_t r = ::waitpid(child, &status, __WALL | __WNOTHREAD | WNOHANG);
            if (r == child) return WIFSTOPPED(status);
            if (r < 0) return false;
            ::usleep(10);
        }
        return false;
    }

    void on_child(int event, int3_task& parent) {
        unsigned long message = 0;
        if (::ptrace(PTRACE_GETEVENTMSG, parent.t.tid, nullptr, &message) != 0 || message == 0) return;
        const auto child = static_cast<pid_t>(message);
        if (!wait_child_stop(child)) return;
        if (event == PTRACE_EVENT_FORK) {
            // Its own copy of our text: put every original byte back before it runs, and let it go.
            unique_fd child_mem{::open(("/proc/" + std::to_string(child) + "/mem").c_str(), O_RDWR | O_CLOEXEC)};
            if (child_mem) restore_in(child_mem.get(), breakpoints_.size());
            (void)::ptrace(PTRACE_DETACH, child, nullptr, nullptr);
            ++out_.children_cleaned;
            return;
        }
        // vfork: it runs in our text until it execs or exits; served like a thread.
        int3_task& guest = tasks_[child];
        guest.t = {child, nullptr};
        guest.guest = true;
        guest.stopped_at = clock::now();
        resume(guest);
    }

    // One waitpid report. `serving`: the window is open, the task runs on
    // once served; otherwise it stays stopped (stop_world, close_window).
    void on_report(pid_t tid, int status, bool serving) {
        auto it = tasks_.find(tid);
        if (it == tasks_.end()) {
            if (auto st = procfs::read_status(pid_, tid); !st || st->tgid != pid_) {
                early_children_.insert(tid);  // a child's first stop, before its parent's event
                return;
            }
            it = tasks_.find(add_thread(tid).t.tid);
        }
        int3_task& task = it->second;
        const auto report = ptrace::detail::classify(status);
        if (report.kind == ptrace::detail::stop_report::exited) {
            gone(task);
            return;
        }
        mark_stopped(task);
        const int event = (status >> 16) & 0xff;
        unsigned long message = 0;
        switch (report.kind) {
        case ptrace::detail::stop_report::signal_stop:
            if (report.signal == SIGTRAP) {
                if (auto hit = hit_of(tid)) {
                    record_hit(task, *hit);
                    break;
                }
            }
            task.pending_signal = report.signal;
            break;
        case ptrace::detail::stop_report::group_stop: task.listening = true; break;
        case ptrace::detail::stop_report::event_stop: task.listening = false; break;
        case ptrace::detail::stop_report::clone_event:
            if (!task.guest && ::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && message != 0 &&
                !tasks_.contains(static_cast<pid_t>(message))) {
                int3_task& born = add_thread(static_cast<pid_t>(message));
                if (!serving) awaiting_.insert(born.t.tid);
            }
            break;
        case ptrace::detail::stop_report::exec_event:
            if (task.guest) {  // a new image: none of our breakpoints is in it
                (void)::ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
                gone(task);
                return;
            }
            out_.target_execed = true;
            inserted_ = false;
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && static_cast<pid_t>(message) != tid) {
                if (auto former = tasks_.find(static_cast<pid_t>(message)); former != tasks_.end()) gone(former->second);
                else run_.exited(static_cast<pid_t>(message));
            }
            break;
        case ptrace::detail::stop_report::other_event:
            if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK) on_child(event, task);
            break;
        case ptrace::detail::stop_report::syscall_stop:
        case ptrace::detail::stop_report::exited: break;
        }
        if (serving && !out_.target_execed) {
            serve(task);
            resume(task);
        }
    }

    void record_hit(int3_task& task, std::size_t hit) {
        ++out_.hits;
        task.queued_hit = hit;
        if (task.guest || (options_.only && *options_.only != task.t.tid)) return;
        ++calls_[{task.t.tid, hit}];
        if (options_.trace && out_.traced.size() < options_.trace->max_calls) trace(task.t.tid, hit);
    }

    // The call's arguments, and the strings asked for, while the thread is stopped at its first instruction.
    void trace(pid_t tid, std::size_t hit) {
        user_regs_struct regs{};
        if (::ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
        traced_call call;
        call.tid = tid;
        call.probe = hit;
        call.at = clock::now() - opened_;
        call.args = {regs.rdi, regs.rsi, regs.rdx, regs.rcx, regs.r8, regs.r9};
        // At a call's first instruction (a stub, or the function's entry) the return address is at rsp.
        if (::pread(mem_, &call.return_address, sizeof call.return_address, static_cast<off_t>(regs.rsp)) !=
            sizeof call.return_address)
            call.return_address = 0;
        const int3_trace& t = *options_.trace;
        const std::uint8_t strings = hit < t.strings.size() ? t.strings[hit] : 0;
        for (std::size_t i = 0; i < call.args.size(); ++i) {
            if ((strings & (1U << i)) == 0) continue;
            std::string bytes(t.max_string + 1, '\0');
            const ssize_t n = ::pread(mem_, bytes.data(), bytes.size(), static_cast<off_t>(call.args[i]));
            if (n <= 0) continue;
            bytes.resize(static_cast<std::size_t>(n));
            if (auto nul = bytes.find('\0'); nul != std::string::npos) bytes.resize(nul);
            call.strings[i] = std::move(bytes);
        }
        out_.traced.push_back(std::move(call));
        if (out_.traced.size() == t.max_calls) out_.trace_full = true;
    }

    // A thread our interrupt stopped just after it executed an int3 still
    // has that SIGTRAP pending: the interrupt's stop comes before the signal
    // is dequeued. Let go like that, it would die of it. So it runs on until
    // it dequeues the signal (synchronous signals come first), under us.
    void take_pending_trap(int3_task& task) {
        if (task.queued_hit || task.exited || task.running) return;
        const pid_t tid = task.t.tid;
        auto st = procfs::read_status(pid_, tid);
        if (!st || (st->sig_pending & (std::uint64_t{1} << (SIGTRAP - 1))) == 0) return;
        for (int reports = 0; reports < 8; ++reports) {
            if (::ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0) return;
            int status = 0;
            if (::waitpid(tid, &status, __WALL | __WNOTHREAD) != tid) return;
            const auto report = ptrace::detail::classify(status);
            if (report.kind == ptrace::detail::stop_report::exited) {
                gone(task);
                return;
            }
            if (report.kind != ptrace::detail::stop_report::signal_stop) continue;  // an interrupt left over
            if (report.signal == SIGTRAP) {
                if (auto hit = hit_of(tid)) record_hit(task, *hit);
                else task.pending_signal = SIGTRAP;  // not ours
                return;
            }
            task.pending_signal = report.signal;  // delivered when it is let go
        }
    }

    // Serves a stopped task's queued hit.
    void serve(int3_task& task) {
        if (!task.queued_hit) return;
        const breakpoint& bp = breakpoints_[*task.queued_hit];
        if (bp.slot != 0) {
            std::uint64_t target = 0;
            if (::pread(mem_, &target, sizeof target, static_cast<off_t>(bp.slot)) == sizeof target && set_rip(task.t.tid, target)) {
                task.queued_hit.reset();
                return;
            }
        }
        step_over(task);
    }

    // Interrupts every running task but `except` and waits until each has
    // reported a stop (or exited), for at most the session's stop budget.
    // A task that does not stop (uninterruptible sleep) runs no user code
    // meanwhile; if it wakes, it finds either the trap or the original
    // instruction, never half of one (every write is one byte).
    void stop_world(const int3_task* except) {
        awaiting_.clear();
        for (auto& [tid, task] : tasks_) {
            if (&task == except || task.exited || !task.running) continue;
            (void)::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
            awaiting_.insert(tid);
        }
        const auto deadline = clock::now() + std::chrono::milliseconds{2000};
        ptrace::detail::sigchld_waiter sigchld;
        while (!awaiting_.empty() && clock::now() < deadline) {
            int status = 0;
            const pid_t tid = ptrace::detail::next_report(status);
            if (tid == 0) {
                std::erase_if(awaiting_, [this](pid_t t) { auto it = tasks_.find(t); return it == tasks_.end() || it->second.exited; });
                sigchld.wait(std::chrono::milliseconds{1}, [this](pid_t p) { return tasks_.contains(p); });
                continue;
            }
            on_report(tid, status, false);
            awaiting_.erase(tid);
        }
    }

    // With every other task stopped: the original instruction runs once under
    // PTRACE_SINGLESTEP, then the trap is written again.
    void step_one(int3_task& task) {
        const std::size_t i = *task.queued_hit;
        task.queued_hit.reset();
        const breakpoint& bp = breakpoints_[i];
        if (!write_byte(mem_, bp.address, originals_[i]) || !set_rip(task.t.tid, bp.address)) return;
        for (int steps = 0; steps < 64; ++steps) {
            if (::ptrace(PTRACE_SINGLESTEP, task.t.tid, nullptr, nullptr) != 0) break;
            int status = 0;
            if (::waitpid(task.t.tid, &status, __WALL | __WNOTHREAD) != task.t.tid) break;
            const auto report = ptrace::detail::classify(status);
            if (report.kind == ptrace::detail::stop_report::exited) {
                gone(task);
                break;
            }
            if (report.kind == ptrace::detail::stop_report::signal_stop) {
                if (report.signal == SIGTRAP) break;  // stepped
                task.pending_signal = report.signal;  // delivered once the step is done
            }
            // an interrupt left over from an earlier stop: step again
        }
        (void)write_byte(mem_, bp.address, int3_opcode);
    }

    void step_over(int3_task& hit) {
        ++out_.world_stops;
        stop_world(&hit);
        step_one(hit);
        for (auto& [tid, task] : tasks_)
            if (!task.exited && !task.running && task.queued_hit) step_one(task);
        for (auto& [tid, task] : tasks_)
            if (&task != &hit && !task.running && !awaiting_.contains(tid)) resume(task);
    }

    // A stopped task's queued hit, with the original bytes back (or about to
    // be): the task runs the original instruction, or the jump's target.
    void unqueue_for_release(int3_task& task) {
        if (!task.queued_hit) return;
        const breakpoint& bp = breakpoints_[*task.queued_hit];
        task.queued_hit.reset();
        std::uint64_t target = 0;
        if (bp.slot != 0 && ::pread(mem_, &target, sizeof target, static_cast<off_t>(bp.slot)) == sizeof target &&
            set_rip(task.t.tid, target))
            return;
        (void)set_rip(task.t.tid, bp.address);
    }

    void close_window() {
        stop_world(nullptr);
        for (auto& [tid, task] : tasks_) {
            if (inserted_) take_pending_trap(task);
            if (!task.exited && !task.running) unqueue_for_release(task);
        }
        if (inserted_) {
            restore_in(mem_, breakpoints_.size());
            inserted_ = false;
            // A task that could not be stopped may have trapped before the bytes were back.
            int status = 0;
            for (pid_t tid; (tid = ptrace::detail::next_report(status)) != 0;) {
                inserted_ = true;
                on_report(tid, status, false);
                inserted_ = false;
                if (auto it = tasks_.find(tid); it != tasks_.end() && !it->second.exited) unqueue_for_release(it->second);
            }
        } else if (out_.target_execed) {
            // The target's new image holds none of our bytes; a vfork child still in the old one does.
            for (auto& [tid, task] : tasks_) {
                if (!task.guest || task.exited) continue;
                unique_fd guest_mem{::open(("/proc/" + std::to_string(tid) + "/mem").c_str(), O_RDWR | O_CLOEXEC)};
                if (guest_mem) restore_in(guest_mem.get(), breakpoints_.size());
            }
        }
        for (auto& [tid, task] : tasks_) {
            if (task.exited) continue;
            if (task.guest) {
                (void)::ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(task.pending_signal)));
                continue;
            }
            if (task.running) continue;  // never stopped: the session's own stop deals with it
            (void)::ptrace(PTRACE_SETOPTIONS, tid, nullptr, reinterpret_cast<void*>(session_trace_options));
            task.t.slot->pending_signal.store(task.pending_signal);
            task.t.slot->group_stop.store(task.listening);
            out_.stopped += clock::now() - task.stopped_at;
        }
        for (pid_t child : early_children_) (void)::ptrace(PTRACE_DETACH, child, nullptr, nullptr);
        for (const auto& [key, n] : calls_) out_.calls.push_back({key.first, key.second, n});
    }

    ptrace::session::run_control& run_;
    pid_t pid_;
    int mem_;
    std::span<const breakpoint> breakpoints_;
    const int3_options& options_;
    int3_counts& out_;
    std::unordered_map<std::uint64_t, std::size_t> index_;
    std::vector<std::uint8_t> originals_;
    bool inserted_ = false;
    std::map<pid_t, int3_task> tasks_;
    std::set<pid_t> awaiting_;
    std::set<pid_t> early_children_;
    std::map<std::pair<pid_t, std::size_t>, std::uint64_t> calls_;
    clock::time_point opened_{};
};

} // namespace triage::plt::detail

namespace triage::plt {

[[nodiscard]] TRIAGE_DECL result<unique_fd> open_text_writer(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/mem";
    unique_fd fd{::open(path.c_str(), O_RDWR | O_CLOEXEC)};
    if (!fd) return fail_errno(errno, "opening " + path + " for writing");
    return fd;
}

[[nodiscard]] TRIAGE_DECL result<int3_counts> count_int3_hits(ptrace::session& session, int memory_fd,
                                                              std::span<const breakpoint> breakpoints,
                                                              const int3_options& options) {
    int3_counts out;
    result<void> opened;
    TRIAGE_TRY(session.let_run([&](ptrace::session::run_control& run) {
        detail::int3_window window{run, session.pid(), memory_fd, breakpoints, options, out};
        opened = window.run();
    }));
    if (!opened) return fail(std::move(opened.error()));
    return out;
}

} // namespace triage::plt
