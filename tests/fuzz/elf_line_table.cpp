// libFuzzer target: elf::line_table::parse on arbitrary bytes as .debug_line,
// with a .debug_line_str, a .debug_str and a .debug_aranges cut from the same
// input, for both address sizes. Must not crash, hang, read out of bounds or
// allocate without bound; lookups in whatever table results must not either.
// Every table parsed is saved and loaded back (line_cache.hpp's format) to the
// same bytes; the input itself is loaded as a saved table (lookups safe).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "triage/elf/line_table.hpp"

namespace elf = triage::elf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span{data, size});
    // The whole input as .debug_line (string forms pointing into the input
    // too), then the input split: .debug_line, strings, aranges.
    const std::size_t quarter = size / 4;
    auto line = bytes.first(size - quarter);
    auto strings = bytes.subspan(size - quarter);
    auto aranges = bytes.subspan(size / 2);
    std::size_t found = 0;
    auto probe = [&](const elf::line_table& table) {
        for (std::uint64_t a : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x1000}, std::uint64_t{0x401000},
                                std::uint64_t{size}, ~std::uint64_t{0}}) {
            if (auto at = table.find(a)) found += at->file.size() + static_cast<std::size_t>(at->line != 0);
        }
    };
    if (auto saved = elf::line_table::deserialize(bytes)) probe(*saved);
    const std::array<std::span<const std::byte>, 4> whole{bytes, bytes, bytes, {}};
    const std::array<std::span<const std::byte>, 4> split{line, strings, strings, aranges};
    for (unsigned address_size : {8u, 4u}) {
        for (const auto& [debug_line, line_str, str, ranges] : {whole, split}) {
            auto table = elf::line_table::parse(debug_line, line_str, str, {address_size, size % 2 == 1}, ranges);
            if (!table) continue;
            probe(*table);
            const std::string saved = table->serialize();
            auto loaded = elf::line_table::deserialize(std::as_bytes(std::span{saved}));
            if (!loaded || loaded->serialize() != saved) __builtin_trap();
            for (const auto& skipped : table->skipped_units()) found += skipped.reason.context.size();
        }
    }
    return found == SIZE_MAX;
}
