// libFuzzer target: parse_cmdline and join_cmdline on arbitrary bytes
// (seeds: a one-argument command line, init's many arguments, a kernel
// thread's empty one).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/procfs/cmdline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes{reinterpret_cast<const char*>(data), size};
    auto args = triage::procfs::parse_cmdline(bytes);
    // Joining puts one space where each separating NUL was: never longer.
    if (triage::procfs::join_cmdline(args).size() > size) __builtin_trap();
    return 0;
}
