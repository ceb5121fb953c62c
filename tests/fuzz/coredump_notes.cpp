// Fuzzes the decoding of a core file's notes: the input is one PT_NOTE
// segment. Threads, process facts, auxv and NT_FILE entries must decode or
// fail with an error, never crash; a note segment we build from what was
// decoded must decode to the same threads and files (the encoders and
// decoders agree).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "triage/coredump/core_notes.hpp"
#include "triage/coredump/writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = std::as_bytes(std::span(data, size));
    const std::vector<std::span<const std::byte>> segments{bytes};
    auto notes = triage::coredump::parse_core_notes(segments);
    if (!notes || notes->threads.empty() || notes->threads.size() > 64) return 0;

    triage::coredump::core_layout layout;
    layout.threads = notes->threads;
    layout.process = notes->process.value_or(triage::coredump::core_process{});
    layout.process.auxv = notes->auxv;
    layout.files = notes->files;
    layout.xsave_layout = false;
    for (auto& f : layout.files) f.offset -= f.offset % 4096;  // NT_FILE keeps offsets in pages
    const auto rebuilt = triage::coredump::note_segment(layout);
    const std::vector<std::span<const std::byte>> again{rebuilt};
    auto back = triage::coredump::parse_core_notes(again);
    if (!back || back->threads.size() != layout.threads.size() || back->files.size() != layout.files.size())
        __builtin_trap();
    for (std::size_t i = 0; i < layout.threads.size(); ++i)
        if (back->threads[i].tid != layout.threads[i].tid || back->threads[i].general.rip != layout.threads[i].general.rip)
            __builtin_trap();
    return 0;
}
