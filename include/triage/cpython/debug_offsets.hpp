// triage/cpython/debug_offsets.hpp — a layout read from the target itself:
// the `_Py_DebugOffsets` that CPython 3.13+ keeps at the start of _PyRuntime.
//
// Why: the target's own offsets are right for its build, whatever its patch
// level or configure flags, where a compiled-in header can only be right for
// the builds it was checked on. What is versioned here is only the format of
// the struct itself (where each offset sits inside it): a patch release that
// moves a field of a thread state or a frame publishes the new offset and is
// read with no change here.
//
// Offers:
//  - `debug_offsets_cookie` ("xdebugpy", version.hpp).
//  - `debug_offsets_format`: one published format, as data: the versions
//    that use it, the position of each value inside the struct (`at`, one
//    nested struct per section, named as CPython names them; `position_none`
//    where the format has no such value) and the few values the struct does
//    not publish (`unpublished`: co_flags, _co_firsttraceable,
//    co_kwonlyargcount, the frame owner values, the _PyStackRef tag bits,
//    the unicode state bits, ht_cached_keys before 3.15, the set fields
//    before 3.14, setentry, PyCellObject.ob_ref), which
//    hold for every GIL build of those versions (a free-threaded build,
//    `free_threaded` set, has a 32-byte object header: its unpublished
//    object offsets are these plus 16, and its managed dicts sit one word
//    before the object instead of three). Both parts are adapted with
//    Boost.Hana so a test checks each against DWARF.
//  - `debug_offsets_formats`, oldest first: 3.13 (3.13.0rc2 to 3.13.x,
//    584 bytes), 3.14 (3.14.0rc1 to 3.14.x, 760 bytes: inserts fields in
//    every section, f_executable becomes a tagged _PyStackRef and the
//    interpreter's own frames are FRAME_OWNED_BY_INTERPRETER), 3.15
//    (3.15.0rc1 to 3.15.x, 888 bytes: inserts more in the thread state,
//    type and gc sections, publishes sizeof(PyCompactUnicodeObject), drops
//    FRAME_OWNED_BY_CSTACK).
//  - `parse_debug_offsets(bytes)`: validates and decodes the struct into a
//    `debug_offsets` {version_hex, format, layout}. Every offset the walker
//    reads comes from the target: runtime interpreters.head; interpreter
//    next, threads.head, id, ceval.gil, and _gil's locked/last_holder (made
//    relative to the GIL struct); thread state size, prev, next, interp,
//    current_frame, thread_id, native_thread_id; frame previous,
//    f_executable, instr_ptr, owner, localsplus (also the frame's fixed
//    size); code object size, filename, name, qualname, linetable,
//    firstlineno, argcount, localsplusnames, localspluskinds,
//    co_code_adaptive; ob_type; PyVarObject ob_size and the items (from the
//    tuple section); list ob_item; set used, table, mask (3.14+); float
//    ob_fval; tp_name, tp_flags (3.15+ also tp_basicsize,
//    tp_dictoffset, ht_cached_keys); interpreter imports.modules; dict
//    ma_keys, ma_values; int lv_tag, ob_digit; bytes ob_size, ob_sval; unicode
//    state, length, sizeof(PyASCIIObject), sizeof(PyCompactUnicodeObject)
//    (3.15+; before, sizeof(PyUnicodeObject) - 8) and the legacy data
//    pointer (sizeof(PyUnicodeObject) - 8: it is the last member). What
//    no format publishes and has not moved since 3.13 is fixed here: the
//    dict keys object and values (Include/internal/pycore_dict.h), the
//    PyTypeObject head, PyModuleObject.md_dict.
//    The version picks the format. A version newer than every known format
//    (a new minor release) is read with the newest known format that
//    validates, so one whose format equals a known one needs no new code.
//  - `read_debug_offsets(memory, runtime_address)`: the same from any
//    memory_source (reads `debug_offsets_max_size` bytes at the start of
//    _PyRuntime).
// Errors: errc::truncated (fewer bytes than the format); errc::malformed (no
// cookie, a version that cannot have debug offsets, values that fail
// validation: sizes out of range, a field past its struct, two fields at one
// place, an object header that is not CPython's — garbage or a corrupted
// runtime); errc::unsupported (a pre-release whose format is none of the
// known ones; a newer version that no known format reads, naming the format
// description that is missing); read_debug_offsets adds the memory source's errors and the
// address to the context.
// Thread-safe: yes (values only). Signal-safe: parse yes, errors allocate.
// Target process: reads 888 bytes; never stops or writes it.
//
//   auto found = TRIAGE_TRY(triage::cpython::read_debug_offsets(mem, runtime_address));
//   // found.minor() == 14, found.format->name == "3.14"; found.value is a triage::cpython::layout
//   std::uint64_t head = runtime_address + found.value.runtime.interpreters_head;
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/adapt_struct.hpp>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/version.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

// A byte position inside _Py_DebugOffsets (every value in it is a uint64_t).
using debug_position = std::uint32_t;

// The format has no such value.
inline constexpr debug_position position_none = 0xFFFF'FFFFu;

// Byte positions of the values the walker needs, one struct per section of
// _Py_DebugOffsets, named as CPython names them: `interpreter_state.
// threads_head` is the position of _Py_DebugOffsets.interpreter_state.
// threads_head.
namespace debug_format {
struct runtime_state {
    debug_position size;
    debug_position interpreters_head;
};
struct interpreter_state {
    debug_position size;
    debug_position id;
    debug_position next;
    debug_position threads_head;
    debug_position threads_main;  // 3.14+
    debug_position imports_modules;
    debug_position ceval_gil;
    debug_position gil_runtime_state;
    debug_position gil_runtime_state_locked;
    debug_position gil_runtime_state_holder;
};
struct thread_state {
    debug_position size;
    debug_position prev;
    debug_position next;
    debug_position interp;
    debug_position current_frame;
    debug_position thread_id;
    debug_position native_thread_id;
};
struct interpreter_frame {
    debug_position size;
    debug_position previous;
    debug_position executable;
    debug_position instr_ptr;
    debug_position localsplus;
    debug_position owner;
};
struct code_object {
    debug_position size;
    debug_position filename;
    debug_position name;
    debug_position qualname;
    debug_position linetable;
    debug_position firstlineno;
    debug_position argcount;
    debug_position localsplusnames;
    debug_position localspluskinds;
    debug_position co_code_adaptive;
};
struct pyobject {
    debug_position size;
    debug_position ob_type;
};
struct type_object {
    debug_position size;
    debug_position tp_name;
    debug_position tp_flags;
    debug_position tp_basicsize;   // 3.15+
    debug_position tp_dictoffset;  // 3.15+
};
struct heap_type_object {  // 3.15+
    debug_position size;
    debug_position ht_cached_keys;
};
struct tuple_object {
    debug_position size;
    debug_position ob_item;
    debug_position ob_size;
};
struct list_object {
    debug_position size;
    debug_position ob_item;
};
struct set_object {  // 3.14+
    debug_position size;
    debug_position used;
    debug_position table;
    debug_position mask;
};
struct float_object {
    debug_position size;
    debug_position ob_fval;
};
struct dict_object {
    debug_position size;
    debug_position ma_keys;
    debug_position ma_values;
};
struct long_object {
    debug_position size;
    debug_position lv_tag;
    debug_position ob_digit;
};
struct bytes_object {
    debug_position size;
    debug_position ob_size;
    debug_position ob_sval;
};
struct unicode_object {
    debug_position size;
    debug_position state;
    debug_position length;
    debug_position asciiobject_size;
    debug_position compactunicodeobject_size;  // 3.15+
};

// Where each value sits; `total_size` is sizeof(_Py_DebugOffsets).
struct positions {
    std::uint32_t total_size;
    debug_position version;
    debug_position free_threaded;
    debug_format::runtime_state runtime_state;
    debug_format::interpreter_state interpreter_state;
    debug_format::thread_state thread_state;
    debug_format::interpreter_frame interpreter_frame;
    debug_format::code_object code_object;
    debug_format::pyobject pyobject;
    debug_format::type_object type_object;
    debug_format::heap_type_object heap_type_object;
    debug_format::tuple_object tuple_object;
    debug_format::list_object list_object;
    debug_format::set_object set_object;
    debug_format::dict_object dict_object;
    debug_format::float_object float_object;
    debug_format::long_object long_object;
    debug_format::bytes_object bytes_object;
    debug_format::unicode_object unicode_object;
};

// What the struct does not publish but the walker needs, the same for every
// build of the format's versions (the default GIL build).
struct unpublished {
    byte_offset co_flags;                // offsetof(PyCodeObject, co_flags)
    byte_offset co_firsttraceable;       // offsetof(PyCodeObject, _co_firsttraceable)
    std::uint8_t owned_by_generator;     // FRAME_OWNED_BY_GENERATOR
    std::uint8_t first_shim_owner;       // FRAME_OWNED_BY_CSTACK (3.13), FRAME_OWNED_BY_INTERPRETER (3.14+)
    std::uint8_t executable_tag_bits;    // Py_TAG_BITS of f_executable (3.14+), 0 for a plain pointer
    std::uint8_t unicode_kind_shift;     // PyASCIIObject.state bit fields
    std::uint8_t unicode_compact_bit;
    std::uint8_t unicode_ascii_bit;
    byte_offset ht_cached_keys;          // offsetof(PyHeapTypeObject, ht_cached_keys), where the format
                                         // has no heap type section (3.13, 3.14)
    byte_offset co_kwonlyargcount;       // offsetof(PyCodeObject, co_kwonlyargcount)
    byte_offset cell_ob_ref;             // offsetof(PyCellObject, ob_ref)
    byte_offset set_used;                // PySetObject's used, mask and table, where the format has
    byte_offset set_mask;                // no set section (3.13)
    byte_offset set_table;
    byte_offset setentry_key;            // offsetof(setentry, key)
    byte_offset setentry_size;           // sizeof(setentry)
};
} // namespace debug_format

struct debug_offsets_format {
    std::string_view name;       // "3.14"
    std::uint64_t first_version;  // PY_VERSION_HEX of the first release that uses it
    std::uint64_t end_version;    // one past the last (the next minor version's 0a0)
    debug_format::positions at;
    debug_format::unpublished unpublished;
};

// CPython 3.13 (Include/internal/pycore_runtime.h): 3.13.0rc2 added fields
// to the struct of 3.13.0b1–rc1.
inline constexpr debug_offsets_format debug_offsets_format_3_13 = {
    .name = "3.13",
    .first_version = 0x030D00C2,
    .end_version = 0x030E0000,
    .at = {
        .total_size = 584,
        .version = 8,
        .free_threaded = 16,
        .runtime_state = {.size = 24, .interpreters_head = 40},
        .interpreter_state = {.size = 48, .id = 56, .next = 64, .threads_head = 72,
                              .threads_main = position_none, .imports_modules = 88, .ceval_gil = 112,
                              .gil_runtime_state = 120,
                              .gil_runtime_state_locked = 136,
                              .gil_runtime_state_holder = 144},
        .thread_state = {.size = 152, .prev = 160, .next = 168, .interp = 176, .current_frame = 184,
                         .thread_id = 192, .native_thread_id = 200},
        .interpreter_frame = {.size = 224, .previous = 232, .executable = 240, .instr_ptr = 248,
                              .localsplus = 256, .owner = 264},
        .code_object = {.size = 272, .filename = 280, .name = 288, .qualname = 296, .linetable = 304,
                        .firstlineno = 312, .argcount = 320, .localsplusnames = 328, .localspluskinds = 336,
                        .co_code_adaptive = 344},
        .pyobject = {.size = 352, .ob_type = 360},
        .type_object = {.size = 368, .tp_name = 376, .tp_flags = 392, .tp_basicsize = position_none,
                        .tp_dictoffset = position_none},
        .heap_type_object = {.size = position_none, .ht_cached_keys = position_none},
        .tuple_object = {.size = 400, .ob_item = 408, .ob_size = 416},
        .list_object = {.size = 424, .ob_item = 432},
        .set_object = {.size = position_none, .used = position_none, .table = position_none, .mask = position_none},
        .dict_object = {.size = 448, .ma_keys = 456, .ma_values = 464},
        .float_object = {.size = 472, .ob_fval = 480},
        .long_object = {.size = 488, .lv_tag = 496, .ob_digit = 504},
        .bytes_object = {.size = 512, .ob_size = 520, .ob_sval = 528},
        .unicode_object = {.size = 536, .state = 544, .length = 552, .asciiobject_size = 560,
                           .compactunicodeobject_size = position_none},
    },
    .unpublished = {.co_flags = 48, .co_firsttraceable = 184, .owned_by_generator = 1, .first_shim_owner = 3,
                    .executable_tag_bits = 0, .unicode_kind_shift = 2, .unicode_compact_bit = 5,
                    .unicode_ascii_bit = 6,
                    .ht_cached_keys = 880,
                    .co_kwonlyargcount = 60, .cell_ob_ref = 16, .set_used = 24, .set_mask = 32, .set_table = 40,
                    .setentry_key = 0, .setentry_size = 16},
};

// CPython 3.14 (Include/internal/pycore_debug_offsets.h): threads_main, the
// GIL's `enabled`, code object and thread-local bytecode generations, frame
// stackpointer and tlbc_index, co_tlbc, set, generator, llist and remote
// debugger sections are new. f_executable is a _PyStackRef.
inline constexpr debug_offsets_format debug_offsets_format_3_14 = {
    .name = "3.14",
    .first_version = 0x030E00C1,
    .end_version = 0x030F0000,
    .at = {
        .total_size = 760,
        .version = 8,
        .free_threaded = 16,
        .runtime_state = {.size = 24, .interpreters_head = 40},
        .interpreter_state = {.size = 48, .id = 56, .next = 64, .threads_head = 72,
                              .threads_main = 80, .imports_modules = 96, .ceval_gil = 120,
                              .gil_runtime_state = 128,
                              .gil_runtime_state_locked = 144,
                              .gil_runtime_state_holder = 152},
        .thread_state = {.size = 176, .prev = 184, .next = 192, .interp = 200, .current_frame = 208,
                         .thread_id = 216, .native_thread_id = 224},
        .interpreter_frame = {.size = 248, .previous = 256, .executable = 264, .instr_ptr = 272,
                              .localsplus = 280, .owner = 288},
        .code_object = {.size = 312, .filename = 320, .name = 328, .qualname = 336, .linetable = 344,
                        .firstlineno = 352, .argcount = 360, .localsplusnames = 368, .localspluskinds = 376,
                        .co_code_adaptive = 384},
        .pyobject = {.size = 400, .ob_type = 408},
        .type_object = {.size = 416, .tp_name = 424, .tp_flags = 440, .tp_basicsize = position_none,
                        .tp_dictoffset = position_none},
        .heap_type_object = {.size = position_none, .ht_cached_keys = position_none},
        .tuple_object = {.size = 448, .ob_item = 456, .ob_size = 464},
        .list_object = {.size = 472, .ob_item = 480},
        .set_object = {.size = 496, .used = 504, .table = 512, .mask = 520},
        .dict_object = {.size = 528, .ma_keys = 536, .ma_values = 544},
        .float_object = {.size = 552, .ob_fval = 560},
        .long_object = {.size = 568, .lv_tag = 576, .ob_digit = 584},
        .bytes_object = {.size = 592, .ob_size = 600, .ob_sval = 608},
        .unicode_object = {.size = 616, .state = 624, .length = 632, .asciiobject_size = 640,
                           .compactunicodeobject_size = position_none},
    },
    .unpublished = {.co_flags = 48, .co_firsttraceable = 192, .owned_by_generator = 1, .first_shim_owner = 3,
                    .executable_tag_bits = 3, .unicode_kind_shift = 2, .unicode_compact_bit = 5,
                    .unicode_ascii_bit = 6,
                    .ht_cached_keys = 880,
                    .co_kwonlyargcount = 60, .cell_ob_ref = 16, .set_used = 24, .set_mask = 32, .set_table = 40,
                    .setentry_key = 0, .setentry_size = 16},
};

// CPython 3.15: the thread state section gains base_frame, the last
// profiled frame, holds_gil, gil_requested and the exception state; type
// objects tp_basicsize and tp_dictoffset; new heap type and error-stack
// sections; unicode publishes sizeof(PyCompactUnicodeObject).
inline constexpr debug_offsets_format debug_offsets_format_3_15 = {
    .name = "3.15",
    .first_version = 0x030F00C1,
    .end_version = 0x03100000,
    .at = {
        .total_size = 888,
        .version = 8,
        .free_threaded = 16,
        .runtime_state = {.size = 24, .interpreters_head = 40},
        .interpreter_state = {.size = 48, .id = 56, .next = 64, .threads_head = 72,
                              .threads_main = 80, .imports_modules = 96, .ceval_gil = 120,
                              .gil_runtime_state = 128,
                              .gil_runtime_state_locked = 144,
                              .gil_runtime_state_holder = 152},
        .thread_state = {.size = 176, .prev = 184, .next = 192, .interp = 200, .current_frame = 208,
                         .thread_id = 240, .native_thread_id = 248},
        .interpreter_frame = {.size = 312, .previous = 320, .executable = 328, .instr_ptr = 336,
                              .localsplus = 344, .owner = 352},
        .code_object = {.size = 376, .filename = 384, .name = 392, .qualname = 400, .linetable = 408,
                        .firstlineno = 416, .argcount = 424, .localsplusnames = 432, .localspluskinds = 440,
                        .co_code_adaptive = 448},
        .pyobject = {.size = 464, .ob_type = 472},
        .type_object = {.size = 480, .tp_name = 488, .tp_flags = 504, .tp_basicsize = 512,
                        .tp_dictoffset = 520},
        .heap_type_object = {.size = 528, .ht_cached_keys = 536},
        .tuple_object = {.size = 544, .ob_item = 552, .ob_size = 560},
        .list_object = {.size = 568, .ob_item = 576},
        .set_object = {.size = 592, .used = 600, .table = 608, .mask = 616},
        .dict_object = {.size = 624, .ma_keys = 632, .ma_values = 640},
        .float_object = {.size = 648, .ob_fval = 656},
        .long_object = {.size = 664, .lv_tag = 672, .ob_digit = 680},
        .bytes_object = {.size = 688, .ob_size = 696, .ob_sval = 704},
        .unicode_object = {.size = 712, .state = 720, .length = 728, .asciiobject_size = 736,
                           .compactunicodeobject_size = 744},
    },
    .unpublished = {.co_flags = 48, .co_firsttraceable = 192, .owned_by_generator = 1, .first_shim_owner = 3,
                    .executable_tag_bits = 3, .unicode_kind_shift = 2, .unicode_compact_bit = 5,
                    .unicode_ascii_bit = 6,
                    .ht_cached_keys = 888,
                    .co_kwonlyargcount = 60, .cell_ob_ref = 16, .set_used = 24, .set_mask = 32, .set_table = 40,
                    .setentry_key = 0, .setentry_size = 16},
};

// Every known format, oldest first.
inline constexpr std::array debug_offsets_formats{debug_offsets_format_3_13, debug_offsets_format_3_14,
                                                  debug_offsets_format_3_15};

// Bytes enough for every known format.
inline constexpr std::size_t debug_offsets_max_size = std::ranges::max(
    debug_offsets_formats, {}, [](const debug_offsets_format& f) { return f.at.total_size; }).at.total_size;

// A layout published by the target.
struct debug_offsets {
    std::uint64_t version_hex = 0;  // PY_VERSION_HEX: 0x030D00F0 is 3.13.0 final
    const debug_offsets_format* format = nullptr;  // the format it was read with
    layout value{};

    [[nodiscard]] int major() const noexcept { return static_cast<int>((version_hex >> 24) & 0xFF); }
    [[nodiscard]] int minor() const noexcept { return static_cast<int>((version_hex >> 16) & 0xFF); }
    [[nodiscard]] int micro() const noexcept { return static_cast<int>((version_hex >> 8) & 0xFF); }
};

namespace detail {

[[nodiscard]] TRIAGE_DECL std::uint64_t debug_offsets_u64(std::span<const std::byte> bytes, debug_position at);

// Collects validation failures as one readable list.
class debug_offsets_checker {
public:
    explicit debug_offsets_checker(std::span<const std::byte> bytes) : bytes_{bytes} {}

    // A struct size in [minimum, maximum].
    std::uint64_t size(std::string_view name, debug_position at, std::uint64_t minimum, std::uint64_t maximum) {
        const std::uint64_t value = debug_offsets_u64(bytes_, at);
        if (value < minimum || value > maximum) complain(name, value);
        return value;
    }

    // A field of `width` bytes that must lie inside a struct of `struct_size`.
    byte_offset field(std::string_view name, debug_position at, std::uint64_t struct_size, std::uint64_t width = 8) {
        const std::uint64_t value = debug_offsets_u64(bytes_, at);
        if (value > struct_size || width > struct_size - value) {  // no wrap-around for huge values
            complain(name, value);
            return offset_none;
        }
        return static_cast<byte_offset>(value);
    }

    // A value every GIL build of CPython has.
    void fixed(std::string_view name, std::uint64_t value, std::uint64_t expected) {
        if (value != expected) complain(name, value);
    }

    // Fields of one struct must not share a place (a misread format would
    // often take one value for another).
    void distinct(std::string_view section, std::initializer_list<byte_offset> fields) {
        std::vector<byte_offset> seen;
        for (byte_offset f : fields) {
            if (!has(f)) continue;
            if (std::ranges::find(seen, f) != seen.end()) complain(std::string(section) + " (two fields at)", f);
            seen.push_back(f);
        }
    }

    void complain(std::string_view name, std::uint64_t value) {
        if (!problems_.empty()) problems_ += ", ";
        problems_ += std::string(name) + "=" + std::to_string(value);
    }

    [[nodiscard]] const std::string& problems() const noexcept { return problems_; }

private:
    std::span<const std::byte> bytes_;
    std::string problems_;
};

[[nodiscard]] TRIAGE_DECL std::string version_text(std::uint64_t version_hex);

[[nodiscard]] TRIAGE_DECL std::string known_formats();

// The layout `bytes` publish when read as `f`, or the values that do not
// validate (empty layout).
struct decoded {
    layout value{};
    std::string problems;
};

[[nodiscard]] TRIAGE_DECL decoded decode_debug_offsets(const debug_offsets_format& format, std::span<const std::byte> bytes,
                                                       std::uint64_t version_hex);

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<debug_offsets> parse_debug_offsets(std::span<const std::byte> bytes);

template <memory::memory_source M>
[[nodiscard]] result<debug_offsets> read_debug_offsets(M& memory, std::uint64_t runtime_address) {
    std::vector<std::byte> bytes(debug_offsets_max_size);
    TRIAGE_TRY(memory::read_exact(memory, runtime_address, bytes));
    auto parsed = parse_debug_offsets(bytes);
    if (!parsed) {
        error e = parsed.error();
        e.context += " at " + hex(runtime_address);
        return fail(std::move(e));
    }
    return parsed;
}

} // namespace triage::cpython

BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::runtime_state, size, interpreters_head);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::interpreter_state, size, id, next, threads_head, threads_main,
                        imports_modules, ceval_gil, gil_runtime_state, gil_runtime_state_locked,
                        gil_runtime_state_holder);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::thread_state, size, prev, next, interp, current_frame,
                        thread_id, native_thread_id);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::interpreter_frame, size, previous, executable, instr_ptr,
                        localsplus, owner);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::code_object, size, filename, name, qualname, linetable,
                        firstlineno, argcount, localsplusnames, localspluskinds, co_code_adaptive);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::pyobject, size, ob_type);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::type_object, size, tp_name, tp_flags, tp_basicsize,
                        tp_dictoffset);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::heap_type_object, size, ht_cached_keys);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::dict_object, size, ma_keys, ma_values);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::long_object, size, lv_tag, ob_digit);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::tuple_object, size, ob_item, ob_size);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::list_object, size, ob_item);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::set_object, size, used, table, mask);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::float_object, size, ob_fval);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::bytes_object, size, ob_size, ob_sval);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::unicode_object, size, state, length, asciiobject_size,
                        compactunicodeobject_size);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::positions, total_size, version, free_threaded, runtime_state,
                        interpreter_state, thread_state, interpreter_frame, code_object, pyobject, type_object,
                        heap_type_object, tuple_object, list_object, set_object, dict_object, float_object,
                        long_object, bytes_object, unicode_object);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::unpublished, co_flags, co_firsttraceable, owned_by_generator,
                        first_shim_owner, executable_tag_bits, unicode_kind_shift, unicode_compact_bit,
                        unicode_ascii_bit, ht_cached_keys, co_kwonlyargcount, cell_ob_ref, set_used, set_mask,
                        set_table, setentry_key, setentry_size);

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/debug_offsets.ipp"
#endif
