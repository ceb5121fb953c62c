// libFuzzer target: parse_smaps_rollup on arbitrary bytes (seeds: the
// rollups of a threaded process and of a shell).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/procfs/smaps_rollup.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    (void)triage::procfs::parse_smaps_rollup(text);
    return 0;
}
