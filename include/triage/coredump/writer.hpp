// triage/coredump/writer.hpp — write an ELF core file from plain data: the
// threads, the process facts, the mappings and which of their bytes to copy,
// and a memory_source to copy them from.
//
// Offers:
//  - `content_run`: bytes [address, address+size) of a segment to copy,
//    from the memory source, or from an open file (`fd`, `file_offset`) for
//    pages of a file mapping that are not in memory (so the target is not
//    faulted for them). Bytes of a segment's dump range not covered by a run
//    are holes: never written, read back as zeros.
//  - `core_segment`: one PT_LOAD: [start, end), PF_R/W/X, `dump_size`
//    (p_filesz: 0, one page or end - start) and its runs (sorted, inside
//    [start, start + dump_size)).
//  - `core_layout`: threads (the first is the one gdb selects), process
//    facts, NT_FILE entries, segments.
//  - `note_segment(layout)`: the PT_NOTE contents, in the kernel's order
//    (write_note_info() in fs/binfmt_elf.c): first thread's NT_PRSTATUS,
//    then NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE, then the first thread's
//    NT_PRFPREG and NT_X86_XSTATE; then for each further thread NT_PRSTATUS,
//    NT_PRFPREG, NT_X86_XSTATE; then NT_X86_XSAVE_LAYOUT (the x86 extra
//    note of Linux 6.12+). Names "CORE", and "LINUX" for the XSAVE notes;
//    4-byte alignment.
//  - `write_core(layout, memory, out, options)`: the ELF header (ET_CORE,
//    EM_X86_64; more than 65534 segments use PN_XNUM and one section header,
//    as the kernel does), PT_NOTE first (p_align 4), then one PT_LOAD per
//    segment (p_align 4096), the notes, and the segment data from the next
//    page boundary on, segment after segment. Memory runs are read with
//    read_batch in chunks of `options.chunk_bytes` (one batched call per
//    chunk), or, from a source that holds its bytes (`view(address, size)`,
//    e.g. memory::snapshot), written from where they are; a page that reads
//    as all zeros or fails to read is left a hole;
//    the file gets its full size with ftruncate, so it is sparse.
//    Between chunks it checks `options.cancel` (a flag a signal handler
//    sets: errc::interrupted) and reports progress.
//  - `expected_bytes(layout)`: what the copy will write at most (headers +
//    notes + every run): what the free-space check compares.
// Errors: errc::no_space and other write errors from the output (with the
// path and offset); errc::no_such_process when the memory source fails as a
// whole (the target exited); errc::interrupted. On error the output is not
// committed (the caller's output_file discards it).
// Thread-safe: no shared state. Signal-safe: no.
// Target process: reads its memory through `memory` only; stopping it is
// the caller's business (see live_dump.hpp).
//
//   triage::coredump::core_layout layout = ...;   // threads, process, files, segments
//   auto out = TRIAGE_TRY(triage::coredump::output_file::create("core.12"));
//   auto stats = TRIAGE_TRY(triage::coredump::write_core(layout, memory, out));
//   TRIAGE_TRY(out.commit());
#pragma once

#include <elf.h>

#include <algorithm>
#include <concepts>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/coredump/note.hpp"
#include "triage/coredump/output_file.hpp"
#include "triage/coredump/page_map.hpp"
#include "triage/coredump/records.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::coredump {

struct content_run {
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    int fd = -1;                    // -1: read from the memory source; else a file to pread (borrowed)
    std::uint64_t file_offset = 0;  // file offset of `address` when fd >= 0
};

struct core_segment {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint32_t flags = 0;  // PF_R | PF_W | PF_X
    std::uint64_t dump_size = 0;
    std::vector<content_run> content;
};

struct core_layout {
    std::vector<core_thread> threads;  // the first is gdb's current thread
    core_process process;
    std::vector<mapped_file> files;
    std::vector<core_segment> segments;
    bool xsave_layout = true;  // append NT_X86_XSAVE_LAYOUT as Linux 6.12+ does
};

struct write_options {
    // Read, then written, a chunk at a time: small enough that the bytes
    // just read are still in the CPU's cache when written (1 GiB of the
    // demo service: 0.8-0.9 s in 1-4 MiB chunks, 1.9-3.2 s in 32 MiB ones).
    std::size_t chunk_bytes = std::size_t{2} << 20;
    const volatile std::sig_atomic_t* cancel = nullptr;  // non-zero: stop with errc::interrupted
    // Called after every chunk: bytes copied so far, bytes to copy in all.
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct write_stats {
    std::uint64_t bytes_written = 0;  // data bytes written (holes excluded), headers and notes included
    std::uint64_t file_size = 0;      // st_size
    std::uint64_t allocated = 0;      // st_blocks × 512
    std::size_t segments = 0;
    std::size_t segments_with_data = 0;
};

[[nodiscard]] TRIAGE_DECL std::vector<std::byte> note_segment(const core_layout& layout);

namespace detail {
struct file_plan {
    std::size_t program_headers = 0;  // PT_NOTE included
    std::uint64_t notes_offset = 0;
    std::uint64_t data_offset = 0;
    std::uint64_t total_size = 0;
};

[[nodiscard]] TRIAGE_DECL file_plan plan_file(const core_layout& layout, std::size_t notes_size);

// A source that can hand out the bytes it holds without a copy.
template <class M>
concept holds_bytes = requires(const M& m, std::uint64_t address) {
    { m.view(address, address) } -> std::same_as<std::span<const std::byte>>;
};

[[nodiscard]] TRIAGE_DECL bool all_zero(const std::byte* p, std::size_t n) noexcept;
} // namespace detail

[[nodiscard]] TRIAGE_DECL std::uint64_t expected_bytes(const core_layout& layout);

template <memory::memory_source Memory>
[[nodiscard]] result<write_stats> write_core(const core_layout& layout, Memory& memory, output_file& out,
                                            const write_options& options = {}) {
    if (layout.threads.empty()) return fail(errc::invalid_argument, "writing " + out.path() + ": a core needs a thread");
    std::vector<std::byte> notes = note_segment(layout);
    const detail::file_plan plan = detail::plan_file(layout, notes.size());
    write_stats stats;
    stats.segments = layout.segments.size();

    // ELF header, program headers, notes.
    std::vector<std::byte> head(plan.notes_offset + notes.size());
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = static_cast<Elf64_Half>(std::min<std::size_t>(plan.program_headers, PN_XNUM));
    Elf64_Shdr extended{};
    if (plan.program_headers >= PN_XNUM) {
        eh.e_shoff = plan.total_size - sizeof(Elf64_Shdr);
        eh.e_shentsize = sizeof(Elf64_Shdr);
        eh.e_shnum = 1;
        extended.sh_size = 1;
        extended.sh_info = static_cast<Elf64_Word>(plan.program_headers);
    }
    std::memcpy(head.data(), &eh, sizeof eh);
    std::byte* ph = head.data() + sizeof eh;
    Elf64_Phdr note_header{};
    note_header.p_type = PT_NOTE;
    note_header.p_offset = plan.notes_offset;
    note_header.p_filesz = notes.size();
    note_header.p_align = 4;
    std::memcpy(ph, &note_header, sizeof note_header);
    ph += sizeof note_header;
    std::vector<std::uint64_t> segment_offset(layout.segments.size());
    std::uint64_t offset = plan.data_offset;
    for (std::size_t i = 0; i < layout.segments.size(); ++i) {
        const core_segment& s = layout.segments[i];
        Elf64_Phdr p{};
        p.p_type = PT_LOAD;
        p.p_offset = offset;
        p.p_vaddr = s.start;
        p.p_filesz = s.dump_size;
        p.p_memsz = s.end - s.start;
        p.p_flags = s.flags;
        p.p_align = page_size;
        std::memcpy(ph, &p, sizeof p);
        ph += sizeof p;
        segment_offset[i] = offset;
        offset += s.dump_size;
    }
    std::memcpy(head.data() + plan.notes_offset, notes.data(), notes.size());
    TRIAGE_TRY(out.write_at(0, head));
    stats.bytes_written += head.size();
    if (plan.program_headers >= PN_XNUM) {
        TRIAGE_TRY(out.write_at(eh.e_shoff, std::as_bytes(std::span{&extended, 1})));
        stats.bytes_written += sizeof extended;
    }

    // Segment data, a chunk at a time.
    std::uint64_t total = 0;
    for (const auto& s : layout.segments)
        for (const auto& r : s.content) total += r.size;
    std::uint64_t done = 0;
    const std::size_t chunk = std::max<std::size_t>(options.chunk_bytes, page_size);
    std::vector<std::byte> buffer;  // for what must be read: allocated on first use
    struct pending {
        std::uint64_t file_offset;  // in the core
        memory::read_request request;
    };
    std::vector<pending> batch;
    std::vector<memory::read_request> requests;
    std::vector<std::uint8_t> segment_has_data(layout.segments.size(), 0);

    // Writes the non-zero pages of what was read; a short read leaves the rest a hole.
    auto write_out = [&](std::span<const std::byte> bytes, std::uint64_t file_offset) -> result<void> {
        std::size_t at = 0;
        while (at < bytes.size()) {
            std::size_t n = std::min<std::size_t>(page_size, bytes.size() - at);
            if (detail::all_zero(bytes.data() + at, n)) {
                at += n;
                continue;
            }
            std::size_t run_end = at + n;
            while (run_end < bytes.size()) {
                std::size_t m = std::min<std::size_t>(page_size, bytes.size() - run_end);
                if (detail::all_zero(bytes.data() + run_end, m)) break;
                run_end += m;
            }
            TRIAGE_TRY(out.write_at(file_offset + at, bytes.subspan(at, run_end - at)));
            stats.bytes_written += run_end - at;
            at = run_end;
        }
        return {};
    };
    auto flush = [&]() -> result<void> {
        if (batch.empty()) return {};
        requests.clear();
        for (auto& p : batch) requests.push_back(p.request);
        // A range that faults part way is retried from the page after the
        // fault; the faulting page stays a hole. Each round drops at least a
        // page of every failing range, so the rounds are bounded.
        while (!batch.empty()) {
            requests.clear();
            for (auto& p : batch) requests.push_back(p.request);
            TRIAGE_TRY(memory.read_batch(requests));
            std::vector<pending> retry;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                const auto& r = requests[i];
                TRIAGE_TRY(write_out(std::span<const std::byte>{r.into.data(), r.bytes_read}, batch[i].file_offset));
                std::uint64_t resume = (r.bytes_read / page_size + 1) * page_size;
                if (r.bytes_read < r.into.size() && resume < r.into.size())
                    retry.push_back(pending{batch[i].file_offset + resume,
                                            memory::read_request{r.address + resume, r.into.subspan(resume), 0}});
            }
            batch = std::move(retry);
        }
        return {};
    };
    auto checkpoint = [&](std::uint64_t bytes) -> result<void> {
        done += bytes;
        if (options.cancel != nullptr && *options.cancel != 0)
            return fail(errc::interrupted, "writing " + out.path(), "stopped by a signal; the partial core was removed");
        if (options.progress) options.progress(done, total);
        return {};
    };

    std::size_t used = 0;
    std::uint64_t batched = 0;
    for (std::size_t i = 0; i < layout.segments.size(); ++i) {
        const core_segment& s = layout.segments[i];
        for (const content_run& run : s.content) {
            if (run.address < s.start || run.size > s.dump_size || run.address - s.start > s.dump_size - run.size)
                return fail(errc::invalid_argument, "writing " + out.path() + ": a run at " + hex(run.address) +
                                                        " lies outside its segment's dump range");
            std::uint64_t core_offset = segment_offset[i] + (run.address - s.start);
            if constexpr (detail::holds_bytes<Memory>) {
                if (run.fd < 0) {
                    // Bytes the source holds (a snapshot): written from where they are.
                    for (std::uint64_t at = 0; at < run.size;) {
                        auto held = memory.view(run.address + at, std::min<std::uint64_t>(run.size - at, chunk));
                        const std::uint64_t n = !held.empty() ? held.size()
                                                              : std::min(page_size - (run.address + at) % page_size, run.size - at);
                        if (!held.empty()) TRIAGE_TRY(write_out(held, core_offset + at));
                        at += n;
                        batched += n;
                        if (batched >= chunk) {
                            TRIAGE_TRY(checkpoint(batched));
                            batched = 0;
                        }
                    }
                    segment_has_data[i] = 1;
                    continue;
                }
            }
            for (std::uint64_t at = 0; at < run.size;) {
                if (buffer.empty()) buffer.resize(chunk);
                if (used == buffer.size()) {
                    TRIAGE_TRY(flush());
                    TRIAGE_TRY(checkpoint(batched));
                    used = 0;
                    batched = 0;
                }
                std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(run.size - at, buffer.size() - used));
                std::span<std::byte> into{buffer.data() + used, n};
                if (run.fd >= 0) {
                    // A file page: pread now (no batching needed), hole past the file's end.
                    std::size_t got = 0;
                    while (got < n) {
                        ssize_t r = ::pread(run.fd, into.data() + got, n - got, static_cast<off_t>(run.file_offset + at + got));
                        if (r < 0 && errno == EINTR) continue;
                        if (r <= 0) break;
                        got += static_cast<std::size_t>(r);
                    }
                    TRIAGE_TRY(write_out(into.first(got), core_offset + at));
                } else {
                    batch.push_back(pending{core_offset + at, memory::read_request{run.address + at, into, 0}});
                    used += n;
                }
                batched += n;
                at += n;
            }
            segment_has_data[i] = 1;
        }
    }
    TRIAGE_TRY(flush());
    TRIAGE_TRY(checkpoint(batched));
    TRIAGE_TRY(out.set_size(plan.total_size));
    stats.segments_with_data = static_cast<std::size_t>(std::count(segment_has_data.begin(), segment_has_data.end(), 1));
    stats.file_size = TRIAGE_TRY(out.size());
    stats.allocated = TRIAGE_TRY(out.allocated());
    return stats;
}

} // namespace triage::coredump

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/coredump/impl/writer.ipp"
#endif
