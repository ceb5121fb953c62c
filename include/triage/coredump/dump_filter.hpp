// triage/coredump/dump_filter.hpp — which mappings a core holds, decided as
// the kernel decides (vma_dump_size() in fs/coredump.c), from what /proc
// shows of a process.
//
// Offers:
//  - `dump_filter`: the bits of /proc/PID/coredump_filter (core(5)):
//    anon_private 0, anon_shared 1, mapped_private 2, mapped_shared 3,
//    elf_headers 4, hugetlb_private 5, hugetlb_shared 6 (DAX bits 7/8 are
//    kept but DAX mappings cannot be told apart from /proc);
//    `parse_dump_filter(text)` (hexadecimal, "0x" optional, as the file
//    and `--filter` give it) and `read_dump_filter(dir)`.
//  - `region`: one mapping of /proc/PID/smaps: the maps line plus the
//    VmFlags the decision needs (dd = MADV_DONTDUMP, ht = hugetlb, io =
//    VM_IO, sh = VM_SHARED — not the maps 's', which is VM_MAYSHARE) and
//    whether it holds anonymous or swapped pages (the kernel asks whether
//    the mapping has an anon_vma; "Anonymous:" or "Swap:" above 0 is what
//    /proc shows of it, as gdb's gcore also judges); `parse_smaps(text)`
//    (pure) and `read_regions(dir)`.
//  - `extent` and `decide(region, filter)`: nothing, the whole mapping, the
//    first page (start of a mapped executable file: the ELF header and,
//    usually, the build-id note), or `first_page_if_elf` (a non-executable
//    file mapped from offset 0: the kernel dumps its first page when it
//    starts with the ELF magic; the caller checks the magic).
//    Order of the rules, as in the kernel: special mappings ([vdso],
//    [vvar], [vsyscall], ...) whole; MADV_DONTDUMP nothing; hugetlb by bits
//    5/6; VM_IO nothing; shared by bit 1 (file deleted or anonymous: link
//    count 0) or 3; written private memory by bit 0; other file mappings by
//    bit 2, else the ELF-header rule (bit 4).
// Errors: errc::malformed for smaps text that does not parse; readers add
// no_such_process and permission_denied.
// Thread-safe: yes. Signal-safe: no. Target process: reads /proc files only
// (reading smaps walks the target's page tables in the kernel).
//
//   auto dir = TRIAGE_TRY(triage::procfs::proc_dir::open(pid));
//   auto filter = TRIAGE_TRY(triage::coredump::read_dump_filter(dir));
//   for (const auto& r : TRIAGE_TRY(triage::coredump::read_regions(dir)))
//       if (triage::coredump::decide(r, filter) == triage::coredump::extent::whole) ...
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/procfs/maps.hpp"
#include "triage/procfs/proc_dir.hpp"

namespace triage::coredump {

struct dump_filter {
    enum bit : unsigned {
        anon_private = 0,
        anon_shared = 1,
        mapped_private = 2,
        mapped_shared = 3,
        elf_headers = 4,
        hugetlb_private = 5,
        hugetlb_shared = 6,
        dax_private = 7,
        dax_shared = 8,
    };
    std::uint32_t bits = 0x33;  // the kernel's default

    [[nodiscard]] constexpr bool has(bit b) const noexcept { return (bits >> b) & 1u; }
};

[[nodiscard]] TRIAGE_DECL result<dump_filter> parse_dump_filter(std::string_view text);
[[nodiscard]] TRIAGE_DECL result<dump_filter> read_dump_filter(const procfs::proc_dir& dir);

struct region {
    procfs::mapping map;
    bool dont_dump = false;  // VmFlags dd
    bool hugetlb = false;    // VmFlags ht
    bool io = false;         // VmFlags io
    bool vm_shared = false;  // VmFlags sh
    bool dont_fork = false;     // VmFlags dc (MADV_DONTFORK): not in a fork
    bool wipe_on_fork = false;  // VmFlags wf (MADV_WIPEONFORK): zeros in a fork
    bool has_anonymous = false;  // Anonymous: or Swap: above 0 (the kernel's anon_vma)
    std::uint64_t rss_kb = 0;

    // Special mappings the kernel always dumps whole (always_dump_vma():
    // the gate vma and mappings with a vm_ops name).
    [[nodiscard]] bool special() const noexcept {
        const std::string& p = map.path;
        if (p.size() < 2 || p.front() != '[' || p.back() != ']') return false;
        return p != "[heap]" && !p.starts_with("[stack") && !p.starts_with("[anon:") &&
               !p.starts_with("[anon_shmem:");
    }
};

namespace detail {
// "7f00-7f10 r-xp ..." — a maps header line inside smaps starts with a hex
// range; attribute lines start with a capitalised key and a colon.
[[nodiscard]] TRIAGE_DECL bool is_smaps_header(std::string_view line) noexcept;

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<std::vector<region>> parse_smaps(std::string_view text);

[[nodiscard]] TRIAGE_DECL result<std::vector<region>> read_regions(const procfs::proc_dir& dir);

enum class extent : std::uint8_t {
    nothing,
    whole,
    first_page,         // an executable file mapped from offset 0
    first_page_if_elf,  // a non-executable file mapped from offset 0: dump the page if it starts with \x7fELF
};

// `file_is_executable`: the mapped file has an execute bit (i_mode & 0111);
// asked only for readable file mappings from offset 0.
[[nodiscard]] TRIAGE_DECL extent decide(const region& r, dump_filter filter, bool file_is_executable) noexcept;

} // namespace triage::coredump

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/coredump/impl/dump_filter.ipp"
#endif
