// triage/coredump/impl/records.ipp — the definitions of
// triage/coredump/records.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/coredump/records.hpp"

namespace triage::coredump::detail {

[[nodiscard]] TRIAGE_DECL timeval to_timeval(std::chrono::microseconds us) noexcept {
    auto count = us.count() < 0 ? 0 : us.count();
    return timeval{static_cast<time_t>(count / 1000000), static_cast<suseconds_t>(count % 1000000)};
}

[[nodiscard]] TRIAGE_DECL std::chrono::microseconds from_timeval(const timeval& tv) noexcept {
    return std::chrono::microseconds{static_cast<std::int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec};
}

} // namespace triage::coredump::detail

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_prstatus(const core_thread& t) {
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

[[nodiscard]] TRIAGE_DECL result<core_thread> decode_prstatus(std::span<const std::byte> desc) {
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

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_prpsinfo(const core_process& p) {
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

[[nodiscard]] TRIAGE_DECL result<core_process> decode_prpsinfo(std::span<const std::byte> desc) {
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

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_siginfo(int signal) {
    siginfo_t info{};
    info.si_signo = signal;
    return detail::object_bytes(info);
}

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> encode_file_note(std::span<const mapped_file> files,
                                                                  std::uint64_t page_size) {
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

[[nodiscard]] TRIAGE_DECL result<std::vector<mapped_file>> decode_file_note(std::span<const std::byte> desc) {
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

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> xsave_layout_note() {
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
