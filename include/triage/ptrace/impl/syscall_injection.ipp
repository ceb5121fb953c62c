// triage/ptrace/impl/syscall_injection.ipp — the definitions of
// triage/ptrace/syscall_injection.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <cpuid.h>
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/unique_fd.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/procfs/status.hpp"
#include "triage/ptrace/syscall_injection.hpp"

namespace triage::ptrace {

namespace detail {

// The executable mappings of `maps`, in the order find_injection_site
// searches them: the vDSO, libc, then the others.
[[nodiscard]] TRIAGE_DECL std::vector<procfs::mapping> injection_search_order(std::vector<procfs::mapping> maps) {
    auto rank = [](const procfs::mapping& m) {
        if (m.path == "[vdso]") return 0;
        const std::string_view name = std::string_view{m.path}.substr(m.path.rfind('/') + 1);
        if (name.starts_with("libc.so") || name.starts_with("libc-") || name.starts_with("ld-musl")) return 1;
        return 2;
    };
    std::erase_if(maps, [](const procfs::mapping& m) { return !m.executable || !m.readable || m.path == "[vsyscall]"; });
    std::stable_sort(maps.begin(), maps.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    return maps;
}

constexpr std::array<unsigned char, 3> syscall_ret_bytes{0x0f, 0x05, 0xc3};
constexpr std::array<unsigned char, 9> sigreturn_bytes{0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};  // mov $15, %rax; syscall
constexpr std::array<unsigned char, 7> sigreturn_short_bytes{0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};  // mov $15, %eax; syscall

[[nodiscard]] inline bool bytes_at(std::span<const unsigned char> text, std::size_t i, std::span<const unsigned char> want) noexcept {
    return i + want.size() <= text.size() && std::equal(want.begin(), want.end(), text.begin() + static_cast<std::ptrdiff_t>(i));
}

// Is the memory of `fd` at `at` one of `forms`?
template <typename... Forms>
[[nodiscard]] bool memory_holds(int fd, std::uint64_t at, const Forms&... forms) {
    std::array<unsigned char, 16> here{};
    const ssize_t got = ::pread(fd, here.data(), here.size(), static_cast<off_t>(at));
    if (got <= 0) return false;
    const std::span<const unsigned char> text{here.data(), static_cast<std::size_t>(got)};
    return (bytes_at(text, 0, forms) || ...);
}

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<injection_site> find_injection_site(pid_t pid) {
    const std::string context = "finding where to run a system call in pid " + std::to_string(pid);
    auto maps = procfs::read_maps(pid);
    if (!maps) return fail(std::move(maps.error()).within(context));
    const std::string mem_path = "/proc/" + std::to_string(pid) + "/mem";
    const int fd = ::open(mem_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, context + ": opening " + mem_path);
    unique_fd mem{fd};
    constexpr std::uint64_t chunk = 64 * 1024;
    constexpr std::uint64_t overlap = detail::sigreturn_bytes.size() - 1;  // a form that straddles two chunks
    constexpr std::uint64_t budget = 64 * 1024 * 1024;                     // bytes scanned at most
    std::vector<unsigned char> bytes(chunk + overlap);
    std::uint64_t scanned = 0;
    injection_site site;
    for (const procfs::mapping& m : detail::injection_search_order(std::move(*maps))) {
        for (std::uint64_t at = m.start; at < m.end && scanned < budget; at += chunk) {
            const std::uint64_t want = std::min<std::uint64_t>(chunk + overlap, m.end - at);
            const ssize_t got = ::pread(fd, bytes.data(), want, static_cast<off_t>(at));
            if (got <= 0) break;
            scanned += static_cast<std::uint64_t>(got);
            const std::span<const unsigned char> text{bytes.data(), static_cast<std::size_t>(got)};
            for (std::size_t i = 0; i < text.size(); ++i) {
                if (site.syscall_ret == 0 && detail::bytes_at(text, i, detail::syscall_ret_bytes)) site.syscall_ret = at + i;
                if (site.sigreturn == 0 && (detail::bytes_at(text, i, detail::sigreturn_bytes) ||
                                            detail::bytes_at(text, i, detail::sigreturn_short_bytes)))
                    site.sigreturn = at + i;
                if (site.syscall_ret != 0 && site.sigreturn != 0) return site;
            }
        }
    }
    return fail(errc::not_found, context,
                std::string{"no executable mapping holds the bytes of "} +
                    (site.syscall_ret == 0 ? "`syscall; ret`" : "a sigreturn trampoline (`mov $15, %rax; syscall`)"));
}

namespace detail {
// Kernel sigset_t: 64 signals.
using kernel_sigset = std::uint64_t;

// The kernel's x86-64 signal frame, as rt_sigreturn reads it at the stack
// pointer (arch/x86/include/uapi/asm/sigcontext.h and ucontext.h).
struct kernel_sigcontext {
    std::uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    std::uint16_t cs, gs, fs, ss;
    std::uint64_t err, trapno, oldmask, cr2, fpstate;
    std::array<std::uint64_t, 8> reserved;
};
static_assert(sizeof(kernel_sigcontext) == 256);
struct kernel_ucontext {
    std::uint64_t flags, link;
    std::uint64_t stack_sp;
    std::int32_t stack_flags;  // an invalid value: rt_sigreturn then leaves the alternate signal stack as it is
    std::uint32_t stack_pad;
    std::uint64_t stack_size;
    kernel_sigcontext mcontext;
    kernel_sigset sigmask;
};
static_assert(sizeof(kernel_ucontext) == 304);
constexpr std::uint64_t uc_fp_xstate = 1, uc_sigcontext_ss = 2, uc_strict_restore_ss = 4;
constexpr std::uint32_t fp_xstate_magic1 = 0x46505853, fp_xstate_magic2 = 0x46505845;
constexpr std::size_t fxsave_size = 512, sw_reserved_offset = 464, red_zone = 128;
constexpr std::int32_t keep_alternate_stack = 0x7fff;
constexpr long erestartsys = 512, erestartnointr = 513, erestartnohand = 514, erestart_restartblock = 516;

[[nodiscard]] constexpr bool restart_requested(long raw) noexcept {
    return raw == -erestartsys || raw == -erestartnointr || raw == -erestartnohand || raw == -erestart_restartblock;
}

[[nodiscard]] constexpr kernel_ucontext frame_of(const user_regs_struct& r, kernel_sigset mask, std::uint64_t fpstate,
                                                 std::uint64_t flags) noexcept {
    kernel_ucontext uc{};
    uc.flags = flags | uc_sigcontext_ss | uc_strict_restore_ss;
    uc.stack_flags = keep_alternate_stack;
    uc.mcontext = {r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx,
                   r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.eflags,
                   static_cast<std::uint16_t>(r.cs), static_cast<std::uint16_t>(r.gs), static_cast<std::uint16_t>(r.fs),
                   static_cast<std::uint16_t>(r.ss), 0, 0, 0, 0, fpstate, {}};
    uc.sigmask = mask;
    return uc;
}

// The registers a thread resumed by rt_sigreturn must get to carry on as
// the kernel would have resumed it from `r`: the restart of the system
// call it was interrupted in, applied (rt_sigreturn does none).
[[nodiscard]] constexpr user_regs_struct with_restart_applied(user_regs_struct r) noexcept {
    if (static_cast<long long>(r.orig_rax) < 0) return r;
    const long raw = static_cast<long>(r.rax);
    if (raw == -erestartsys || raw == -erestartnointr || raw == -erestartnohand) {
        r.rax = r.orig_rax;
        r.rip -= 2;  // the syscall instruction again
    } else if (raw == -erestart_restartblock) {
        r.rax = static_cast<unsigned long long>(-EINTR);  // what a handled signal gives (the time left is written)
    }
    return r;
}

// The thread's FPU state in the signal frame's format: the XSAVE image
// PTRACE_GETREGSET gives, described in its software-reserved bytes and
// followed by the second magic word, or the legacy 512-byte FXSAVE image
// on a CPU without XSAVE.
struct fpu_image {
    std::vector<unsigned char> bytes;
    bool xstate = false;
};

// Where the standard-format XSAVE image of `features` ends: past the
// legacy area and the header, and past every extended component among
// them (CPUID leaf 0xD, sub-leaf i: its size in EAX, its offset in EBX).
[[nodiscard]] TRIAGE_DECL std::uint32_t xsave_end(std::uint64_t features) noexcept {
    std::uint32_t end = fxsave_size + 64;
    for (unsigned i = 2; i < 64; ++i) {
        if ((features >> i & 1) == 0) continue;
        unsigned size = 0, offset = 0, ecx = 0, edx = 0;
        if (__get_cpuid_count(0xd, i, &size, &offset, &ecx, &edx) == 0) continue;
        end = std::max<std::uint32_t>(end, offset + size);
    }
    return end;
}

[[nodiscard]] TRIAGE_DECL result<fpu_image> read_fpu_image(pid_t tid, const std::string& context) {
    fpu_image out;
    out.bytes.resize(64 * 1024);
    iovec iov{out.bytes.data(), out.bytes.size()};
    if (::ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) == 0 && iov.iov_len >= fxsave_size) {
        // The software-reserved bytes of a signal frame say what the XSAVE
        // image holds (ptrace puts XCR0 there instead): the features
        // present (XSTATE_BV, the header's first word), any other being
        // restored to its initial state, which is where it is; and the
        // image's size, which rt_sigreturn refuses (restoring x87 and SSE
        // only, and the upper halves of the AVX registers as zeros) when
        // it exceeds the thread's own: ptrace's image is as large as every
        // feature the kernel offers (with AMX tile data: 11 KB), the
        // thread's lacks a dynamic feature it never asked for. So the
        // image ends where the last feature present ends.
        if (iov.iov_len >= fxsave_size + 64) {
            std::uint64_t present = 0;
            std::memcpy(&present, out.bytes.data() + fxsave_size, sizeof present);
            present |= 3;  // x87 and SSE, always restored
            const auto size = std::min<std::uint32_t>(static_cast<std::uint32_t>(iov.iov_len), xsave_end(present));
            const std::uint32_t extended = size + sizeof fp_xstate_magic2;
            std::memset(out.bytes.data() + sw_reserved_offset, 0, fxsave_size - sw_reserved_offset);
            std::memcpy(out.bytes.data() + sw_reserved_offset, &fp_xstate_magic1, sizeof fp_xstate_magic1);
            std::memcpy(out.bytes.data() + sw_reserved_offset + 4, &extended, sizeof extended);
            std::memcpy(out.bytes.data() + sw_reserved_offset + 8, &present, sizeof present);
            std::memcpy(out.bytes.data() + sw_reserved_offset + 16, &size, sizeof size);
            out.bytes.resize(extended);
            std::memcpy(out.bytes.data() + size, &fp_xstate_magic2, sizeof fp_xstate_magic2);
            out.xstate = true;
            return out;
        }
    } else {
        user_fpregs_struct fx{};
        if (::ptrace(PTRACE_GETFPREGS, tid, nullptr, &fx) != 0) return fail_errno(errno, context + ": reading its FPU state");
        static_assert(sizeof fx == fxsave_size);
        std::memcpy(out.bytes.data(), &fx, sizeof fx);
    }
    out.bytes.resize(fxsave_size);
    std::memset(out.bytes.data() + sw_reserved_offset, 0, fxsave_size - sw_reserved_offset);  // no magic: FXSAVE only
    return out;
}

// The two signal frames written under the thread's red zone: [low, high).
struct frames {
    std::uint64_t low = 0;
    std::uint64_t own_stack = 0;   // rsp for the call: under it, the trampoline's address, then the thread's own frame
    std::uint64_t copy_stack = 0;  // a clone's new stack: the trampoline's address, then a frame that calls exit_group(0)
    std::vector<unsigned char> image;
};

[[nodiscard]] TRIAGE_DECL frames lay_out_frames(const user_regs_struct& saved, kernel_sigset mask, const fpu_image& fpu,
                                                const injection_site& site) {
    auto down = [](std::uint64_t a, std::uint64_t to) { return a & ~(to - 1); };
    const std::uint64_t high = saved.rsp - red_zone;
    const std::uint64_t fp = down(high - fpu.bytes.size(), 64);  // XRSTOR needs 64-byte alignment
    const std::uint64_t own_uc = down(fp - sizeof(kernel_ucontext), 16);
    const std::uint64_t copy_uc = down(own_uc - 8 - sizeof(kernel_ucontext), 16);
    frames f;
    f.own_stack = own_uc - 8;
    f.copy_stack = copy_uc - 8;
    f.low = f.copy_stack;
    f.image.assign(high - f.low, 0);
    auto put = [&](std::uint64_t at, const void* what, std::size_t size) { std::memcpy(f.image.data() + (at - f.low), what, size); };
    const kernel_ucontext own =
        frame_of(with_restart_applied(saved), mask, fp, fpu.xstate ? uc_fp_xstate : 0);
    user_regs_struct exit_regs = saved;
    exit_regs.rip = site.syscall_ret;
    exit_regs.rax = SYS_exit_group;
    exit_regs.rdi = 0;
    exit_regs.rsp = f.copy_stack;
    const kernel_ucontext exit_frame = frame_of(exit_regs, ~kernel_sigset{0}, 0, 0);
    put(f.own_stack, &site.sigreturn, 8);
    put(own_uc, &own, sizeof own);
    put(fp, fpu.bytes.data(), fpu.bytes.size());
    put(f.copy_stack, &site.sigreturn, 8);
    put(copy_uc, &exit_frame, sizeof exit_frame);
    return f;
}

// Moves `tid` from a syscall-exit-stop (or a signal-delivery-stop) to an
// event-stop (PTRACE_INTERRUPT, then resumed with no signal: the interrupt
// is taken before the thread can leave the kernel), so that its resumption
// goes through the signal handling that restarts an interrupted system
// call. A signal held back during the call is queued to it again first.
[[nodiscard]] TRIAGE_DECL result<void> park(pid_t tid, int held_back, const std::string& context) {
    if (held_back != 0) (void)::syscall(SYS_tkill, tid, held_back);
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0 || ::ptrace(PTRACE_CONT, tid, nullptr, nullptr) != 0)
        return fail_errno(errno, context + ": parking the thread");
    for (int report = 0; report < 16; ++report) {
        int status = 0;
        pid_t r = 0;
        while ((r = ::waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {}
        if (r < 0) return fail_errno(errno, context + ": parking the thread");
        if (!WIFSTOPPED(status)) return fail(errc::no_such_process, context, "the thread died");
        if (((status >> 16) & 0xff) == PTRACE_EVENT_STOP) return {};
        // Anything else (a signal it dequeued first): let it through, stop after.
        if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0 ||
            ::ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(WSTOPSIG(status)))) != 0)
            return fail_errno(errno, context + ": parking the thread");
    }
    return fail(errc::inconsistent, context, "the thread did not come to an event-stop");
}

// Resumes `tid` with PTRACE_SYSCALL until the syscall-exit-stop of the
// call it was pointed at; returns its raw result.
[[nodiscard]] TRIAGE_DECL result<long> run_to_syscall_exit(pid_t tid, injected_syscall& out, int& held_back,
                                                           const std::string& context) {
    bool entered = false;
    for (int stop = 0; stop < 64; ++stop) {
        if (::ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr) != 0) return fail_errno(errno, context + ": resuming it");
        int status = 0;
        pid_t r = 0;
        while ((r = ::waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {}
        if (r < 0) return fail_errno(errno, context + ": waiting for the thread");
        if (!WIFSTOPPED(status)) return fail(errc::no_such_process, context, "the thread died during the call");
        const int event = (status >> 16) & 0xff;
        const int signal = WSTOPSIG(status);
        if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK) {
            unsigned long message = 0;
            if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &message) == 0 && message != 0)
                out.new_process = static_cast<pid_t>(message);
            continue;
        }
        if (event != 0) continue;  // another event stop: go on
        if ((signal & 0x7f) == SIGTRAP) {
            // A syscall-stop's si_code is SIGTRAP (| 0x80 with
            // PTRACE_O_TRACESYSGOOD): the first is the call's entry, the
            // second its exit (a trap or a sent SIGTRAP has another code).
            siginfo_t info{};
            if (::ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info) == 0 && (info.si_code & 0x7f) == SIGTRAP) {
                if (!std::exchange(entered, true)) continue;
                user_regs_struct after{};
                if (::ptrace(PTRACE_GETREGS, tid, nullptr, &after) != 0) return fail_errno(errno, context + ": reading the result");
                return static_cast<long>(after.rax);
            }
        }
        if (signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGTRAP)
            return fail(errc::unsupported, context, "the instruction at the chosen address faulted (signal " + std::to_string(signal) + ")");
        // Only SIGSTOP gets through the mask: held back, queued again when
        // the thread is parked (a second one adds nothing).
        held_back = signal;
    }
    return fail(errc::inconsistent, context, "the call did not return");
}

// Holds the process a clone() made, in its first stop: PTRACE_O_EXITKILL
// (our death kills it), then the stack bytes under [at, at + size) put back
// as they were before the frames were written, so that its memory is the
// target's at the stop. False if it died first.
[[nodiscard]] TRIAGE_DECL bool hold_new_process(pid_t child, std::uint64_t at, const std::vector<unsigned char>& bytes) {
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(child, &status, __WALL)) < 0 && errno == EINTR) {}
    if (r != child || !WIFSTOPPED(status)) return false;
    if (::ptrace(PTRACE_SETOPTIONS, child, nullptr, reinterpret_cast<void*>(static_cast<long>(PTRACE_O_EXITKILL))) != 0) {
        ::kill(child, SIGKILL);
        return false;
    }
    const std::string mem_path = "/proc/" + std::to_string(child) + "/mem";
    const int fd = ::open(mem_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return true;  // held; its stack keeps our frames (bytes the target no longer uses)
    unique_fd mem{fd};
    (void)!::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
    return true;
}

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<injected_syscall> inject_syscall(pid_t tid, const syscall_request& call, const injection_site& site,
                                                                  long options) {
#if !defined(__x86_64__)
    (void)tid, (void)call, (void)site, (void)options;
    return fail(errc::invalid_argument, "running a system call in a thread", "only x86-64 is supported");
#else
    const std::string context = "running system call " + std::to_string(call.number) + " in thread " + std::to_string(tid);
    if (call.number == SYS_fork || call.number == SYS_vfork || call.number == SYS_clone3)
        return fail(errc::invalid_argument, context, "its copy would run on the thread's own stack: use clone()");
    if (call.number == SYS_clone && (call.args[0] & (CLONE_VM | CLONE_VFORK)) != 0)
        return fail(errc::invalid_argument, context, "a clone() that shares the thread's memory or waits for its copy");
    const std::string mem_path = "/proc/" + std::to_string(tid) + "/mem";
    const int fd = ::open(mem_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, context + ": opening " + mem_path);
    unique_fd mem{fd};
    // What runs is whatever is there now: make sure (an exec since the
    // site was found would move it).
    if (!detail::memory_holds(fd, site.syscall_ret, detail::syscall_ret_bytes) ||
        !detail::memory_holds(fd, site.sigreturn, detail::sigreturn_bytes, detail::sigreturn_short_bytes))
        return fail(errc::invalid_argument, context, "the instructions are not at the given addresses");
    auto status = procfs::read_status(tid, tid);
    if (!status) return fail(std::move(status.error()).within(context));
    if (status->shadow_stack)
        return fail(errc::unsupported, context, "it has a shadow stack, which would refuse the frame that puts it back");

    user_regs_struct saved{};
    detail::kernel_sigset saved_mask = 0;
    if (::ptrace(PTRACE_GETREGS, tid, nullptr, &saved) != 0) return fail_errno(errno, context);
    if (saved.cs != 0x33)  // __USER_CS: a 32-bit (compat) thread would not run a 64-bit syscall instruction
        return fail(errc::unsupported, context, "it runs 32-bit code");
    if (::ptrace(PTRACE_GETSIGMASK, tid, sizeof saved_mask, &saved_mask) != 0) return fail_errno(errno, context);
    const detail::fpu_image fpu = TRIAGE_TRY(detail::read_fpu_image(tid, context));
    const detail::frames f = detail::lay_out_frames(saved, saved_mask, fpu, site);
    {
        auto maps = procfs::read_maps(status->tgid);
        if (!maps) return fail(std::move(maps.error()).within(context));
        const std::uint64_t high = f.low + f.image.size();
        const bool room = saved.rsp > f.image.size() + detail::red_zone &&
                          std::ranges::any_of(*maps, [&](const procfs::mapping& m) {
                              return m.writable && m.contains(f.low) && m.contains(saved.rsp - 1) && m.contains(high - 1);
                          });
        if (!room) return fail(errc::unsupported, context, "its stack has no room for the frame that puts it back if we die");
    }
    std::vector<unsigned char> stack_bytes(f.image.size());
    if (::pread(fd, stack_bytes.data(), stack_bytes.size(), static_cast<off_t>(f.low)) != static_cast<ssize_t>(stack_bytes.size()))
        return fail_errno(errno, context + ": reading its stack");
    bool stack_written = false;
    // Puts the thread back: registers, mask and options first (from then
    // on our death resumes it as it was), then the stack bytes.
    auto put_back = [&]() -> result<void> {
        if (::ptrace(PTRACE_SETREGS, tid, nullptr, &saved) != 0 ||
            ::ptrace(PTRACE_SETSIGMASK, tid, sizeof saved_mask, &saved_mask) != 0 ||
            ::ptrace(PTRACE_SETOPTIONS, tid, nullptr, reinterpret_cast<void*>(options)) != 0) {
            if (errno == ESRCH) return fail(errc::no_such_process, context, "the thread died during the call");
            return fail_errno(errno, context + ": putting its registers back");
        }
        if (stack_written &&
            ::pwrite(fd, stack_bytes.data(), stack_bytes.size(), static_cast<off_t>(f.low)) != static_cast<ssize_t>(stack_bytes.size()))
            return fail_errno(errno, context + ": putting its stack back");
        return {};
    };
    if (::pwrite(fd, f.image.data(), f.image.size(), static_cast<off_t>(f.low)) != static_cast<ssize_t>(f.image.size())) {
        const int e = errno;
        stack_written = true;  // perhaps in part
        TRIAGE_TRY(put_back());
        return fail_errno(e, context + ": writing the frame under its stack");
    }
    stack_written = true;
    const detail::kernel_sigset all = ~detail::kernel_sigset{0};
    user_regs_struct regs = saved;
    regs.orig_rax = static_cast<unsigned long long>(-1);
    regs.rdi = call.args[0];
    regs.rsi = call.number == SYS_clone ? f.copy_stack : call.args[1];
    regs.rdx = call.args[2];
    regs.r10 = call.args[3];
    regs.r8 = call.args[4];
    regs.r9 = call.args[5];
    regs.rip = site.syscall_ret;
    regs.rsp = f.own_stack;
    injected_syscall out;
    int held_back = 0;
    for (int attempt = 0;; ++attempt) {
        regs.rax = static_cast<unsigned long long>(call.number);
        if (::ptrace(PTRACE_SETSIGMASK, tid, sizeof all, &all) != 0 ||
            ::ptrace(PTRACE_SETOPTIONS, tid, nullptr, reinterpret_cast<void*>(options | PTRACE_O_TRACESYSGOOD)) != 0 ||
            ::ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0) {
            const int e = errno;
            TRIAGE_TRY(put_back());
            return fail_errno(e, context);
        }
        auto raw = detail::run_to_syscall_exit(tid, out, held_back, context);
        if (!raw) {
            if (raw.error().code != errc::no_such_process) TRIAGE_TRY(put_back());
            return fail(std::move(raw.error()));
        }
        out.result = *raw;
        // A SIGSTOP that came during the call makes the kernel ask for a
        // restart (as a fork does): run it again.
        if (!detail::restart_requested(out.result) || attempt == 2) break;
    }
    TRIAGE_TRY(put_back());
    if (out.new_process) out.new_process_held = detail::hold_new_process(*out.new_process, f.low, stack_bytes);
    TRIAGE_TRY(detail::park(tid, held_back, context));
    return out;
#endif
}

} // namespace triage::ptrace
