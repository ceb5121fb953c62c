// What the native unwinder's tests share: the chain victim
// (tests/victims/unwind/unwind_chain.c, one build per variant) started and
// waited for until its parked thread is in read(); our stacks as function
// names; the oracles' stacks (eu-stack, gdb) as function names per thread.
// Spawning, reaping and running the oracles come from tests/support.
//
// Errors: std::runtime_error (from tests/support) when a victim does not
// get ready or an oracle cannot run. Thread safety: one object per thread.
// What it does to the victim: starts it; kills it on destruction.
//
//   unwind_test::chain_victim v{unwind_test::chain_program("fp_cfi")};
//   auto oracle = unwind_test::eu_stack_names(v.pid());
//   CHECK(oracle[v.spinner].front() == "inner");
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/run_command.hpp"
#include "support/victim.hpp"
#include "triage/base/text.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/ptrace/session.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/native_frame.hpp"
#include "triage/unwind/symbolize.hpp"
#include "triage/unwind/unwinder.hpp"

namespace unwind_test {

// The chain victim's program in one variant: "fp_cfi", "nofp_cfi", "fp_nocfi".
inline std::string chain_program(const std::string& variant) {
    return triage::test_support::victim_path("unwind_chain_" + variant);
}

// A chain victim started from `program` (chain_program(), or a copy of
// one), with `mode` "signal" for its thread blocked in a signal handler.
struct chain_victim : triage::test_support::victim {
    explicit chain_victim(const std::string& program, const std::string& mode = {})
        : victim{mode.empty() ? std::vector<std::string>{program} : std::vector<std::string>{program, mode}},
          spinner{static_cast<pid_t>(number("spinner"))},
          parked{static_cast<pid_t>(number("parked"))},
          signalled{all("signalled").empty() ? 0 : static_cast<pid_t>(number("signalled"))} {
        // Ready once the blocking threads are in read() (system call 0)...
        for (pid_t tid : {parked, signalled}) {
            if (tid != 0 && !in_read(tid))
                throw std::runtime_error("thread " + std::to_string(tid) + " of " + program +
                                         " did not block in read()");
        }
        // ...and the spinner is in its chain: it printed "ready" on its way
        // there, and a stop right after could find it still in fflush().
        if (!ran_for(spinner, std::chrono::milliseconds{20}))
            throw std::runtime_error("thread " + std::to_string(spinner) + " of " + program + " did not spin");
    }

    pid_t spinner;
    pid_t parked;
    pid_t signalled;  // 0 unless started in "signal" mode

private:
    // Its schedstat run time grew by `at_least` (within 5 s).
    [[nodiscard]] bool ran_for(pid_t tid, std::chrono::nanoseconds at_least) const {
        const std::string schedstat_file = "/proc/" + std::to_string(pid()) + "/task/" + std::to_string(tid) + "/schedstat";
        auto run_time = [&] {
            std::ifstream file(schedstat_file);
            long long ns = -1;
            file >> ns;
            return std::chrono::nanoseconds{ns};
        };
        const auto first = run_time();
        for (int i = 0; i < 500; ++i) {
            if (run_time() - first >= at_least) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    [[nodiscard]] bool in_read(pid_t tid) const {
        const std::string syscall_file = "/proc/" + std::to_string(pid()) + "/task/" + std::to_string(tid) + "/syscall";
        for (int i = 0; i < 500; ++i) {
            std::ifstream file(syscall_file);
            std::string first;
            if (file >> first && first == "0") return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
};

// A result's value, or std::runtime_error with its message.
template <class T>
T value_of(triage::result<T> r, const std::string& doing) {
    if (!r) throw std::runtime_error(doing + ": " + r.error().message());
    return std::move(*r);
}

struct thread_stacks {
    triage::unwind::native_stack spinner;
    triage::unwind::native_stack parked;
};

// Both threads of a chain victim unwound from the live process, in one stop.
inline thread_stacks unwind_live(triage::unwind::module_set& modules, const chain_victim& v) {
    auto memory = value_of(triage::memory::live_process::open(v.pid()), "opening the victim's memory");
    auto session = value_of(triage::ptrace::session::attach(v.pid()), "attaching to the victim");
    thread_stacks out;
    for (auto [tid, into] : {std::pair{v.spinner, &out.spinner}, std::pair{v.parked, &out.parked}}) {
        auto regs = value_of(session.registers(tid), "reading registers");
        *into = value_of(triage::unwind::unwind_thread(modules, memory, regs.general), "unwinding");
    }
    if (auto released = session.release(); !released)
        throw std::runtime_error("releasing the victim: " + released.error().message());
    return out;
}

// The functions of a stack, "??" where no symbol covers the pc.
inline std::vector<std::string> function_names(triage::unwind::module_set& modules,
                                               const triage::unwind::native_stack& stack) {
    std::vector<std::string> names;
    for (const auto& frame : stack.frames) {
        auto symbol = triage::unwind::symbolize(modules, frame);
        names.push_back(symbol.function.empty() ? "??" : symbol.function);
    }
    return names;
}

// eu-stack's output ("TID n:" then "#k  0xADDR name") as names per thread.
inline std::map<pid_t, std::vector<std::string>> parse_eu_stack(std::string_view text) {
    std::map<pid_t, std::vector<std::string>> out;
    pid_t tid = -1;
    while (!text.empty()) {
        std::string_view line = triage::next_token(text, '\n');
        if (line.starts_with("TID ")) {
            line.remove_prefix(4);
            tid = static_cast<pid_t>(triage::parse_unsigned<unsigned>(triage::next_token(line, ':')).value_or(0));
            out[tid];
        } else if (line.starts_with("#") && tid >= 0) {
            (void)triage::next_token(line, ' ');  // #k
            line = triage::trim(line);
            (void)triage::next_token(line, ' ');  // address
            std::string_view name = triage::trim(line);
            out[tid].emplace_back(name.empty() ? "??" : std::string{triage::next_token(name, ' ')});
        }
    }
    return out;
}

inline std::map<pid_t, std::vector<std::string>> eu_stack_names(pid_t pid) {
    auto run = triage::test_support::run_command({"eu-stack", "-p", std::to_string(pid)});
    if (run.exit_code != 0) throw std::runtime_error("eu-stack -p " + std::to_string(pid) + " failed: " + run.err);
    return parse_eu_stack(run.out);
}

// gdb's "thread apply all bt" ("Thread n (... (LWP tid) ...):" then
// "#k  0xADDR in name (...)" or "#k  name (...) at file:line") as names per thread.
inline std::map<pid_t, std::vector<std::string>> gdb_names(pid_t pid) {
    auto run = triage::test_support::run_command(
        {"gdb", "-nx", "-batch", "-p", std::to_string(pid), "-ex", "thread apply all bt"});
    if (run.exit_code != 0) throw std::runtime_error("gdb -p " + std::to_string(pid) + " failed: " + run.err);
    std::map<pid_t, std::vector<std::string>> out;
    pid_t tid = -1;
    std::string_view text = run.out;
    while (!text.empty()) {
        std::string_view line = triage::next_token(text, '\n');
        if (line.starts_with("Thread ")) {
            auto at = line.find("(LWP ");
            if (at == std::string_view::npos) continue;
            line.remove_prefix(at + 5);
            tid = static_cast<pid_t>(triage::parse_unsigned<unsigned>(triage::next_token(line, ')')).value_or(0));
            out[tid];
        } else if (line.starts_with("#") && tid >= 0) {
            (void)triage::next_token(line, ' ');  // #k
            line = triage::trim(line);
            if (line.starts_with("0x")) {
                (void)triage::next_token(line, ' ');  // address
                line = triage::trim(line);
                if (line.starts_with("in ")) line.remove_prefix(3);
            }
            out[tid].emplace_back(triage::next_token(line, ' '));
        }
    }
    return out;
}

// Names as one line, for failure messages.
inline std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
    return out;
}

// The names of `names` that are in `keep`, in order.
inline std::vector<std::string> only(const std::vector<std::string>& names, const std::vector<std::string>& keep) {
    std::vector<std::string> out;
    for (const auto& n : names)
        if (std::find(keep.begin(), keep.end(), n) != keep.end()) out.push_back(n);
    return out;
}

} // namespace unwind_test
