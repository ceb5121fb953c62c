// The x86-64 syscall table against the kernel's own header, read at run
// time (an oracle we did not write).
#include <doctest/doctest.h>

#include <sys/syscall.h>

#include <fstream>
#include <sstream>
#include <string>

#include "triage/procfs/syscall_names.hpp"

using namespace triage;

TEST_CASE("syscall_name agrees with every __NR_ line of asm/unistd_64.h") {
    std::ifstream header("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
    REQUIRE(header);
    int checked = 0;
    for (std::string line; std::getline(header, line);) {
        // "#define __NR_futex 202"
        std::istringstream fields{line};
        std::string define, macro;
        long nr = -1;
        if (!(fields >> define >> macro >> nr) || define != "#define" || !macro.starts_with("__NR_")) continue;
        std::string name = macro.substr(5);
        CAPTURE(line);
        CHECK(procfs::syscall_name(nr) == name);
        CHECK(procfs::syscall_number(name) == nr);
        ++checked;
    }
    CHECK(checked > 350);
    MESSAGE("checked " << checked << " system calls");
}

TEST_CASE("syscall_name of numbers outside the table is empty") {
    CHECK(procfs::syscall_name(SYS_futex) == "futex");
    CHECK(procfs::syscall_name(-1).empty());
    CHECK(procfs::syscall_name(335).empty());  // 335..423 are unused on x86-64
    CHECK(procfs::syscall_name(procfs::max_syscall_number + 1).empty());
    CHECK_FALSE(procfs::syscall_number("no_such_call"));
    CHECK_FALSE(procfs::syscall_number(""));
}
