// triage/coredump/dump_filter.hpp — which mappings a core holds, decided as
// the kernel decides (vma_dump_size() in fs/coredump.c), from what /proc
// shows of a process.
//
// Offers:
//  - `dump_filter`: the bits of /proc/PID/coredump_filter (core(5)):
//    anon_private 0, anon_shared 1, mapped_private 2, mapped_shared 3,
//    elf_headers 4, hugetlb_private 5, hugetlb_shared 6 (DAX bits 7/8 are
//    kept but DAX mappings cannot be told apart from /proc);
//    `read_dump_filter(dir)`.
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

[[nodiscard]] inline result<dump_filter> read_dump_filter(const procfs::proc_dir& dir) {
    char buffer[64];
    std::string_view text = TRIAGE_TRY(dir.read(procfs::whole_process, "coredump_filter", buffer));
    auto bits = parse_unsigned<std::uint32_t>(trim(text), 16);
    if (!bits) return fail(errc::malformed, "parsing " + dir.path(procfs::whole_process, "coredump_filter"));
    return dump_filter{*bits};
}

struct region {
    procfs::mapping map;
    bool dont_dump = false;  // VmFlags dd
    bool hugetlb = false;    // VmFlags ht
    bool io = false;         // VmFlags io
    bool vm_shared = false;  // VmFlags sh
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
[[nodiscard]] inline bool is_smaps_header(std::string_view line) noexcept {
    std::size_t dash = line.find('-');
    std::size_t space = line.find(' ');
    return dash != std::string_view::npos && dash > 0 && space != std::string_view::npos && dash < space &&
           parse_unsigned<std::uint64_t>(line.substr(0, dash), 16).has_value();
}

} // namespace detail

[[nodiscard]] inline result<std::vector<region>> parse_smaps(std::string_view text) {
    std::vector<region> out;
    std::size_t line_number = 0;
    while (!text.empty()) {
        std::string_view line = next_line(text);
        ++line_number;
        if (line.empty()) continue;
        if (detail::is_smaps_header(line)) {
            auto maps = procfs::parse_maps(line);
            if (!maps || maps->size() != 1)
                return fail(errc::malformed, "parsing smaps line " + std::to_string(line_number));
            out.push_back(region{std::move(maps->front())});
            continue;
        }
        if (out.empty()) return fail(errc::malformed, "parsing smaps line " + std::to_string(line_number) + ": no mapping yet");
        auto pair = split_key_value(line);
        if (!pair) return fail(errc::malformed, "parsing smaps line " + std::to_string(line_number));
        auto [key, value] = *pair;
        region& r = out.back();
        if (key == "VmFlags") {
            value = trim(value);
            while (!value.empty()) {
                std::string_view flag = next_token(value);
                if (flag == "dd") r.dont_dump = true;
                else if (flag == "ht") r.hugetlb = true;
                else if (flag == "io") r.io = true;
                else if (flag == "sh") r.vm_shared = true;
            }
        } else if (key == "Anonymous" || key == "Swap") {
            if (parse_kb(value).value_or(0) > 0) r.has_anonymous = true;
        } else if (key == "Rss") {
            r.rss_kb = parse_kb(value).value_or(0);
        }
    }
    return out;
}

[[nodiscard]] inline result<std::vector<region>> read_regions(const procfs::proc_dir& dir) {
    std::string text = TRIAGE_TRY(dir.read_all(procfs::whole_process, "smaps"));
    auto regions = parse_smaps(text);
    if (!regions) return fail(std::move(regions.error()).within("reading " + dir.path(procfs::whole_process, "smaps")));
    return regions;
}

enum class extent : std::uint8_t {
    nothing,
    whole,
    first_page,         // an executable file mapped from offset 0
    first_page_if_elf,  // a non-executable file mapped from offset 0: dump the page if it starts with \x7fELF
};

// `file_is_executable`: the mapped file has an execute bit (i_mode & 0111);
// asked only for readable file mappings from offset 0.
[[nodiscard]] inline extent decide(const region& r, dump_filter filter, bool file_is_executable) noexcept {
    using b = dump_filter::bit;
    if (r.special()) return extent::whole;
    if (r.dont_dump) return extent::nothing;
    if (r.hugetlb) return filter.has(r.vm_shared ? b::hugetlb_shared : b::hugetlb_private) ? extent::whole : extent::nothing;
    if (r.io) return extent::nothing;
    if (r.vm_shared) {
        bool no_links = r.map.deleted || !r.map.is_file();
        return filter.has(no_links ? b::anon_shared : b::mapped_shared) ? extent::whole : extent::nothing;
    }
    if (r.has_anonymous && filter.has(b::anon_private)) return extent::whole;
    if (!r.map.is_file()) return extent::nothing;
    if (filter.has(b::mapped_private)) return extent::whole;
    if (filter.has(b::elf_headers) && r.map.offset == 0 && r.map.readable)
        return file_is_executable ? extent::first_page : extent::first_page_if_elf;
    return extent::nothing;
}

} // namespace triage::coredump
