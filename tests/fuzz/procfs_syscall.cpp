// libFuzzer target: parse_syscall (and parse_wchan) on arbitrary bytes
// (seeds: "running", a futex wait, a clock_nanosleep, a stopped spinner's
// "-1 sp pc").
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "triage/procfs/syscall.hpp"
#include "triage/procfs/wchan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    auto info = triage::procfs::parse_syscall(text);
    if (info) {
        using triage::procfs::syscall_kind;
        if (info->kind == syscall_kind::in_syscall && info->number < 0) __builtin_trap();
        if (info->kind != syscall_kind::in_syscall && !info->name().empty()) __builtin_trap();
        (void)triage::procfs::syscall_name(info->number);
    }
    if (triage::procfs::parse_wchan(text).size() > text.size()) __builtin_trap();
    return 0;
}
