// Parsers of /proc text, on files captured from this machine (the fuzz
// seeds) and on the hard cases the kernel can produce.
#include <doctest/doctest.h>

#include <elf.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "procfs/corpus.hpp"
#include "triage/procfs/auxv.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/comm.hpp"
#include "triage/procfs/exe.hpp"
#include "triage/procfs/parse_pid.hpp"
#include "triage/procfs/schedstat.hpp"
#include "triage/procfs/smaps_rollup.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/syscall.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/procfs/wchan.hpp"

using namespace triage;
using triage_test::corpus_file;

TEST_CASE("parse_stat reads a captured process line field by field") {
    // 9734 (procfs_busy) S 9729 9729 3484 0 -1 4194304 141 0 0 0 51 0 0 0 20 0 10 0 109154 ...
    auto st = procfs::parse_stat(corpus_file("procfs_stat/process"));
    REQUIRE(st);
    CHECK(st->tid == 9734);
    CHECK(st->comm == "procfs_busy");
    CHECK(st->state == 'S');
    CHECK(st->ppid == 9729);
    CHECK(st->pgrp == 9729);
    CHECK(st->session == 3484);
    CHECK(st->tty_nr == 0);
    CHECK(st->tpgid == -1);
    CHECK(st->flags == 4194304);
    CHECK(st->minflt == 141);
    CHECK(st->utime == 51);
    CHECK(st->stime == 0);
    CHECK(st->priority == 20);
    CHECK(st->nice == 0);
    CHECK(st->num_threads == 10);
    CHECK(st->starttime == 109154);
    CHECK(st->vsize == 145178624);
    CHECK(st->rss == 384);
    CHECK(st->exit_signal == 17);
    CHECK(st->processor == 0);
    CHECK_FALSE(st->kernel_thread());
}

TEST_CASE("parse_stat takes the name up to the last ')' (spaces and parentheses in comm)") {
    auto st = procfs::parse_stat(corpus_file("procfs_stat/thread_name_with_parens"));
    REQUIRE(st);
    CHECK(st->comm == "a) b (c");
    CHECK(st->state == 'S');
    CHECK(st->num_threads == 10);
    CHECK(st->exit_signal == -1);  // a thread: no signal to the parent
    // Names that look like fields, and a newline (prctl accepts any bytes).
    auto tricky = procfs::parse_stat("77 () R 1 2 3) Z 9 9 (x) S 5 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 500 0 0 "
                                     "0 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
    REQUIRE(tricky);
    CHECK(tricky->comm == ") R 1 2 3) Z 9 9 (x");
    CHECK(tricky->state == 'S');
    CHECK(tricky->ppid == 5);
    CHECK(tricky->utime == 3);
    CHECK(tricky->stime == 4);
    CHECK(tricky->processor == 1);
    auto newline = procfs::parse_stat("8 (a\nb) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
                                      "0 0 0 17 0 0 0 0 0 0");
    REQUIRE(newline);
    CHECK(newline->comm == "a\nb");
}

TEST_CASE("parse_stat of a kernel thread (kthreadd) sees PF_KTHREAD") {
    auto st = procfs::parse_stat(corpus_file("procfs_stat/kthreadd"));
    REQUIRE(st);
    CHECK(st->tid == 2);
    CHECK(st->comm == "kthreadd");
    CHECK(st->ppid == 0);
    CHECK(st->kernel_thread());
    CHECK(st->vsize == 0);
}

TEST_CASE("parse_stat rejects what is not a stat line") {
    for (std::string_view text : {"", "12", "12 (x", "x (y) S 1", "12 (x)S 1", "12 (x) SS 1 1 1",
                                  // a state letter the kernel never writes (found by fuzzing)
                                  "12 (x) ? 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 "
                                  "0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0",
                                  "12 (x) S 1 2 3", "12 (x) S a 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0 0 0 0 0 0 "
                                                    "0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0"}) {
        CAPTURE(text);
        auto st = procfs::parse_stat(text);
        REQUIRE_FALSE(st);
        CHECK(st.error().code == errc::malformed);
    }
}

TEST_CASE("parse_status reads a captured thread's status, unescaping the name") {
    auto s = procfs::parse_status(corpus_file("procfs_status/thread_name_with_parens"));
    REQUIRE(s);
    CHECK(s->name == "a) b (c");
    CHECK(s->state == 'S');
    CHECK(s->tgid == 9734);
    CHECK(s->pid == 9744);
    CHECK(s->ppid == 9729);
    CHECK(s->tracer_pid == 0);
    CHECK(s->threads == 10);
    REQUIRE(s->vm_rss_kb);
    CHECK(*s->vm_rss_kb > 0);
    auto k = procfs::parse_status(corpus_file("procfs_status/kthreadd"));
    REQUIRE(k);
    CHECK(k->name == "kthreadd");
    CHECK_FALSE(k->vm_rss_kb);  // kernel threads have no user memory
    auto escaped = procfs::parse_status("Name:\ta\\nb\\\\c\nPid:\t5\nSigBlk:\t0000000000010002\n");
    REQUIRE(escaped);
    CHECK(escaped->name == "a\nb\\c");
    CHECK(escaped->sig_blocked == 0x10002);
    CHECK_FALSE(procfs::parse_status("Name:\tx\n"));             // no Pid
    CHECK_FALSE(procfs::parse_status("Pid:\t5\nno colon here\n"));
    CHECK_FALSE(procfs::parse_status("Pid:\tfive\n"));
}

TEST_CASE("parse_status reads the ids of every PID namespace a thread is in (NStgid, NSpid)") {
    // A thread of `unshare -fp --mount-proc python3`: tid 15678 here, 42 inside.
    auto nested = procfs::parse_status(corpus_file("procfs_status/nested_thread"));
    REQUIRE(nested);
    CHECK(nested->pid == 15678);
    CHECK(nested->ns_pids == std::vector<pid_t>{15678, 42});
    CHECK(nested->ns_tgids == std::vector<pid_t>{15636, 1});
    auto flat = procfs::parse_status(corpus_file("procfs_status/thread_name_with_parens"));
    REQUIRE(flat);
    CHECK(flat->ns_pids == std::vector<pid_t>{9744});
    CHECK_FALSE(procfs::parse_status("Pid:\t5\nNSpid:\t5\tx\n"));
    // A task being reaped (a thread whose sibling exec'd) has lost its pid:
    // the kernel prints 0 for it (seen live during exec, issue 8.3), or nothing.
    auto reaped = procfs::parse_status("Pid:\t5\nNStgid:\t0\nNSpid:\t5\t0\n");
    REQUIRE(reaped);
    CHECK(reaped->ns_tgids.empty());
    CHECK(reaped->ns_pids.empty());
    auto blank = procfs::parse_status("Pid:\t5\nNSpid:\t\n");
    REQUIRE(blank);
    CHECK(blank->ns_pids.empty());
}

TEST_CASE("parse_status: x86 user shadow stacks (x86_Thread_features, Linux 6.6+)") {
    CHECK(procfs::parse_status("Pid:\t5\nx86_Thread_features:\tshstk wrss\nx86_Thread_features_locked:\t\n")->shadow_stack);
    CHECK_FALSE(procfs::parse_status("Pid:\t5\nx86_Thread_features:\t\nx86_Thread_features_locked:\tshstk\n")->shadow_stack);
    CHECK_FALSE(procfs::parse_status(corpus_file("procfs_status/process"))->shadow_stack);
}

TEST_CASE("parse_schedstat: run time and wait time in nanoseconds, time slices") {
    auto init = procfs::parse_schedstat(corpus_file("procfs_schedstat/init"));  // 97298445 15881826 357
    REQUIRE(init);
    CHECK(init->run_time == std::chrono::nanoseconds{97298445});
    CHECK(init->wait_time == std::chrono::nanoseconds{15881826});
    CHECK(init->timeslices == 357);
    CHECK(procfs::parse_schedstat("0 0 0\n").value() == procfs::schedstat{});
    for (const char* bad : {"", "1 2", "1 2 3 4", "a b c", "-1 2 3", "1  2 x", "99999999999999999999 0 0"}) {
        CAPTURE(bad);
        CHECK_FALSE(procfs::parse_schedstat(bad));
    }
}

TEST_CASE("parse_pid: decimal 1 to 4194304, nothing else; the error quotes the text safely") {
    CHECK(procfs::parse_pid("1").value() == 1);
    CHECK(procfs::parse_pid("4194304").value() == 4194304);
    CHECK(procfs::parse_pid("0042").value() == 42);
    for (const char* bad : {"", "0", "-5", "+5", " 5", "5 ", "0x10", "12x", "abc", "4194305", "99999999999"}) {
        CAPTURE(bad);
        auto pid = procfs::parse_pid(bad);
        REQUIRE_FALSE(pid);
        CHECK(pid.error().code == errc::invalid_argument);
        CHECK(pid.error().message().find("'" + std::string{bad} + "' is not a process id") != std::string::npos);
    }
    auto hostile = procfs::parse_pid("1\x1b[2J");
    REQUIRE_FALSE(hostile);
    CHECK(hostile.error().message().find("'1\\x1b[2J'") != std::string::npos);
}

TEST_CASE("state_word names each state letter") {
    CHECK(procfs::state_word('R') == "running");
    CHECK(procfs::state_word('S') == "idle");
    CHECK(procfs::state_word('I') == "idle");
    CHECK(procfs::state_word('D') == "uninterruptible");
    CHECK(procfs::state_word('t') == "stopped");
    CHECK(procfs::state_word('Z') == "zombie");
    CHECK(procfs::state_word('?') == "unknown");
}

TEST_CASE("parse_syscall: running, blocked in a call, blocked outside a call") {
    auto running = procfs::parse_syscall(corpus_file("procfs_syscall/running"));
    REQUIRE(running);
    CHECK(running->kind == procfs::syscall_kind::running);
    CHECK(running->name().empty());

    // 202 0x55fc0e959268 0x189 0x0 0x0 0x0 0xffffffff 0x7f70e901ddb0 0x7f70e98a8f16
    auto futex = procfs::parse_syscall(corpus_file("procfs_syscall/futex"));
    REQUIRE(futex);
    CHECK(futex->kind == procfs::syscall_kind::in_syscall);
    CHECK(futex->number == 202);
    CHECK(futex->name() == "futex");
    CHECK(futex->arguments[1] == 0x189);  // FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG
    CHECK(futex->arguments[5] == 0xffffffff);
    CHECK(futex->stack_pointer != 0);
    CHECK(futex->instruction_pointer != 0);

    auto sleep = procfs::parse_syscall(corpus_file("procfs_syscall/clock_nanosleep"));
    REQUIRE(sleep);
    CHECK(sleep->name() == "clock_nanosleep");

    // A spinning thread stopped by SIGSTOP: in the kernel, not in a call.
    auto outside = procfs::parse_syscall(corpus_file("procfs_syscall/stopped_outside_syscall"));
    REQUIRE(outside);
    CHECK(outside->kind == procfs::syscall_kind::outside_syscall);
    CHECK(outside->number == -1);
    CHECK(outside->name().empty());
    CHECK(outside->instruction_pointer != 0);

    for (std::string_view bad : {"", "runnin", "-2 0x1 0x2", "1 0x1", "-1 0x1", "-1 0x1 0x2 0x3", "0 1 2 3 4 5 6 7 8",
                                 "x 0x1 0x2"}) {
        CAPTURE(bad);
        CHECK_FALSE(procfs::parse_syscall(bad));
    }
}

TEST_CASE("parse_smaps_rollup sums in KiB; an empty file (kernel thread) is all zeros") {
    auto m = procfs::parse_smaps_rollup(corpus_file("procfs_smaps_rollup/threaded_process"));
    REQUIRE(m);
    CHECK(m->rss_kb > 0);
    CHECK(m->pss_kb > 0);
    CHECK(m->pss_kb <= m->rss_kb);
    CHECK(m->shared_clean_kb + m->shared_dirty_kb + m->private_clean_kb + m->private_dirty_kb == m->rss_kb);
    auto empty = procfs::parse_smaps_rollup("");
    REQUIRE(empty);
    CHECK(empty->rss_kb == 0);
    CHECK_FALSE(procfs::parse_smaps_rollup("Rss: 12\n"));
    CHECK_FALSE(procfs::parse_smaps_rollup("Rss: x kB\n"));
}

TEST_CASE("parse_auxv reads type/value pairs up to AT_NULL") {
    std::string bytes = corpus_file("procfs_auxv/threaded_process");
    auto aux = procfs::parse_auxv(std::as_bytes(std::span{bytes}));
    REQUIRE(aux);
    CHECK(procfs::find_auxv(*aux, AT_PAGESZ) == 4096);
    CHECK(procfs::find_auxv(*aux, AT_ENTRY).value_or(0) != 0);
    CHECK(procfs::find_auxv(*aux, AT_PHENT) == sizeof(Elf64_Phdr));
    CHECK_FALSE(procfs::find_auxv(*aux, AT_NULL));
    auto odd = procfs::parse_auxv(std::as_bytes(std::span{bytes}).first(bytes.size() - 3));
    REQUIRE_FALSE(odd);
    CHECK(odd.error().code == errc::malformed);
}

TEST_CASE("parse_cmdline splits at NUL bytes; kernel threads have none") {
    auto init = procfs::parse_cmdline(corpus_file("procfs_cmdline/init_many_arguments"));
    REQUIRE(init.size() > 2);
    CHECK(init[0] == "/process_api");
    CHECK(init[1] == "--firecracker-init");
    CHECK(procfs::parse_cmdline(corpus_file("procfs_cmdline/kthreadd_empty")).empty());
    using namespace std::string_literals;
    auto args = procfs::parse_cmdline("python3\0-c\0\0x y\0"s);
    CHECK(args == std::vector<std::string>{"python3", "-c", "", "x y"});
    CHECK(procfs::join_cmdline(args) == "python3 -c  x y");
    CHECK(procfs::parse_cmdline("no terminator") == std::vector<std::string>{"no terminator"});
}

TEST_CASE("comm, wchan and exe-link text") {
    CHECK(procfs::parse_comm("a) b (c\n") == "a) b (c");
    CHECK(procfs::parse_comm("trailing space \n") == "trailing space ");
    CHECK(procfs::parse_wchan("0") == "");
    CHECK(procfs::parse_wchan("futex_wait_queue") == "futex_wait_queue");
    auto gone = procfs::parse_exe_link("/usr/bin/python3.11 (deleted)");
    CHECK(gone.path == "/usr/bin/python3.11");
    CHECK(gone.deleted);
    CHECK_FALSE(procfs::parse_exe_link("/usr/bin/python3.11").deleted);
}

TEST_CASE("classify: the decision table of thread_activity") {
    procfs::task_stat st;
    procfs::syscall_info running;
    procfs::syscall_info futex{procfs::syscall_kind::in_syscall, 202, {}, 1, 2};
    procfs::syscall_info outside{procfs::syscall_kind::outside_syscall, -1, {}, 1, 2};

    st.state = 'R';
    auto spin = procfs::classify(st, &running, "");
    CHECK(spin.kind == procfs::activity::user_space);
    CHECK(spin.in_user_space());
    CHECK(spin.syscall_name().empty());

    st.state = 'S';
    auto wait = procfs::classify(st, &futex, "futex_wait_queue");
    CHECK(wait.kind == procfs::activity::in_syscall);
    CHECK(wait.syscall_name() == "futex");
    CHECK(wait.wchan == "futex_wait_queue");
    CHECK(procfs::classify(st, &outside, "").kind == procfs::activity::outside_syscall);

    st.state = 'T';
    auto stopped = procfs::classify(st, &futex, "do_signal_stop");
    CHECK(stopped.kind == procfs::activity::stopped);
    CHECK(stopped.syscall_name() == "futex");  // stopped inside the call
    st.state = 't';
    CHECK(procfs::classify(st, &outside, "").kind == procfs::activity::traced);
    st.state = 'Z';
    CHECK(procfs::classify(st, nullptr, "").kind == procfs::activity::zombie);
    st.state = 'X';
    CHECK(procfs::classify(st, nullptr, "").kind == procfs::activity::dead);

    st.state = 'I';
    st.flags = procfs::pf_kthread;
    procfs::syscall_info kernel_zero{procfs::syscall_kind::in_syscall, 0, {}, 0, 0};  // what kthreads show
    auto kthread = procfs::classify(st, &kernel_zero, "kthreadd");
    CHECK(kthread.kind == procfs::activity::kernel_thread);
    CHECK_FALSE(kthread.syscall_number);
}
