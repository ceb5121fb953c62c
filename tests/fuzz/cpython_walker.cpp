// Fuzzes the CPython stack walker, the thread-name reader, runtime locator
// and version detection over arbitrary target memory. Input: one byte that picks a layout (2.7,
// 3.6 ... 3.13); the 64-bit addresses of the interpreter list head and of
// the GIL holder pointer; then memory regions, each a 64-bit address, a
// 16-bit length and that many bytes. Any pointer chain the bytes form
// (interpreters, thread states, frames, code objects, strings, line tables,
// sys.modules and the dicts, ints and instances behind thread names;
// cycles included) must end in a value or an error, never a crash, a hang or
// a read outside the input.
// Seeds (corpus/cpython_walker/) are recordings of every read the walker
// made of real processes (a 2.7, a 3.11 and a 3.13 victim), in this format.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_input.hpp"
#include "triage/cpython/runtime_locator.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/cpython/thread_names.hpp"
#include "triage/cpython/version.hpp"
#include "triage/memory/buffer_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    if (input.empty()) return 0;
    const triage::cpython::layout layout = triage_fuzz::pick_layout(triage_fuzz::take<std::uint8_t>(input));
    triage::cpython::runtime_roots roots;
    roots.interpreters_head = triage_fuzz::take<std::uint64_t>(input);
    roots.current_thread = triage_fuzz::take<std::uint64_t>(input);
    triage::memory::buffer_source mem;
    std::uint64_t lowest = ~std::uint64_t{0};
    std::uint64_t highest = 0;
    for (int regions = 0; regions < 4096 && input.size() >= 10; ++regions) {
        auto address = triage_fuzz::take<std::uint64_t>(input);
        std::size_t length = std::min<std::size_t>(triage_fuzz::take<std::uint16_t>(input), input.size());
        if (address > ~std::uint64_t{0} - length) break;
        mem.add_region(address, std::as_bytes(input.first(length)));
        lowest = std::min(lowest, address);
        highest = std::max(highest, address + length);
        input = input.subspan(length);
    }
    triage::cpython::walk_limits limits;
    limits.max_threads = 64;
    limits.max_frames = 256;
    limits.max_string_chars = 256;
    limits.max_line_table_bytes = 1 << 16;
    triage::cpython::stack_walker walker{mem, layout, roots, limits};
    triage::cpython::thread_namer namer{mem, layout, {.max_items = 1u << 12, .max_chars = 256}};
    for (int round = 0; round < 2; ++round) {  // cold, then warm (caches)
        auto snap = walker.snapshot();
        if (!snap) continue;
        (void)walker.recheck(*snap);
        (void)namer.name_threads(*snap);
    }

    triage::cpython::interpreter_image image;
    image.path = "/usr/lib/libpython3.11.so.1.0";
    image.symbols["Py_Version"] = roots.current_thread;
    image.symbols["_PyRuntime"] = roots.interpreters_head;
    if (highest > lowest && highest - lowest <= (1u << 20)) image.writable.push_back({lowest, highest});
    (void)triage::cpython::detect_version(mem, image);
    (void)triage::cpython::locate_runtime(mem, image, layout);
    return 0;
}
