// libFuzzer target: parse_maps on arbitrary bytes (seeds: the maps of a
// threaded process, a kernel thread's empty maps).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/procfs/maps.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    auto maps = triage::procfs::parse_maps(text);
    if (maps) {
        for (const auto& m : *maps) {
            if (m.end < m.start) __builtin_trap();
            if (m.path.size() > text.size()) __builtin_trap();
        }
    }
    return 0;
}
