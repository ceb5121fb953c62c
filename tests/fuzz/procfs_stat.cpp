// libFuzzer target: parse_stat on arbitrary bytes (seeds: real stat lines
// of a process, a thread named "a) b (c", a spinning thread, kthreadd).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/procfs/stat.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    auto st = triage::procfs::parse_stat(text);
    if (st) {
        // The name is what lies between the first " (" and the last ')'.
        if (st->comm.view().size() > decltype(st->comm)::capacity) __builtin_trap();
        if (!st->comm.truncated() && text.find(st->comm.view()) == std::string_view::npos) __builtin_trap();
        if (st->state == '?') __builtin_trap();
    }
    return 0;
}
