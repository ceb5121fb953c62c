// triage/plt/impl/int3_guardian.ipp — the definitions of
// triage/plt/int3_guardian.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "triage/plt/int3_guardian.hpp"

namespace triage::plt::detail {

// The guardian's messages to the tool: a type byte, a length, the payload.
enum class guardian_record : std::uint8_t { started = 'S', counts = 'C', failure = 'E' };

class record_writer {
public:
    void u64(std::uint64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
    void text(std::string_view s) {
        u64(s.size());
        bytes_.append(s);
    }
    // Sends the record whole; false if the tool is gone.
    bool send(int fd, guardian_record type) const {
        std::string frame(1, static_cast<char>(type));
        const std::uint64_t n = bytes_.size();
        frame.append(reinterpret_cast<const char*>(&n), sizeof n);
        frame += bytes_;
        for (std::size_t done = 0; done < frame.size();) {
            const ssize_t w = ::send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return false;
            done += static_cast<std::size_t>(w);
        }
        return true;
    }

private:
    std::string bytes_;
};

class record_reader {
public:
    explicit record_reader(std::string_view bytes) : rest_{bytes} {}
    std::uint64_t u64() {
        std::uint64_t v = 0;
        if (rest_.size() < sizeof v) {
            ok_ = false;
            return 0;
        }
        std::memcpy(&v, rest_.data(), sizeof v);
        rest_.remove_prefix(sizeof v);
        return v;
    }
    std::string text() {
        const std::uint64_t n = u64();
        if (n > rest_.size()) {
            ok_ = false;
            return {};
        }
        std::string s{rest_.substr(0, n)};
        rest_.remove_prefix(n);
        return s;
    }
    [[nodiscard]] bool ok() const noexcept { return ok_; }

private:
    std::string_view rest_;
    bool ok_ = true;
};

inline void write_counts(record_writer& w, const int3_counts& c) {
    w.u64(static_cast<std::uint64_t>(c.window.count()));
    w.u64(static_cast<std::uint64_t>(c.stopped.count()));
    w.u64(c.hits);
    w.u64(c.world_stops);
    w.u64(c.children_cleaned);
    w.u64((c.interrupted ? 1U : 0U) | (c.target_exited ? 2U : 0U) | (c.target_execed ? 4U : 0U));
    for (const std::set<pid_t>* set : {&c.threads, &c.added_late}) {
        w.u64(set->size());
        for (pid_t tid : *set) w.u64(static_cast<std::uint64_t>(tid));
    }
    w.u64(c.calls.size());
    for (const thread_calls& t : c.calls) {
        w.u64(static_cast<std::uint64_t>(t.tid));
        w.u64(t.probe);
        w.u64(t.calls);
    }
    w.u64(c.trace_full ? 1U : 0U);
    w.u64(c.traced.size());
    for (const traced_call& t : c.traced) {
        w.u64(static_cast<std::uint64_t>(t.tid));
        w.u64(t.probe);
        w.u64(static_cast<std::uint64_t>(t.at.count()));
        for (std::uint64_t a : t.args) w.u64(a);
        w.u64(t.return_address);
        for (const auto& s : t.strings) {
            w.u64(s ? 1U : 0U);
            if (s) w.text(*s);
        }
    }
}

inline int3_counts read_counts(record_reader& r) {
    int3_counts c;
    c.window = std::chrono::nanoseconds{static_cast<std::int64_t>(r.u64())};
    c.stopped = std::chrono::nanoseconds{static_cast<std::int64_t>(r.u64())};
    c.hits = r.u64();
    c.world_stops = r.u64();
    c.children_cleaned = r.u64();
    const std::uint64_t flags = r.u64();
    c.interrupted = (flags & 1U) != 0;
    c.target_exited = (flags & 2U) != 0;
    c.target_execed = (flags & 4U) != 0;
    for (std::set<pid_t>* set : {&c.threads, &c.added_late}) {
        for (std::uint64_t n = r.u64(); n > 0 && r.ok(); --n) set->insert(static_cast<pid_t>(r.u64()));
    }
    for (std::uint64_t n = r.u64(); n > 0 && r.ok(); --n) {
        thread_calls t;
        t.tid = static_cast<pid_t>(r.u64());
        t.probe = r.u64();
        t.calls = r.u64();
        c.calls.push_back(t);
    }
    c.trace_full = r.u64() != 0;
    for (std::uint64_t n = r.u64(); n > 0 && r.ok(); --n) {
        traced_call t;
        t.tid = static_cast<pid_t>(r.u64());
        t.probe = r.u64();
        t.at = std::chrono::nanoseconds{static_cast<std::int64_t>(r.u64())};
        for (std::uint64_t& a : t.args) a = r.u64();
        t.return_address = r.u64();
        for (auto& s : t.strings)
            if (r.u64() != 0) s = r.text();
        c.traced.push_back(std::move(t));
    }
    return c;
}

inline void send_failure(int fd, const error& e) {
    record_writer w;
    w.u64(static_cast<std::uint64_t>(e.code));
    w.u64(static_cast<std::uint64_t>(e.sys_errno));
    w.text(e.context);
    w.text(e.hint);
    (void)w.send(fd, guardian_record::failure);
}

// The guardian's session and count, released before the result is sent.
inline result<int3_counts> guarded_count(pid_t pid, const std::vector<breakpoint>& breakpoints, const int3_options& options,
                                         ptrace::attach_options attach) {
    auto session = TRIAGE_TRY(ptrace::session::attach(pid, attach));
    auto mem = TRIAGE_TRY(open_text_writer(pid));
    auto out = count_int3_hits(session, mem.get(), breakpoints, options);
    const auto held = session.stopped_for();
    auto released = session.release();
    if (!out) return out;
    if (!released) return fail(std::move(released.error()));
    out->stopped += held;
    return out;
}

// The guardian's life, in the forked child; never returns.
[[noreturn]] inline void guardian_main(pid_t pid, const std::vector<breakpoint>& breakpoints, int3_options options,
                                       ptrace::attach_options attach, int tool) {
    ::setsid();
    ::prctl(PR_SET_NAME, "triage-guard", 0, 0, 0);
    sigset_t requests;
    sigemptyset(&requests);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&requests, s);
    ::sigprocmask(SIG_BLOCK, &requests, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    if (int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::close(null);
    }
    // Everything else the tool had open stays the tool's (a pipe it shares must see EOF when it ends).
    for (int fd = 3; fd < 1024; ++fd)
        if (fd != tool) ::close(fd);

    // A request to stop: a byte or EOF from the tool, or one of the blocked signals.
    options.stop_requested = [tool, requests] {
        pollfd p{tool, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0) return true;
        const timespec now{0, 0};
        return ::sigtimedwait(&requests, nullptr, &now) > 0;
    };
    options.started = [tool](std::size_t threads) {
        record_writer w;
        w.u64(threads);
        (void)w.send(tool, guardian_record::started);
    };
    // Nothing may leave this function: an exception would carry the forked guardian back into the tool's code.
    result<int3_counts> out = fail(errc::system, "counting in the guardian process", "an exception ended it");
    try {
        out = guarded_count(pid, breakpoints, options, attach);
    } catch (const std::exception& e) {
        out = fail(errc::system, "counting in the guardian process", e.what());
    } catch (...) {
    }
    if (out) {
        record_writer w;
        write_counts(w, *out);
        (void)w.send(tool, guardian_record::counts);
    } else {
        send_failure(tool, out.error());
    }
    ::_exit(0);
}

} // namespace triage::plt::detail

namespace triage::plt {

[[nodiscard]] TRIAGE_DECL result<int3_counts> count_int3_hits_guarded(pid_t pid, const std::vector<breakpoint>& breakpoints,
                                                                      const int3_options& options,
                                                                      ptrace::attach_options attach) {
    const std::string context = "counting breakpoint hits in pid " + std::to_string(pid) + " from a guardian process";
    // One socket both ways: the tool's requests to stop (EOF when the tool is gone) and the guardian's records.
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) return fail_errno(errno, context);
    unique_fd guardian_end{ends[0]};
    unique_fd tool_end{ends[1]};
    const pid_t guardian = ::fork();
    if (guardian < 0) return fail_errno(errno, context);
    if (guardian == 0) {
        const int mine = guardian_end.release();
        ::close(tool_end.release());
        detail::guardian_main(pid, breakpoints, options, attach, mine);
    }
    guardian_end.reset();

    std::string received;
    std::optional<result<int3_counts>> out;
    bool asked_to_stop = false;
    for (;;) {
        pollfd p{tool_end.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(options.poll.count() > 0 ? options.poll.count() : 1));
        if (ready < 0 && errno != EINTR) break;
        if (!asked_to_stop && options.stop_requested && options.stop_requested()) {
            asked_to_stop = true;
            const char stop = 's';
            (void)::send(tool_end.get(), &stop, 1, MSG_NOSIGNAL);  // a guardian already gone is no error
        }
        if (ready <= 0) continue;
        char chunk[65536];
        const ssize_t n = ::read(tool_end.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        received.append(chunk, static_cast<std::size_t>(n));
        // Whole records: type, length, payload.
        while (received.size() >= 9) {
            std::uint64_t length = 0;
            std::memcpy(&length, received.data() + 1, sizeof length);
            if (received.size() < 9 + length) break;
            detail::record_reader r{std::string_view{received}.substr(9, length)};
            switch (static_cast<detail::guardian_record>(received[0])) {
            case detail::guardian_record::started:
                if (const std::uint64_t threads = r.u64(); options.started) options.started(threads);
                break;
            case detail::guardian_record::counts: out.emplace(detail::read_counts(r)); break;
            case detail::guardian_record::failure: {
                error e;
                e.code = static_cast<errc>(r.u64());
                e.sys_errno = static_cast<int>(r.u64());
                e.context = r.text();
                e.hint = r.text();
                out.emplace(std::unexpected{std::move(e)});
                break;
            }
            }
            received.erase(0, 9 + length);
        }
    }
    tool_end.reset();
    int status = 0;
    while (::waitpid(guardian, &status, 0) < 0 && errno == EINTR) {
    }
    if (!out) {
        const std::string how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                                    : "exited with status " + std::to_string(WEXITSTATUS(status));
        return fail(errc::system, context, "the guardian process " + how + " without a result");
    }
    return std::move(*out);
}

} // namespace triage::plt
