// Fuzzes what triage reads of Python objects beyond the stacks, over
// arbitrary target memory that may also change between reads (a running
// target): bounded reprs (python_repr.hpp), a frame's locals
// (frame_locals.hpp), the GC's lists (gc_objects.hpp), greenlets
// (greenlets.hpp) and asyncio tasks (asyncio_tasks.hpp).
// Input: one byte that picks a layout (2.7, 3.6 ... 3.15); one byte that
// sets how often memory changes (every Nth read flips a byte of the input's
// memory; 0: never); the 64-bit addresses of an object, a frame, its code
// object and an interpreter state; then memory regions, each a 64-bit
// address, a 16-bit length and that many bytes. Every chain the bytes form
// (containers inside themselves, GC lists that loop or change, greenlets and
// tasks whose links point anywhere) must end in a value or an error, never
// a crash, a hang or a read outside the input.
// Seeds (corpus/cpython_objects/) are recordings of the reads these readers
// made of tests/victims/py_asyncio.py on 3.8, 3.11 and 3.12 (its sys.modules
// lookups, tasks, coroutine chains and main()'s locals), cut down to the
// regions that keep the readers' results the same.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_input.hpp"
#include "triage/cpython/asyncio_tasks.hpp"
#include "triage/cpython/frame_locals.hpp"
#include "triage/cpython/gc_objects.hpp"
#include "triage/cpython/greenlets.hpp"
#include "triage/cpython/python_repr.hpp"
#include "triage/memory/buffer_source.hpp"

namespace {

// Memory that changes under the reader: every `period`th read first flips a
// byte of the backing bytes (which the buffer's regions view), at a place
// that moves with each flip.
class changing_memory {
public:
    changing_memory(triage::memory::buffer_source& regions, std::vector<std::byte>& bytes, unsigned period)
        : regions_{&regions}, bytes_{&bytes}, period_{period} {}

    [[nodiscard]] triage::result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) {
        change();
        return regions_->read(address, into);
    }

    [[nodiscard]] triage::result<void> read_batch(std::span<triage::memory::read_request> requests) {
        change();
        return regions_->read_batch(requests);
    }

private:
    void change() {
        if (period_ == 0 || bytes_->empty() || ++reads_ % period_ != 0) return;
        cursor_ = (cursor_ * 31 + 17) % bytes_->size();
        (*bytes_)[cursor_] ^= std::byte{0x5a};
    }

    triage::memory::buffer_source* regions_;
    std::vector<std::byte>* bytes_;
    unsigned period_;
    unsigned reads_ = 0;
    std::size_t cursor_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    if (input.size() < 2) return 0;
    const triage::cpython::layout layout = triage_fuzz::pick_layout(triage_fuzz::take<std::uint8_t>(input));
    const unsigned period = triage_fuzz::take<std::uint8_t>(input);
    const auto object = triage_fuzz::take<std::uint64_t>(input);
    const auto frame = triage_fuzz::take<std::uint64_t>(input);
    const auto code = triage_fuzz::take<std::uint64_t>(input);
    const auto interpreter = triage_fuzz::take<std::uint64_t>(input);
    std::vector<std::byte> bytes(input.size());
    std::memcpy(bytes.data(), input.data(), input.size());
    std::span<const std::byte> rest{bytes};
    triage::memory::buffer_source regions;
    for (int count = 0; count < 4096 && rest.size() >= 10; ++count) {
        std::uint64_t address = 0;
        std::uint16_t length = 0;
        std::memcpy(&address, rest.data(), 8);
        std::memcpy(&length, rest.data() + 8, 2);
        rest = rest.subspan(10);
        const std::size_t n = std::min<std::size_t>(length, rest.size());
        if (address > ~std::uint64_t{0} - n) break;
        regions.add_region(address, rest.first(n));
        rest = rest.subspan(n);
    }
    changing_memory mem{regions, bytes, period};

    triage::cpython::repr_reader reprs{mem, layout, {.max_table = 1u << 10}};
    (void)reprs.repr(object);
    triage::cpython::python_frame f;
    f.address = frame;
    f.code = code;
    (void)triage::cpython::frame_locals(mem, layout, f, {.max_slots = 256, .max_name_chars = 64, .repr = {.max_table = 1u << 10}});
    (void)triage::cpython::for_each_gc_object(mem, layout, interpreter, [](std::uint64_t, std::uint64_t) {}, 4096);

    triage::cpython::runtime_roots roots;
    triage::cpython::stack_snapshot snapshot;
    snapshot.threads.emplace_back().interpreter = interpreter;
    triage::cpython::walk_limits limits;
    limits.max_threads = 4;
    limits.max_frames = 64;
    limits.max_string_chars = 64;
    limits.max_line_table_bytes = 1 << 12;
    (void)triage::cpython::read_greenlets(mem, layout, roots, snapshot,
                                          {.max_objects = 4096, .max_greenlets = 64, .limits = limits});
    (void)triage::cpython::read_asyncio_tasks(mem, layout, roots, snapshot,
                                              {.max_tasks = 64, .max_chain = 16, .max_frames = 256, .max_objects = 4096, .limits = limits});
    return 0;
}
