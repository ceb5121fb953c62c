// triage/coredump/note.hpp — building the PT_NOTE segment of a core file.
//
// Offers: `note_builder`: `add(name, type, desc)` / `add_object(...)` append
// one note the way the kernel's writenote() does: Elf64_Nhdr, the name with
// its NUL padded to 4 bytes, the descriptor padded to 4 bytes (core notes
// use 4-byte alignment on 64-bit too); `bytes()` is the segment. Parsing is
// elf/note.hpp's `parse_notes(bytes, 4)`; `max_notes` bounds what a core
// reader accepts.
// Thread-safe: distinct objects. Signal-safe: no (allocates).
// Target process: none touched.
//
//   triage::coredump::note_builder b;
//   b.add_object("CORE", NT_PRSTATUS, prstatus);
//   auto notes = TRIAGE_TRY(triage::elf::parse_notes(b.bytes(), 4));
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>


namespace triage::coredump {

// More notes than any real core holds (a note per regset per thread, 4 per
// thread, for py-spy's bound of 4096 threads is 16k); past this a segment is
// hostile.
inline constexpr std::size_t max_notes = 1u << 18;

[[nodiscard]] constexpr std::size_t note_align(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

// The size one note takes in the segment.
[[nodiscard]] constexpr std::size_t note_size(std::string_view name, std::size_t desc_size) noexcept {
    return sizeof(Elf64_Nhdr) + note_align(name.size() + 1) + note_align(desc_size);
}

class note_builder {
public:
    void add(std::string_view name, std::uint32_t type, std::span<const std::byte> desc) {
        Elf64_Nhdr header{};
        header.n_namesz = static_cast<Elf64_Word>(name.size() + 1);
        header.n_descsz = static_cast<Elf64_Word>(desc.size());
        header.n_type = type;
        std::size_t at = bytes_.size();
        bytes_.resize(at + note_size(name, desc.size()));  // zero padding included
        std::byte* p = bytes_.data() + at;
        std::memcpy(p, &header, sizeof header);
        p += sizeof header;
        std::memcpy(p, name.data(), name.size());
        p += note_align(name.size() + 1);
        if (!desc.empty()) std::memcpy(p, desc.data(), desc.size());
    }

    template <class T>
        requires std::is_trivially_copyable_v<T>
    void add_object(std::string_view name, std::uint32_t type, const T& object) {
        add(name, type, std::as_bytes(std::span{&object, 1}));
    }

    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }

private:
    std::vector<std::byte> bytes_;
};

} // namespace triage::coredump
