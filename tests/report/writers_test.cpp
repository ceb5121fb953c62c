// The text and JSON writers of report/, on reports built by hand: the
// formats docs/cli.md describes, target strings escaped in text.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "triage/report/dump_json.hpp"
#include "triage/report/dump_text.hpp"
#include "triage/report/pystack_json.hpp"
#include "triage/report/pystack_text.hpp"
#include "triage/report/top_json.hpp"
#include "triage/report/top_text.hpp"

using namespace triage;
using namespace std::chrono_literals;

namespace {

cpython::python_stacks_report stacks() {
    cpython::python_stacks_report r;
    r.pid = 1234;
    r.command_line = "python3 evil\x1b]0;x\x07.py";
    r.executable = "/usr/bin/python3.11";
    r.interpreter = "/usr/bin/python3.11";
    r.python_version = "3.11.2";
    r.source = cpython::stacks_source::blocking;
    r.stopped_for = 1'250'000ns;
    cpython::thread_stack hot;
    hot.tid = 1260;
    hot.ns_tid = 7;
    hot.python_ident = 139675859662528;
    hot.name = "worker\r\nThread 9";
    hot.state = 'R';
    hot.cpu_percent = 99.94;
    hot.holds_gil = true;
    hot.frames = {{"find_anchor", "find_anchor", "service.py", 41, 0, 0, 0}, {"<module>", "<module>", "service.py", std::nullopt, 0, 0, 0}};
    cpython::thread_stack idle;
    idle.python_ident = 1;
    idle.state = 'S';
    idle.waits_for_gil = true;
    idle.consistent = false;
    idle.failure = error{errc::bad_address, 0, "reading the frame at 0x10", {}};
    r.threads = {hot, idle};
    return r;
}

bool only_printable(const std::string& text) {
    return std::none_of(text.begin(), text.end(), [](char c) {
        auto b = static_cast<unsigned char>(c);
        return (b < 0x20 && b != '\n') || b == 0x7f;
    });
}

} // namespace

TEST_CASE("pystack text: header, then each thread's line and frames; target strings escaped") {
    auto r = stacks();
    const std::string text = report::to_text(r);
    CHECK(text == "Process 1234: python3 evil\\x1b]0;x\\x07.py\n"
                  "Python 3.11.2 (/usr/bin/python3.11)\n"
                  "Target stopped for 1.250 ms for a consistent snapshot\n"
                  "\n"
                  "Thread 1260 (ns 7) \"worker\\r\\nThread 9\" holds GIL running 99.9%\n"
                  "    find_anchor (service.py:41)\n"
                  "    <module> (service.py)\n"
                  "\n"
                  "Thread ? \"\" waits for GIL idle\n"
                  "    (this stack changed while it was read; it may be torn)\n"
                  "    (stack incomplete: unreadable address reading the frame at 0x10)\n");
    CHECK(only_printable(text));
    r.source = cpython::stacks_source::nonblocking;
    r.stopped_for.reset();
    CHECK(report::to_text(r).find("Target not stopped") != std::string::npos);
    r.source = cpython::stacks_source::core;
    r.core = "/tmp/core\n.1";
    CHECK(report::to_text(r).find("Read from the core file /tmp/core\\n.1\n") != std::string::npos);
}

TEST_CASE("pystack JSON: the fields of docs/cli.md, nulls where unknown") {
    auto r = stacks();
    auto doc = nlohmann::json::parse(report::to_json(r).dump());
    CHECK(doc["pid"] == 1234);
    CHECK(doc["python_version"] == "3.11.2");
    CHECK(doc["command_line"] == r.command_line);  // raw: JSON escapes it
    CHECK(doc["mode"] == "blocking");
    CHECK(doc["stopped_ms"].get<double>() == doctest::Approx(1.25));
    CHECK_FALSE(doc.contains("core"));
    const auto& hot = doc["threads"][0];
    CHECK(hot["tid"] == 1260);
    CHECK(hot["ns_tid"] == 7);
    CHECK(hot["python_ident"] == 139675859662528ULL);
    CHECK(hot["thread_id"] == hot["python_ident"]);
    CHECK(hot["name"] == "worker\r\nThread 9");
    CHECK(hot["state"] == "running");
    CHECK(hot["cpu_percent"].get<double>() == doctest::Approx(99.94));
    CHECK(hot["holds_gil"] == true);
    CHECK(hot["waits_for_gil"] == false);
    CHECK(hot["consistent"] == true);
    CHECK(hot["frames"][0] == nlohmann::json{{"function", "find_anchor"}, {"file", "service.py"}, {"line", 41}});
    CHECK(hot["frames"][1]["line"].is_null());
    CHECK_FALSE(hot.contains("error"));
    const auto& idle = doc["threads"][1];
    CHECK(idle["tid"].is_null());
    CHECK(idle["ns_tid"].is_null());
    CHECK(idle["cpu_percent"].is_null());
    CHECK(idle["state"] == "idle");
    CHECK(idle["waits_for_gil"] == true);
    CHECK(idle["consistent"] == false);
    CHECK(idle["error"] == "unreadable address reading the frame at 0x10");

    r.source = cpython::stacks_source::core;
    r.stopped_for.reset();
    r.core = "core.1234";
    doc = nlohmann::json::parse(report::to_json(r).dump());
    CHECK(doc["mode"] == "core");
    CHECK(doc["stopped_ms"].is_null());
    CHECK(doc["core"] == "core.1234");
}

namespace {

report::top_report top() {
    report::top_report r;
    r.pid = 42;
    r.command = "svc --name \x1b[2J";
    r.interval = 500ms;
    r.total_cpu_percent = 100.5;
    report::thread_report spinner;
    spinner.tid = 43;
    spinner.stat.tid = 43;
    spinner.stat.comm.assign("spin\x1b]0;x");
    spinner.stat.state = 'R';
    spinner.cpu_percent = 100.0;
    spinner.activity = procfs::thread_activity{procfs::activity::user_space, 'R', std::nullopt, {}};
    report::thread_report waiter;
    waiter.tid = 44;
    waiter.stat.tid = 44;
    waiter.stat.comm.assign("waiter");
    waiter.stat.state = 'S';
    waiter.cpu_percent = 0.5;
    waiter.activity = procfs::thread_activity{procfs::activity::in_syscall, 'S', 202, {}};
    waiter.activity->wchan.assign("futex_wait_queue");
    r.threads = {spinner, waiter};
    return r;
}

} // namespace

TEST_CASE("top text: header and one row per thread; NS TID and SYSCALLS columns only when there is something to show") {
    auto r = top();
    std::string text = report::to_text(r, 0);
    CHECK(text == "pid 42  svc --name \\x1b[2J\n"
                  "2 threads, CPU 100.5% (100% = one core, over 500 ms)\n"
                  "\n"
                  "     TID  NAME                CPU%   S  WHERE\n"
                  "      43  spin\\x1b]0;x       100.0   R  user space\n"
                  "      44  waiter               0.5   S  futex  (futex_wait_queue)\n");
    CHECK(report::to_text(r, 1).ends_with("... 1 more threads\n"));

    r.threads[0].ns_tid = 2;
    r.threads[1].ns_tid = 3;
    r.syscall_window = 300ms;
    r.syscall_total = 7;
    r.stopped_for = 1'500'000ns;
    ptrace::thread_syscalls calls;
    calls.tid = 44;
    calls.total = 7;
    calls.syscalls = {{"futex", 5}, {"read", 2}};
    r.threads[1].syscalls = calls;
    text = report::to_text(r, 0);
    CHECK(text.find("7 system calls in 300 ms; the target was stopped 1.50 ms in total\n") != std::string::npos);
    CHECK(text.find("     TID    NS TID  NAME                CPU%   S  SYSCALLS                      WHERE\n") != std::string::npos);
    CHECK(text.find("      44         3  waiter               0.5   S  7 (futex 5, read 2)           futex") != std::string::npos);
    CHECK(text.find("      43         2  spin\\x1b]0;x       100.0   R  -                             user space") !=
          std::string::npos);
}

TEST_CASE("top JSON: the fields of docs/cli.md") {
    auto r = top();
    auto doc = nlohmann::json::parse(report::to_json(r).dump());
    CHECK(doc["pid"] == 42);
    CHECK(doc["interval_ms"] == 500);
    CHECK(doc["total_cpu_percent"].get<double>() == doctest::Approx(100.5));
    CHECK_FALSE(doc.contains("stopped_ms"));
    const auto& spinner = doc["threads"][0];
    CHECK(spinner["tid"] == 43);
    CHECK(spinner["ns_tid"].is_null());
    CHECK(spinner["name"] == "spin\x1b]0;x");
    CHECK(spinner["state"] == "R");
    CHECK(spinner["in_user_space"] == true);
    CHECK(spinner["activity"] == "user space");
    CHECK(spinner["syscall"].is_null());
    CHECK(spinner["wchan"].is_null());
    CHECK_FALSE(spinner.contains("syscall_count"));
    const auto& waiter = doc["threads"][1];
    CHECK(waiter["syscall"] == "futex");
    CHECK(waiter["wchan"] == "futex_wait_queue");
    CHECK(waiter["in_user_space"] == false);

    r.syscall_window = 300ms;
    r.stopped_for = 2'000'000ns;
    ptrace::thread_syscalls calls;
    calls.tid = 44;
    calls.total = 3;
    calls.syscalls = {{"futex", 3}};
    r.threads[1].syscalls = calls;
    doc = nlohmann::json::parse(report::to_json(r).dump());
    CHECK(doc["stopped_ms"].get<double>() == doctest::Approx(2.0));
    CHECK(doc["threads"][0]["syscall_count"].is_null());
    CHECK(doc["threads"][1]["syscall_count"] == 3);
    CHECK(doc["threads"][1]["syscalls"] == nlohmann::json{{"futex", 3}});
}

TEST_CASE("dump text and JSON: what triage-gcore prints; the path escaped in text, replaced where not UTF-8 in JSON") {
    coredump::dump_report r;
    r.pid = 1234;
    r.path = "core\x1b[2J\xff";
    r.threads = 26;
    r.first_tid = 1240;
    r.first_thread_cpu = 99.8;
    r.mappings = 80;
    r.mappings_dumped = 61;
    r.filter = coredump::dump_filter{0x33};
    r.bytes_to_copy = 7u << 20;
    r.bytes_written = 6u << 20;
    r.file_size = 209u << 20;
    r.allocated = 6u << 20;
    r.copied_to_memory = true;
    r.stopped_for = std::chrono::milliseconds{6};
    r.elapsed = std::chrono::milliseconds{130};

    const std::string text = report::to_text(r);
    INFO(text);
    CHECK(text.find('\x1b') == std::string::npos);
    CHECK(text.find("threads:   26 (first: 1240, 99.8% CPU)") != std::string::npos);
    CHECK(text.find("(coredump_filter 0x33)") != std::string::npos);
    CHECK(text.find("stopped:   0.006 s, copying to memory (total 0.130 s)") != std::string::npos);
    r.first_thread_cpu.reset();
    CHECK(report::to_text(r).find("threads:   26 (first: 1240)\n") != std::string::npos);

    const auto doc = nlohmann::json::parse(
        report::to_json(r).dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace));
    CHECK(doc["pid"] == 1234);
    CHECK(doc["first_thread"] == 1240);
    CHECK(doc["first_thread_cpu_percent"].is_null());
    CHECK(doc["coredump_filter"] == "0x33");
    CHECK(doc["copied_to_memory"] == true);
    CHECK(doc["stopped_seconds"].get<double>() == doctest::Approx(0.006));
    CHECK(doc["path"].get<std::string>().starts_with("core\x1b[2J"));
    for (const char* field : {"threads", "mappings", "mappings_dumped", "bytes_to_copy", "bytes_written", "file_size",
                              "allocated_bytes", "elapsed_seconds"})
        CHECK_MESSAGE(doc.contains(field), field);
}
