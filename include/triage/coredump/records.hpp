// triage/coredump/records.hpp — what a core file says about a process, as
// plain values, and the bytes of the notes that carry it (x86-64 Linux).
//
// Offers:
//  - `core_thread`: one thread: tid, general registers (NT_PRSTATUS pr_reg),
//    FP registers (NT_PRFPREG), XSAVE area (NT_X86_XSTATE), and the other
//    NT_PRSTATUS fields (signal, pending/blocked masks, ids, CPU times).
//  - `core_process`: NT_PRPSINFO's facts (pid, ppid, pgrp, sid, uid, gid,
//    state letter, nice, flags, fname = comm, psargs = the first 79 bytes of
//    the command line) and the raw auxiliary vector (NT_AUXV).
//  - `mapped_file`: one NT_FILE entry (start, end, file offset in bytes,
//    path as the kernel wrote it, " (deleted)" included).
//  - encoders `encode_prstatus`, `encode_prpsinfo`, `encode_siginfo`,
//    `encode_file_note`, `xsave_layout_note` (the kernel's
//    NT_X86_XSAVE_LAYOUT, from CPUID), and decoders `decode_prstatus`,
//    `decode_prpsinfo`, `decode_file_note` for untrusted descriptors (fuzzed
//    through the core reader).
// Errors (decoders): errc::truncated for a descriptor shorter than its
// structure, errc::malformed for an NT_FILE whose table or names run past
// the end, errc::limit_exceeded for an NT_FILE count past `max_mapped_files`.
// Thread-safe: values only. Signal-safe: no. Target process: none touched.
//
//   triage::coredump::core_thread t;  t.tid = 12;  t.general.rip = 0x401000;
//   auto bytes = triage::coredump::encode_prstatus(t);       // 336 bytes
//   auto back = TRIAGE_TRY(triage::coredump::decode_prstatus(bytes));
#pragma once

#include <elf.h>
#include <signal.h>
#include <sys/procfs.h>
#include <sys/types.h>
#include <sys/user.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/result.hpp"

namespace triage::coredump {

// Linux's NT_X86_XSAVE_LAYOUT ("LINUX"), newer than some <elf.h>.
inline constexpr std::uint32_t nt_x86_xsave_layout = 0x205;
// NT_FILE entries we accept from a core (the kernel caps the note at 4 MiB).
inline constexpr std::size_t max_mapped_files = 1u << 20;

static_assert(sizeof(elf_prstatus) == 336 && sizeof(elf_prpsinfo) == 136 && sizeof(user_fpregs_struct) == 512,
              "x86-64 Linux core note layouts");
static_assert(sizeof(elf_gregset_t) == sizeof(user_regs_struct));

struct core_thread {
    pid_t tid = 0;
    user_regs_struct general{};
    std::optional<user_fpregs_struct> fp;  // NT_PRFPREG; absent in cores that lack it
    std::vector<std::byte> xstate;          // NT_X86_XSTATE; empty when absent
    int signal = 0;                         // pr_cursig: the signal that caused the dump (0: none)
    std::uint64_t sig_pending = 0;
    std::uint64_t sig_blocked = 0;
    pid_t ppid = 0, pgrp = 0, sid = 0;
    std::chrono::microseconds user_time{0}, system_time{0};                    // the leader's are the process's
    std::chrono::microseconds children_user_time{0}, children_system_time{0};  // reaped children
};

struct core_process {
    pid_t pid = 0, ppid = 0, pgrp = 0, sid = 0;
    std::uint32_t uid = 0, gid = 0;
    char state = 'R';  // a /proc state letter
    int nice = 0;
    std::uint64_t flags = 0;  // PF_* of the leader
    std::string fname;        // comm, at most 15 bytes
    std::string psargs;       // command line, arguments separated by spaces, at most 79 bytes
    std::vector<std::byte> auxv;  // raw pairs of 64-bit words, ending with AT_NULL
};

struct mapped_file {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t offset = 0;  // file offset of `start`, in bytes
    std::string path;

    [[nodiscard]] bool contains(std::uint64_t address) const noexcept { return address >= start && address < end; }
};

namespace detail {
[[nodiscard]] inline timeval to_timeval(std::chrono::microseconds us) noexcept {
    auto count = us.count() < 0 ? 0 : us.count();
    return timeval{static_cast<time_t>(count / 1000000), static_cast<suseconds_t>(count % 1000000)};
}
[[nodiscard]] inline std::chrono::microseconds from_timeval(const timeval& tv) noexcept {
    return std::chrono::microseconds{static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec};
}
template <class T>
[[nodiscard]] std::vector<std::byte> object_bytes(const T& object) {
    auto bytes = std::as_bytes(std::span{&object, 1});
    return {bytes.begin(), bytes.end()};
}
template <class T>
[[nodiscard]] result<T> read_struct(std::span<const std::byte> desc, std::string_view what) {
    if (desc.size() < sizeof(T))
        return fail(errc::truncated, "decoding " + std::string{what} + ": " + std::to_string(desc.size()) +
                                         " bytes, need " + std::to_string(sizeof(T)));
    T value;
    std::memcpy(&value, desc.data(), sizeof value);
    return value;
}
} // namespace detail

// NT_PRSTATUS, as fill_prstatus() fills it; pr_fpvalid says whether an
// NT_PRFPREG follows.
[[nodiscard]] inline std::vector<std::byte> encode_prstatus(const core_thread& t) {
    elf_prstatus s{};
    s.pr_info.si_signo = t.signal;
    s.pr_cursig = static_cast<short>(t.signal);
    s.pr_sigpend = t.sig_pending;
    s.pr_sighold = t.sig_blocked;
    s.pr_pid = t.tid;
    s.pr_ppid = t.ppid;
    s.pr_pgrp = t.pgrp;
    s.pr_sid = t.sid;
    s.pr_utime = detail::to_timeval(t.user_time);
    s.pr_stime = detail::to_timeval(t.system_time);
    s.pr_cutime = detail::to_timeval(t.children_user_time);
    s.pr_cstime = detail::to_timeval(t.children_system_time);
    std::memcpy(&s.pr_reg, &t.general, sizeof s.pr_reg);
    s.pr_fpvalid = t.fp ? 1 : 0;
    return detail::object_bytes(s);
}

[[nodiscard]] inline result<core_thread> decode_prstatus(std::span<const std::byte> desc) {
    elf_prstatus s = TRIAGE_TRY(detail::read_struct<elf_prstatus>(desc, "NT_PRSTATUS"));
    core_thread t;
    t.tid = s.pr_pid;
    std::memcpy(&t.general, &s.pr_reg, sizeof t.general);
    t.signal = s.pr_cursig;
    t.sig_pending = s.pr_sigpend;
    t.sig_blocked = s.pr_sighold;
    t.ppid = s.pr_ppid;
    t.pgrp = s.pr_pgrp;
    t.sid = s.pr_sid;
    t.user_time = detail::from_timeval(s.pr_utime);
    t.system_time = detail::from_timeval(s.pr_stime);
    t.children_user_time = detail::from_timeval(s.pr_cutime);
    t.children_system_time = detail::from_timeval(s.pr_cstime);
    return t;
}

// NT_PRPSINFO, as fill_psinfo() fills it: pr_state is the index of the
// state letter in "RSDTZW" (6 and '.' for any other letter).
[[nodiscard]] inline std::vector<std::byte> encode_prpsinfo(const core_process& p) {
    elf_prpsinfo s{};
    constexpr std::string_view letters = "RSDTZW";
    std::size_t index = letters.find(p.state);
    s.pr_state = static_cast<char>(index == std::string_view::npos ? 6 : index);
    s.pr_sname = index == std::string_view::npos ? '.' : p.state;
    s.pr_zomb = s.pr_sname == 'Z';
    s.pr_nice = static_cast<char>(p.nice);
    s.pr_flag = p.flags;
    s.pr_uid = p.uid;
    s.pr_gid = p.gid;
    s.pr_pid = p.pid;
    s.pr_ppid = p.ppid;
    s.pr_pgrp = p.pgrp;
    s.pr_sid = p.sid;
    std::memcpy(s.pr_fname, p.fname.data(), std::min(p.fname.size(), sizeof s.pr_fname - 1));
    std::size_t args = std::min(p.psargs.size(), sizeof s.pr_psargs - 1);
    std::memcpy(s.pr_psargs, p.psargs.data(), args);
    for (std::size_t i = 0; i < args; ++i)
        if (s.pr_psargs[i] == '\0') s.pr_psargs[i] = ' ';
    return detail::object_bytes(s);
}

[[nodiscard]] inline result<core_process> decode_prpsinfo(std::span<const std::byte> desc) {
    elf_prpsinfo s = TRIAGE_TRY(detail::read_struct<elf_prpsinfo>(desc, "NT_PRPSINFO"));
    core_process p;
    p.pid = s.pr_pid;
    p.ppid = s.pr_ppid;
    p.pgrp = s.pr_pgrp;
    p.sid = s.pr_sid;
    p.uid = s.pr_uid;
    p.gid = s.pr_gid;
    p.state = s.pr_sname;
    p.nice = s.pr_nice;
    p.flags = s.pr_flag;
    p.fname.assign(s.pr_fname, ::strnlen(s.pr_fname, sizeof s.pr_fname));
    p.psargs.assign(s.pr_psargs, ::strnlen(s.pr_psargs, sizeof s.pr_psargs));
    return p;
}

// NT_SIGINFO: the siginfo_t of the signal that caused the dump. A dump taken
// from outside has none: si_signo 0.
[[nodiscard]] inline std::vector<std::byte> encode_siginfo(int signal) {
    siginfo_t info{};
    info.si_signo = signal;
    return detail::object_bytes(info);
}

// NT_FILE: count, page size, count × {start, end, offset in pages}, then the
// NUL-terminated paths (fill_files_note()).
[[nodiscard]] inline std::vector<std::byte> encode_file_note(std::span<const mapped_file> files,
                                                             std::uint64_t page_size = 4096) {
    std::vector<std::uint64_t> words;
    words.reserve(2 + 3 * files.size());
    words.push_back(files.size());
    words.push_back(page_size);
    for (const auto& f : files) {
        words.push_back(f.start);
        words.push_back(f.end);
        words.push_back(f.offset / page_size);
    }
    auto table = std::as_bytes(std::span{words});
    std::vector<std::byte> out{table.begin(), table.end()};
    for (const auto& f : files) {
        auto name = std::as_bytes(std::span{f.path.data(), f.path.size()});
        out.insert(out.end(), name.begin(), name.end());
        out.push_back(std::byte{0});
    }
    return out;
}

[[nodiscard]] inline result<std::vector<mapped_file>> decode_file_note(std::span<const std::byte> desc) {
    auto word = [&](std::size_t i) {
        std::uint64_t w;
        std::memcpy(&w, desc.data() + i * 8, 8);
        return w;
    };
    if (desc.size() < 16) return fail(errc::truncated, "decoding NT_FILE: " + std::to_string(desc.size()) + " bytes");
    std::uint64_t count = word(0);
    std::uint64_t page_size = word(1);
    if (count > max_mapped_files)
        return fail(errc::limit_exceeded, "decoding NT_FILE: " + std::to_string(count) + " files");
    if ((desc.size() - 16) / 24 < count)
        return fail(errc::malformed, "decoding NT_FILE: " + std::to_string(count) + " entries do not fit in " +
                                         std::to_string(desc.size()) + " bytes");
    std::vector<mapped_file> out;
    out.reserve(count);
    std::size_t names = 16 + count * 24;
    for (std::uint64_t i = 0; i < count; ++i) {
        mapped_file f;
        f.start = word(2 + i * 3);
        f.end = word(3 + i * 3);
        std::uint64_t pages = word(4 + i * 3);
        if (f.end < f.start || (page_size != 0 && pages > UINT64_MAX / page_size))
            return fail(errc::malformed, "decoding NT_FILE entry " + std::to_string(i));
        f.offset = pages * page_size;
        if (names >= desc.size())
            return fail(errc::malformed, "decoding NT_FILE: the path of entry " + std::to_string(i) + " is missing");
        const char* name = reinterpret_cast<const char*>(desc.data() + names);
        std::size_t length = ::strnlen(name, desc.size() - names);
        f.path.assign(name, length);
        names += length + 1;
        out.push_back(std::move(f));
    }
    return out;
}

// NT_X86_XSAVE_LAYOUT ("LINUX"), which Linux 6.12+ appends after the thread
// notes: one {type, size, offset, flags} record per enabled extended XSAVE
// feature (XCR0 bits from 2 up), sizes and standard-format offsets from
// CPUID leaf 0xD. Empty where the CPU has no XSAVE.
[[nodiscard]] inline std::vector<std::byte> xsave_layout_note() {
    std::vector<std::byte> out;
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
    constexpr unsigned osxsave = 1u << 27;
    if ((ecx & osxsave) == 0) return out;
    unsigned xcr0_low = 0, xcr0_high = 0;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    std::uint64_t xcr0 = (std::uint64_t{xcr0_high} << 32) | xcr0_low;
    for (unsigned feature = 2; feature < 64; ++feature) {
        if ((xcr0 & (std::uint64_t{1} << feature)) == 0) continue;
        __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0xD), "c"(feature));
        std::array<std::uint32_t, 4> record{feature, eax, ebx, 0};
        auto bytes = std::as_bytes(std::span{record});
        out.insert(out.end(), bytes.begin(), bytes.end());
    }
#endif
    return out;
}

} // namespace triage::coredump
