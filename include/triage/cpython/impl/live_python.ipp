// triage/cpython/impl/live_python.ipp — the definitions of
// triage/cpython/live_python.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <utility>

#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/procfs/stat.hpp"
#include "triage/procfs/cmdline.hpp"
#include "triage/procfs/exe.hpp"

namespace triage::cpython::detail::open_live {

// A zombie, or a process whose main thread has exited, has no memory or
// mappings to read through /proc/PID: say which.
[[nodiscard]] TRIAGE_DECL result<void> check_readable(const procfs::proc_dir& dir) {
    auto st = TRIAGE_TRY(procfs::read_stat(dir));
    if (st.state != 'Z' && st.state != 'X') return {};
    const std::string who = "reading the Python stacks of process " + std::to_string(dir.pid()) + " (" +
                            std::string(st.comm.view()) + ")";
    auto tids = dir.task_ids();
    if (tids && tids->size() > 1) {
        return fail(errc::unsupported,
                    who + ": its main thread has exited while " + std::to_string(tids->size() - 1) +
                        " other threads still run",
                    "a process whose main thread is gone shows no memory maps in /proc/" + std::to_string(dir.pid()) +
                        "; its stacks cannot be read from outside");
    }
    return fail(errc::no_such_process, who + ": it is a zombie (it has exited; its parent, pid " +
                                           std::to_string(st.ppid) + ", has not reaped it)",
                "there is nothing left to read");
}

} // namespace triage::cpython::detail::open_live

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<live_python> open_live_python(procfs::proc_dir dir) {
    TRIAGE_TRY(detail::open_live::check_readable(dir));
    const pid_t pid = dir.pid();
    std::string command_line = procfs::join_cmdline(TRIAGE_TRY(procfs::read_cmdline(dir)));
    std::string executable;
    if (auto exe = procfs::read_exe(dir)) executable = exe->path + (exe->deleted ? " (deleted)" : "");
    auto objects = TRIAGE_TRY(elf::mapped_objects(pid));
    auto image = find_interpreter(objects);
    if (!image) {
        return fail(errc::not_found,
                    "reading Python stacks of process " + std::to_string(pid) + " (" + command_line +
                        "): it is not a Python process",
                    image.error().message());
    }
    auto memory = TRIAGE_TRY(memory::live_process::open(pid));
    auto target = TRIAGE_TRY(open_python(memory, std::move(*image)));
    return live_python{std::move(dir), std::move(memory), std::move(target), std::move(command_line),
                       std::move(executable)};
}

[[nodiscard]] TRIAGE_DECL result<live_python> open_live_python(pid_t pid) {
    return open_live_python(TRIAGE_TRY(procfs::proc_dir::open(pid)));
}

} // namespace triage::cpython
