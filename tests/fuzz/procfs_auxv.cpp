// libFuzzer target: parse_auxv on arbitrary bytes (seeds: the auxiliary
// vectors of a threaded process and of a shell).
#include <cstddef>
#include <cstdint>
#include <span>

#include "triage/procfs/auxv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span{data, size});
    auto entries = triage::procfs::parse_auxv(bytes);
    if (entries) {
        if (entries->size() * 16 > size) __builtin_trap();
        for (const auto& e : *entries)
            if (e.type == AT_NULL) __builtin_trap();  // AT_NULL ends the vector, it is not an entry
        (void)triage::procfs::find_auxv(*entries, AT_ENTRY);
    }
    return 0;
}
