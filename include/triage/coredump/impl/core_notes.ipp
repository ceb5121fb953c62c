// triage/coredump/impl/core_notes.ipp — the definitions of
// triage/coredump/core_notes.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <csignal>

#include "triage/coredump/core_notes.hpp"

namespace triage::coredump::detail {

[[nodiscard]] TRIAGE_DECL std::span<const std::byte> whole_notes(std::span<const std::byte> bytes) noexcept {
    std::size_t at = 0;
    Elf64_Nhdr h;
    while (bytes.size() - at >= sizeof h) {
        std::memcpy(&h, bytes.data() + at, sizeof h);
        const std::uint64_t name_end = sizeof h + note_align(h.n_namesz);
        const std::uint64_t left = bytes.size() - at;
        if (name_end > left || h.n_descsz > left - name_end) break;
        at += static_cast<std::size_t>(std::min<std::uint64_t>(name_end + note_align(h.n_descsz), left));
    }
    return bytes.first(at);
}

} // namespace triage::coredump::detail

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL result<core_header> parse_core_header(std::span<const std::byte> bytes) {
    auto bad = [](std::string what) { return fail(errc::malformed, "reading a core file: " + std::move(what)); };
    Elf64_Ehdr eh;
    if (bytes.size() < sizeof eh)
        return fail(errc::truncated, "reading a core file: " + std::to_string(bytes.size()) + " bytes is shorter than an ELF header");
    std::memcpy(&eh, bytes.data(), sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return bad("no ELF magic");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return fail(errc::unsupported, "reading a core file", "only 64-bit little-endian cores are supported");
    if (eh.e_type != ET_CORE) return bad("ELF type " + std::to_string(eh.e_type) + " is not ET_CORE");
    if (eh.e_machine != EM_X86_64)
        return fail(errc::unsupported, "reading a core file of machine " + std::to_string(eh.e_machine), "only x86-64 cores are supported");
    if (eh.e_phentsize != sizeof(Elf64_Phdr)) return bad("program header size " + std::to_string(eh.e_phentsize));
    std::uint64_t count = eh.e_phnum;
    if (count == PN_XNUM) {
        Elf64_Shdr sh;
        if (eh.e_shoff > bytes.size() || bytes.size() - eh.e_shoff < sizeof sh)
            return fail(errc::truncated, "reading a core file: the extended program header count lies past the end");
        std::memcpy(&sh, bytes.data() + eh.e_shoff, sizeof sh);
        count = sh.sh_info;
    }
    if (count > max_segments)
        return fail(errc::limit_exceeded, "reading a core file: " + std::to_string(count) + " program headers");
    if (eh.e_phoff > bytes.size() || (bytes.size() - eh.e_phoff) / sizeof(Elf64_Phdr) < count)
        return fail(errc::truncated, "reading a core file: the program header table lies past the end");
    core_header out;
    for (std::uint64_t i = 0; i < count; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, bytes.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_NOTE) {
            if (ph.p_offset > bytes.size() || bytes.size() - ph.p_offset < ph.p_filesz) {
                out.truncated_notes = true;
                if (ph.p_offset < bytes.size()) out.notes.push_back(detail::whole_notes(bytes.subspan(ph.p_offset)));
            } else {
                out.notes.push_back(bytes.subspan(ph.p_offset, ph.p_filesz));
            }
        } else if (ph.p_type == PT_LOAD) {
            if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr || ph.p_filesz > ph.p_memsz)
                return bad("PT_LOAD " + std::to_string(i) + " has impossible sizes");
            load_segment s;
            s.start = ph.p_vaddr;
            s.end = ph.p_vaddr + ph.p_memsz;
            s.file_offset = ph.p_offset;
            s.file_size = ph.p_filesz;
            s.flags = ph.p_flags;
            s.held = ph.p_offset >= bytes.size() ? 0 : std::min<std::uint64_t>(ph.p_filesz, bytes.size() - ph.p_offset);
            if (s.held < s.file_size) ++out.truncated_segments;
            if (s.end > s.start) out.loads.push_back(s);
        }
    }
    std::sort(out.loads.begin(), out.loads.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    for (std::size_t i = 1; i < out.loads.size(); ++i)
        if (out.loads[i].start < out.loads[i - 1].end) return bad("PT_LOAD segments overlap at " + hex(out.loads[i].start));
    return out;
}

[[nodiscard]] TRIAGE_DECL result<core_notes> parse_core_notes(std::span<const std::span<const std::byte>> segments) {
    core_notes out;
    std::size_t seen = 0;
    for (auto segment : segments) {
        auto notes = TRIAGE_TRY(elf::parse_notes(segment, 4));
        seen += notes.size();
        if (seen > max_notes)
            return fail(errc::limit_exceeded, "reading core notes: more than " + std::to_string(max_notes) + " notes");
        for (const elf::note& n : notes) {
            if (n.name == "CORE" && n.type == NT_PRSTATUS) {
                if (out.threads.size() == max_threads)
                    return fail(errc::limit_exceeded, "reading core notes: more than " + std::to_string(max_threads) + " threads");
                out.threads.push_back(TRIAGE_TRY(decode_prstatus(n.desc)));
            } else if (n.name == "CORE" && n.type == NT_PRFPREG && !out.threads.empty()) {
                if (n.desc.size() >= sizeof(user_fpregs_struct)) {
                    user_fpregs_struct fp;
                    std::memcpy(&fp, n.desc.data(), sizeof fp);
                    out.threads.back().fp = fp;
                }
            } else if (n.name == "LINUX" && n.type == NT_X86_XSTATE && !out.threads.empty()) {
                out.threads.back().xstate.assign(n.desc.begin(), n.desc.end());
            } else if (n.name == "CORE" && n.type == NT_PRPSINFO) {
                out.process = TRIAGE_TRY(decode_prpsinfo(n.desc));
            } else if (n.name == "CORE" && n.type == NT_AUXV) {
                out.auxv.assign(n.desc.begin(), n.desc.end());
            } else if (n.name == "CORE" && n.type == NT_FILE) {
                out.files = TRIAGE_TRY(decode_file_note(n.desc));
            } else if (n.name == "CORE" && n.type == NT_SIGINFO && n.desc.size() >= sizeof(int)) {
                int signo;
                std::memcpy(&signo, n.desc.data(), sizeof signo);
                out.signal = signo;
                // x86-64 siginfo_t: signo, errno, code (ints), then the union at 16.
                core_siginfo info;
                info.signal = signo;
                if (n.desc.size() >= 24) {
                    std::memcpy(&info.error, n.desc.data() + 4, sizeof(int));
                    std::memcpy(&info.code, n.desc.data() + 8, sizeof(int));
                    const bool fault = signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
                                       signo == SIGTRAP;
                    if (fault && info.code > 0) {
                        std::uint64_t address;
                        std::memcpy(&address, n.desc.data() + 16, sizeof address);
                        info.address = address;
                    }
                }
                out.siginfo = info;
            }
        }
    }
    return out;
}

} // namespace triage::coredump
