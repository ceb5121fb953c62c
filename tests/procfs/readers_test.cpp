// Readers of live /proc files, checked against independent sources:
// getpid()/getauxval(), ps, /proc/PID/smaps, and a victim whose threads
// sit in known places.
#include <doctest/doctest.h>

#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "procfs/busy_victim.hpp"
#include "support/run_command.hpp"
#include "triage/procfs/auxv.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/comm.hpp"
#include "triage/procfs/exe.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/smaps_rollup.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/status.hpp"
#include "triage/procfs/syscall.hpp"
#include "triage/procfs/thread_activity.hpp"
#include "triage/procfs/wchan.hpp"

using namespace triage;

namespace {
// A thread's syscall line can lag its wake-up or its fall asleep: wait (a
// bounded number of times) until the thread is parked in the kernel.
procfs::syscall_info parked_syscall(const procfs::proc_dir& dir, pid_t tid) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        auto sc = procfs::read_syscall(dir, tid);
        REQUIRE(sc);
        if (sc->kind == procfs::syscall_kind::in_syscall) return *sc;
        ::usleep(10'000);
    }
    FAIL("thread " << tid << " never blocked in a system call");
    return {};
}
} // namespace

TEST_CASE("our own stat, status, cmdline, exe and auxv agree with the C library") {
    auto dir = procfs::proc_dir::open(::getpid());
    REQUIRE(dir);
    auto st = procfs::read_stat(*dir);
    REQUIRE(st);
    CHECK(st->tid == ::getpid());
    CHECK(st->ppid == ::getppid());
    CHECK(st->state == 'R');
    auto status = procfs::read_status(*dir);
    REQUIRE(status);
    CHECK(status->pid == ::getpid());
    CHECK(status->tgid == ::getpid());
    CHECK(status->uid[0] == ::getuid());
    CHECK(status->name == st->comm.view());

    auto args = procfs::read_cmdline(*dir);
    REQUIRE(args);
    REQUIRE_FALSE(args->empty());
    auto exe = procfs::read_exe(*dir);
    REQUIRE(exe);
    CHECK_FALSE(exe->deleted);
    CHECK(exe->path.ends_with("/test_procfs"));
    CHECK(std::string{(*args)[0]}.ends_with("test_procfs"));

    auto aux = procfs::read_auxv(*dir);
    REQUIRE(aux);
    for (unsigned long type : {AT_ENTRY, AT_PHDR, AT_PAGESZ, AT_SYSINFO_EHDR, AT_RANDOM}) {
        CAPTURE(type);
        CHECK(procfs::find_auxv(*aux, type) == ::getauxval(type));
    }
}

TEST_CASE("a victim's threads: names with ')' and spaces, syscalls and wait channels as ps sees them") {
    triage_test::busy_victim victim;
    auto dir = procfs::proc_dir::open(victim.pid());
    REQUIRE(dir);

    pid_t odd = victim.tid("a) b (c");
    auto st = procfs::read_stat(*dir, odd);
    REQUIRE(st);
    CHECK(st->tid == odd);
    CHECK(st->comm == "a) b (c");
    CHECK(st->state == 'S');
    CHECK(st->num_threads == 10);
    auto comm = procfs::read_comm(*dir, odd);
    REQUIRE(comm);
    CHECK(*comm == "a) b (c");
    auto status = procfs::read_status(victim.pid(), odd);
    REQUIRE(status);
    CHECK(status->name == "a) b (c");
    CHECK(status->tgid == victim.pid());
    CHECK(status->threads == 10);

    // The process-wide stat and the main thread's differ in CPU (the whole
    // group's ticks) but not in identity.
    auto whole = procfs::read_stat(*dir);
    REQUIRE(whole);
    CHECK(whole->comm == "procfs_busy");
    CHECK(whole->tid == victim.pid());

    struct expectation {
        const char* thread;
        const char* syscall;
    };
    for (auto [thread, expected] : {expectation{"waiter-0", "futex"}, expectation{"locked-1", "futex"},
                                    expectation{"sleeper-0", "clock_nanosleep"}, expectation{"main", "pause"}}) {
        CAPTURE(thread);
        pid_t tid = victim.tid(thread);
        CHECK(parked_syscall(*dir, tid).name() == expected);
        auto tst = procfs::read_stat(*dir, tid);
        REQUIRE(tst);
        auto what = procfs::read_activity(*dir, *tst);
        REQUIRE(what);
        CHECK(what->kind == procfs::activity::in_syscall);
        CHECK(what->syscall_name() == expected);
        // ps prints the same wait channel, minus prefixes such as "__do_sys_".
        std::string ps_wchan = test_support::shell_output("ps -L -o tid=,wchan:64= -p " + std::to_string(victim.pid()) +
                                     " | awk '$1 == " + std::to_string(tid) + " {print $2}'");
        CHECK_FALSE(procfs::parse_wchan(ps_wchan).empty());
        CHECK(what->wchan.view().ends_with(procfs::parse_wchan(ps_wchan)));
        CHECK_FALSE(what->wchan.empty());
    }

    // The spinner never makes a system call.
    pid_t spinner = victim.tid("spinner");
    int in_user_space = 0;
    for (int i = 0; i < 20; ++i) {
        auto sst = procfs::read_stat(*dir, spinner);
        REQUIRE(sst);
        auto what = procfs::read_activity(*dir, *sst);
        REQUIRE(what);
        CHECK(what->kind != procfs::activity::in_syscall);
        in_user_space += what->in_user_space();
    }
    CHECK(in_user_space > 10);  // preempted now and then: "-1" outside a call is possible

    auto rollup = procfs::read_smaps_rollup(*dir);
    REQUIRE(rollup);
    // Oracle: the per-mapping Rss lines of /proc/PID/smaps add up to the rollup.
    std::ifstream smaps("/proc/" + std::to_string(victim.pid()) + "/smaps");
    std::uint64_t rss_sum = 0;
    for (std::string line; std::getline(smaps, line);)
        if (line.rfind("Rss:", 0) == 0) rss_sum += std::stoull(line.substr(4));
    CHECK(rollup->rss_kb == rss_sum);

    CHECK(victim.process.running());
}

TEST_CASE("kernel threads: kthreadd reads as a kernel thread with no executable") {
    auto dir = procfs::proc_dir::open(2);
    REQUIRE(dir);
    auto st = procfs::read_stat(*dir);
    REQUIRE(st);
    CHECK(st->comm == "kthreadd");
    CHECK(st->kernel_thread());
    CHECK(st->ppid == 0);
    auto what = procfs::read_activity(*dir, *st);
    REQUIRE(what);
    CHECK(what->kind == procfs::activity::kernel_thread);
    CHECK_FALSE(what->syscall_number);
    auto args = procfs::read_cmdline(*dir);
    REQUIRE(args);
    CHECK(args->empty());
    auto exe = procfs::read_exe(*dir);
    REQUIRE_FALSE(exe);
    CHECK(exe.error().code == errc::not_found);
    auto rollup = procfs::read_smaps_rollup(*dir);
    REQUIRE_FALSE(rollup);
    CHECK(rollup.error().code == errc::not_found);  // no user memory, yet not gone
}

TEST_CASE("a process or thread that is gone is no_such_process, also through a held proc_dir") {
    auto missing = procfs::read_stat(999999999);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == errc::no_such_process);
    CHECK(missing.error().message().find("/proc/999999999") != std::string::npos);
    CHECK(procfs::proc_dir::open(0).error().code == errc::invalid_argument);

    std::optional<procfs::proc_dir> dir;
    pid_t tid = 0;
    {
        triage_test::busy_victim victim;
        auto opened = procfs::proc_dir::open(victim.pid());
        REQUIRE(opened);
        dir = std::move(*opened);
        tid = victim.tid("waiter-1");
        REQUIRE(procfs::read_stat(*dir, tid));
    }  // killed and reaped here: the pid may even be reused, the held directory is not
    for (pid_t which : {procfs::whole_process, tid}) {
        CAPTURE(which);
        auto st = procfs::read_stat(*dir, which);
        REQUIRE_FALSE(st);
        CHECK(st.error().code == errc::no_such_process);
        auto sc = procfs::read_syscall(*dir, which);
        REQUIRE_FALSE(sc);
        CHECK(sc.error().code == errc::no_such_process);
    }
    CHECK_FALSE(dir->alive());
}

TEST_CASE("without ptrace access, syscall is permission_denied with a hint; stat stays readable") {
    triage_test::busy_victim victim;
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // An unprivileged user, like an on-call engineer without sudo.
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
        auto stat = procfs::read_stat(victim.pid(), victim.tid("waiter-0"));
        if (!stat) ::_exit(11);
        auto sc = procfs::read_syscall(victim.pid(), victim.tid("waiter-0"));
        if (sc) ::_exit(12);
        if (sc.error().code != errc::permission_denied) ::_exit(13);
        std::string message = sc.error().message();
        if (message.find("permission denied opening /proc/") != 0) ::_exit(14);
        if (message.find("CAP_SYS_PTRACE") == std::string::npos) ::_exit(15);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(victim.process.running());
}
