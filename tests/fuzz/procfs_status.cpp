// libFuzzer target: parse_status on arbitrary bytes (seeds: real status
// files of a process, a thread with an odd name, kthreadd).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/procfs/status.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    auto status = triage::procfs::parse_status(text);
    // Unescaping only ever shortens the name.
    if (status && status->name.size() > text.size()) __builtin_trap();
    return 0;
}
