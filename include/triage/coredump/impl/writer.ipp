// triage/coredump/impl/writer.ipp — the definitions of
// triage/coredump/writer.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/coredump/writer.hpp"

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> note_segment(const core_layout& layout) {
    note_builder notes;
    auto thread_regsets = [&](const core_thread& t) {
        if (t.fp) notes.add_object("CORE", NT_PRFPREG, *t.fp);
        if (!t.xstate.empty()) notes.add("LINUX", NT_X86_XSTATE, t.xstate);
    };
    for (std::size_t i = 0; i < layout.threads.size(); ++i) {
        const core_thread& t = layout.threads[i];
        notes.add("CORE", NT_PRSTATUS, encode_prstatus(t));
        if (i == 0) {
            notes.add("CORE", NT_PRPSINFO, encode_prpsinfo(layout.process));
            notes.add("CORE", NT_SIGINFO, encode_siginfo(t.signal));
            notes.add("CORE", NT_AUXV, layout.process.auxv);
            if (!layout.files.empty()) notes.add("CORE", NT_FILE, encode_file_note(layout.files));
        }
        thread_regsets(t);
    }
    if (layout.xsave_layout) {
        auto records = xsave_layout_note();
        if (!records.empty()) notes.add("LINUX", nt_x86_xsave_layout, records);
    }
    auto bytes = notes.bytes();
    return {bytes.begin(), bytes.end()};
}

} // namespace triage::coredump

namespace triage::coredump::detail {

[[nodiscard]] TRIAGE_DECL file_plan plan_file(const core_layout& layout, std::size_t notes_size) {
    file_plan p;
    p.program_headers = layout.segments.size() + 1;
    p.notes_offset = sizeof(Elf64_Ehdr) + p.program_headers * sizeof(Elf64_Phdr);
    p.data_offset = (p.notes_offset + notes_size + page_size - 1) / page_size * page_size;
    std::uint64_t offset = p.data_offset;
    for (const auto& s : layout.segments) offset += s.dump_size;
    p.total_size = offset;
    if (p.program_headers >= PN_XNUM) p.total_size += sizeof(Elf64_Shdr);
    return p;
}

[[nodiscard]] TRIAGE_DECL bool all_zero(const std::byte* p, std::size_t n) noexcept {
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        acc |= w;
        if ((i & 511) == 504 && acc != 0) return false;
    }
    return acc == 0;
}

} // namespace triage::coredump::detail

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL std::uint64_t expected_bytes(const core_layout& layout) {
    std::uint64_t total = 0;
    for (const auto& s : layout.segments)
        for (const auto& r : s.content) total += r.size;
    return total + detail::plan_file(layout, note_segment(layout).size()).data_offset;
}

} // namespace triage::coredump
