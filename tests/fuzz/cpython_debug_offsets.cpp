// Fuzzes the _Py_DebugOffsets parser: arbitrary bytes claimed to be the start
// of a 3.13+ _PyRuntime must give a layout or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "triage/cpython/debug_offsets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = std::as_bytes(std::span{data, size});
    if (auto parsed = triage::cpython::parse_debug_offsets(bytes)) {
        // A layout that validated must have its offsets inside its structs.
        if (parsed->value.thread.next >= parsed->value.thread.size) __builtin_trap();
    }
    return 0;
}
