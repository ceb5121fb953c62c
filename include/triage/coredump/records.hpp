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

#include "triage/base/config.hpp"
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
[[nodiscard]] TRIAGE_DECL timeval to_timeval(std::chrono::microseconds us) noexcept;
[[nodiscard]] TRIAGE_DECL std::chrono::microseconds from_timeval(const timeval& tv) noexcept;
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
[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_prstatus(const core_thread& t);

[[nodiscard]] TRIAGE_DECL result<core_thread> decode_prstatus(std::span<const std::byte> desc);

// NT_PRPSINFO, as fill_psinfo() fills it: pr_state is the index of the
// state letter in "RSDTZW" (6 and '.' for any other letter).
[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_prpsinfo(const core_process& p);

[[nodiscard]] TRIAGE_DECL result<core_process> decode_prpsinfo(std::span<const std::byte> desc);

// NT_SIGINFO: the siginfo_t of the signal that caused the dump. A dump taken
// from outside has none: si_signo 0.
[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_siginfo(int signal);

// NT_FILE: count, page size, count × {start, end, offset in pages}, then the
// NUL-terminated paths (fill_files_note()).
[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_file_note(std::span<const mapped_file> files,
                                                                  std::uint64_t page_size = 4096);

[[nodiscard]] TRIAGE_DECL result<std::vector<mapped_file>> decode_file_note(std::span<const std::byte> desc);

// NT_X86_XSAVE_LAYOUT ("LINUX"), which Linux 6.12+ appends after the thread
// notes: one {type, size, offset, flags} record per enabled extended XSAVE
// feature (XCR0 bits from 2 up), sizes and standard-format offsets from
// CPUID leaf 0xD. Empty where the CPU has no XSAVE.
[[nodiscard]] TRIAGE_DECL std::vector<std::byte> xsave_layout_note();

} // namespace triage::coredump

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/coredump/impl/records.ipp"
#endif
