// triage/report/detail/protobuf_writer.hpp — the protocol buffers wire
// format, written by hand (https://protobuf.dev/programming-guides/encoding/):
// enough to write a message whose schema we know (pprof.hpp), without
// protoc's generated code or libprotobuf.
//
// Offers: `protobuf_writer`, which appends fields to a byte string in the
// order they are written: varint fields (uint64; int64 and enums as their
// 64-bit two's complement, so a negative value takes ten bytes; no zigzag
// sint), length-delimited fields (bytes, string, an embedded message
// written by another writer), and packed repeated varints. Every call
// writes its field, a zero too: proto3's "omit the default" is the
// caller's choice. A string field is written as given; the caller makes it
// valid UTF-8.
// Thread-safe: distinct objects. Signal-safe: no (allocates).
// Target process: none.
//
//   triage::report::detail::protobuf_writer w;
//   w.varint_field(1, 150);   // w.bytes() == "\x08\x96\x01"
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace triage::report::detail {

// The wire types we write (the low three bits of a field's tag).
enum class wire_type : std::uint8_t {
    varint = 0,
    length_delimited = 2,
};

// The number of bytes of `value` as a varint (1 to 10).
[[nodiscard]] constexpr std::size_t varint_size(std::uint64_t value) noexcept {
    std::size_t size = 1;
    for (; value >= 0x80; value >>= 7) ++size;
    return size;
}

class protobuf_writer {
public:
    // A bare varint: seven bits a byte, least significant first, the high
    // bit set on every byte but the last (300 → AC 02).
    void varint(std::uint64_t value) {
        for (; value >= 0x80; value >>= 7) out_ += static_cast<char>((value & 0x7F) | 0x80);
        out_ += static_cast<char>(value);
    }

    // A field's key: (field number << 3) | wire type.
    void tag(std::uint32_t field, wire_type type) {
        varint((std::uint64_t{field} << 3) | static_cast<std::uint64_t>(type));
    }

    // uint64, uint32, bool fields.
    void varint_field(std::uint32_t field, std::uint64_t value) {
        tag(field, wire_type::varint);
        varint(value);
    }

    // int64, int32 and enum fields (two's complement, not zigzag).
    void int64_field(std::uint32_t field, std::int64_t value) {
        varint_field(field, static_cast<std::uint64_t>(value));
    }

    // bytes, string, and an embedded message's encoding.
    void bytes_field(std::uint32_t field, std::string_view bytes) {
        tag(field, wire_type::length_delimited);
        varint(bytes.size());
        out_.append(bytes);
    }

    void message_field(std::uint32_t field, const protobuf_writer& message) { bytes_field(field, message.bytes()); }

    // A packed repeated uint64 (int64 values cast to uint64): one
    // length-delimited field holding the varints. Nothing when empty.
    void packed_varint_field(std::uint32_t field, std::span<const std::uint64_t> values) {
        if (values.empty()) return;
        std::size_t size = 0;
        for (std::uint64_t v : values) size += varint_size(v);
        tag(field, wire_type::length_delimited);
        varint(size);
        for (std::uint64_t v : values) varint(v);
    }

    [[nodiscard]] const std::string& bytes() const noexcept { return out_; }
    [[nodiscard]] std::string take() && noexcept { return std::move(out_); }
    [[nodiscard]] std::size_t size() const noexcept { return out_.size(); }
    // Empties it, keeping its storage (a scratch writer for nested messages).
    void clear() noexcept { out_.clear(); }

private:
    std::string out_;
};

} // namespace triage::report::detail
