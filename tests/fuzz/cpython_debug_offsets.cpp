// Fuzzes the _Py_DebugOffsets parser: arbitrary bytes claimed to be the start
// of a 3.13+ _PyRuntime must give a layout or an error, never a crash.
// Seeds: the real first KiB of _PyRuntime of 3.13.0, 3.14.10 and 3.15.2.
#include <cstddef>
#include <cstdint>
#include <span>

#include "triage/cpython/debug_offsets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span{data, size});
    if (auto parsed = triage::cpython::parse_debug_offsets(bytes)) {
        // A layout that validated names its format and has its offsets
        // inside its structs.
        if (parsed->format == nullptr || bytes.size() < parsed->format->at.total_size) __builtin_trap();
        if (parsed->value.thread.next >= parsed->value.thread.size) __builtin_trap();
        if (parsed->value.interpreter_frame.owner >= parsed->value.interpreter_frame.size) __builtin_trap();
    }
    return 0;
}
