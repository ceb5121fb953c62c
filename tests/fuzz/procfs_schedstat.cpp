// libFuzzer target: parse_schedstat on arbitrary bytes (seeds: real
// schedstat files of a running process and of init).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/procfs/schedstat.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    auto s = triage::procfs::parse_schedstat(text);
    // Times are never negative.
    if (s && (s->run_time.count() < 0 || s->wait_time.count() < 0)) __builtin_trap();
    return 0;
}
