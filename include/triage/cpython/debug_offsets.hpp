// triage/cpython/debug_offsets.hpp — a layout read from the target itself:
// the `_Py_DebugOffsets` that CPython 3.13+ keeps at the start of _PyRuntime.
//
// Why: the target's own offsets are right for any 3.13.x, whatever its
// patch level or build options (a debug build, other configure flags), where
// a compiled-in header can only be right for the builds it was checked on.
// What it cannot do: read a version whose _Py_DebugOffsets has another
// format. CPython changed the struct in 3.13's release candidates, in 3.14
// and in 3.15's betas, and changed frame semantics along with it, so a
// format is described per version (as data, below) and others are refused.
//
// Offers:
//  - `debug_offsets_cookie` ("xdebugpy") and `debug_offsets_format`: where
//    each value sits inside the struct, one nested struct per section of it
//    (adapted with Boost.Hana so a test checks every position against
//    DWARF); `debug_offsets_format_3_13`, used by 3.13.0rc2 to 3.13.x.
//  - `parse_debug_offsets(bytes)`: validates and decodes the struct into a
//    `debug_offsets` {version_hex, layout}. The layout starts as the nearest
//    known layout (layouts::v3_13) and every value the target publishes
//    replaces the header's. Published: runtime interpreters.head;
//    interpreter next, threads.head, id, ceval.gil, and _gil's
//    locked/last_holder (made relative to the GIL struct); thread state
//    size, prev, next, interp, current_frame, thread_id, native_thread_id;
//    interpreter frame previous, f_executable, instr_ptr, owner, localsplus
//    (also the frame's fixed size); code object size, filename, name,
//    qualname, linetable, firstlineno, co_code_adaptive; ob_type; PyVarObject
//    ob_size (from the tuple section); tp_name, tp_flags; bytes ob_size,
//    ob_sval; unicode state, length, sizeof(PyASCIIObject) (compact ASCII
//    data) and sizeof(PyUnicodeObject) - 8 (compact data and the legacy data
//    pointer: PyUnicodeObject is PyCompactUnicodeObject plus one pointer).
//    Taken from the nearest layout (not published): where the current thread
//    and the GIL are found, the instruction position and line table kinds,
//    co_flags, _co_firsttraceable, the frame-owner values, the unicode state
//    bit positions.
//  - `read_debug_offsets(memory, runtime_address)`: the same from any
//    memory_source (reads debug_offsets_format_3_13.total_size bytes at the
//    start of _PyRuntime).
// Errors: errc::truncated (fewer bytes than the struct); errc::malformed (no
// cookie, a version that cannot have debug offsets, values that fail
// validation: sizes out of range, a field past its struct, an object header
// that is not CPython's — garbage or a corrupted runtime); errc::unsupported
// (a version outside 3.13.0rc2–3.13.x, or a free-threaded build, whose
// object header differs); read_debug_offsets adds the memory source's errors
// and the address to the context.
// Thread-safe: yes (values only). Signal-safe: parse yes, errors allocate.
// Target process: reads 584 bytes; never stops or writes it.
//
//   auto found = TRIAGE_TRY(triage::cpython::read_debug_offsets(mem, runtime_address));
//   // found.major() == 3, found.minor() == 13; found.value is a triage::cpython::layout
//   std::uint64_t head = runtime_address + found.value.runtime.interpreters_head;
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/adapt_struct.hpp>

#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/v3_13.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

inline constexpr std::string_view debug_offsets_cookie = "xdebugpy";

// Byte positions of the 64-bit values inside _Py_DebugOffsets (every field
// of it is a uint64_t), one struct per section of it, named as CPython names
// them, so `interpreter_state.threads_head` is the position of
// _Py_DebugOffsets.interpreter_state.threads_head.
namespace debug_format {
struct runtime_state {
    std::uint32_t size;
    std::uint32_t interpreters_head;
};
struct interpreter_state {
    std::uint32_t size;
    std::uint32_t id;
    std::uint32_t next;
    std::uint32_t threads_head;
    std::uint32_t ceval_gil;
    std::uint32_t gil_runtime_state;
    std::uint32_t gil_runtime_state_locked;
    std::uint32_t gil_runtime_state_holder;
};
struct thread_state {
    std::uint32_t size;
    std::uint32_t prev;
    std::uint32_t next;
    std::uint32_t interp;
    std::uint32_t current_frame;
    std::uint32_t thread_id;
    std::uint32_t native_thread_id;
};
struct interpreter_frame {
    std::uint32_t size;
    std::uint32_t previous;
    std::uint32_t executable;
    std::uint32_t instr_ptr;
    std::uint32_t localsplus;
    std::uint32_t owner;
};
struct code_object {
    std::uint32_t size;
    std::uint32_t filename;
    std::uint32_t name;
    std::uint32_t qualname;
    std::uint32_t linetable;
    std::uint32_t firstlineno;
    std::uint32_t co_code_adaptive;
};
struct pyobject {
    std::uint32_t size;
    std::uint32_t ob_type;
};
struct type_object {
    std::uint32_t size;
    std::uint32_t tp_name;
    std::uint32_t tp_flags;
};
struct tuple_object {
    std::uint32_t size;
    std::uint32_t ob_size;
};
struct bytes_object {
    std::uint32_t size;
    std::uint32_t ob_size;
    std::uint32_t ob_sval;
};
struct unicode_object {
    std::uint32_t size;
    std::uint32_t state;
    std::uint32_t length;
    std::uint32_t asciiobject_size;
};
} // namespace debug_format

struct debug_offsets_format {
    std::uint32_t total_size;  // sizeof(_Py_DebugOffsets)
    std::uint32_t version;
    std::uint32_t free_threaded;
    debug_format::runtime_state runtime_state;
    debug_format::interpreter_state interpreter_state;
    debug_format::thread_state thread_state;
    debug_format::interpreter_frame interpreter_frame;
    debug_format::code_object code_object;
    debug_format::pyobject pyobject;
    debug_format::type_object type_object;
    debug_format::tuple_object tuple_object;
    debug_format::bytes_object bytes_object;
    debug_format::unicode_object unicode_object;
};

// The struct as CPython 3.13 defines it (Include/internal/pycore_runtime.h).
inline constexpr debug_offsets_format debug_offsets_format_3_13 = {
    .total_size = 584,
    .version = 8,
    .free_threaded = 16,
    .runtime_state =
        {
            .size = 24,
            .interpreters_head = 40,
        },
    .interpreter_state =
        {
            .size = 48,
            .id = 56,
            .next = 64,
            .threads_head = 72,
            .ceval_gil = 112,
            .gil_runtime_state = 120,
            .gil_runtime_state_locked = 136,
            .gil_runtime_state_holder = 144,
        },
    .thread_state =
        {
            .size = 152,
            .prev = 160,
            .next = 168,
            .interp = 176,
            .current_frame = 184,
            .thread_id = 192,
            .native_thread_id = 200,
        },
    .interpreter_frame =
        {
            .size = 224,
            .previous = 232,
            .executable = 240,
            .instr_ptr = 248,
            .localsplus = 256,
            .owner = 264,
        },
    .code_object =
        {
            .size = 272,
            .filename = 280,
            .name = 288,
            .qualname = 296,
            .linetable = 304,
            .firstlineno = 312,
            .co_code_adaptive = 344,
        },
    .pyobject =
        {
            .size = 352,
            .ob_type = 360,
        },
    .type_object =
        {
            .size = 368,
            .tp_name = 376,
            .tp_flags = 392,
        },
    .tuple_object =
        {
            .size = 400,
            .ob_size = 416,
        },
    .bytes_object =
        {
            .size = 512,
            .ob_size = 520,
            .ob_sval = 528,
        },
    .unicode_object =
        {
            .size = 536,
            .state = 544,
            .length = 552,
            .asciiobject_size = 560,
        },
};

// The versions that use this format: 3.13.0rc2 (which added fields to the
// struct of 3.13.0b1–rc1) up to, not including, 3.14.0a0 (3.14 inserts
// fields, and its frames hold tagged _PyStackRef values and renumber the
// frame owners: a new format and new semantics, not just new offsets).
inline constexpr std::uint64_t debug_offsets_first_version = 0x030D00C2;  // 3.13.0rc2
inline constexpr std::uint64_t debug_offsets_end_version = 0x030E0000;    // 3.14.0a0

// A layout published by the target.
struct debug_offsets {
    std::uint64_t version_hex = 0;  // PY_VERSION_HEX: 0x030D00F0 is 3.13.0 final
    layout value{};

    [[nodiscard]] int major() const noexcept { return static_cast<int>((version_hex >> 24) & 0xFF); }
    [[nodiscard]] int minor() const noexcept { return static_cast<int>((version_hex >> 16) & 0xFF); }
    [[nodiscard]] int micro() const noexcept { return static_cast<int>((version_hex >> 8) & 0xFF); }
};

namespace detail {

[[nodiscard]] inline std::uint64_t debug_offsets_u64(std::span<const std::byte> bytes, std::uint32_t at) {
    std::uint64_t value = 0;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;
}

// Collects validation failures as one readable list.
class debug_offsets_checker {
public:
    explicit debug_offsets_checker(std::span<const std::byte> bytes) : bytes_{bytes} {}

    // A struct size in [minimum, maximum].
    std::uint64_t size(std::string_view name, std::uint32_t at, std::uint64_t minimum, std::uint64_t maximum) {
        const std::uint64_t value = debug_offsets_u64(bytes_, at);
        if (value < minimum || value > maximum) complain(name, value);
        return value;
    }

    // A field of `width` bytes that must lie inside a struct of `struct_size`.
    byte_offset field(std::string_view name, std::uint32_t at, std::uint64_t struct_size, std::uint64_t width = 8) {
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

    void complain(std::string_view name, std::uint64_t value) {
        if (!problems_.empty()) problems_ += ", ";
        problems_ += std::string(name) + "=" + std::to_string(value);
    }

    [[nodiscard]] const std::string& problems() const noexcept { return problems_; }

private:
    std::span<const std::byte> bytes_;
    std::string problems_;
};

} // namespace detail

[[nodiscard]] inline result<debug_offsets> parse_debug_offsets(std::span<const std::byte> bytes) {
    const debug_offsets_format& f = debug_offsets_format_3_13;
    if (bytes.size() < f.total_size) {
        return fail(errc::truncated, "reading _Py_DebugOffsets (" + std::to_string(bytes.size()) + " of " +
                                         std::to_string(f.total_size) + " bytes)");
    }
    if (std::memcmp(bytes.data(), debug_offsets_cookie.data(), debug_offsets_cookie.size()) != 0) {
        return fail(errc::malformed, "reading _Py_DebugOffsets (no \"xdebugpy\" cookie)",
                    "only CPython 3.13 and later publish debug offsets at the start of _PyRuntime");
    }
    debug_offsets out;
    out.version_hex = detail::debug_offsets_u64(bytes, f.version);
    const std::string context = "reading _Py_DebugOffsets of Python " + std::to_string(out.major()) + "." +
                                std::to_string(out.minor()) + "." + std::to_string(out.micro());
    if (out.major() != 3 || out.minor() < 13 || (out.version_hex >> 32) != 0) {
        return fail(errc::malformed, "reading _Py_DebugOffsets (version " + hex(out.version_hex) + ")");
    }
    if (out.version_hex < debug_offsets_first_version || out.version_hex >= debug_offsets_end_version) {
        return fail(
            errc::unsupported, context + " (version " + hex(out.version_hex) + ")",
            "this _Py_DebugOffsets format is 3.13's (3.13.0rc2 to 3.13.x); other versions lay it out differently");
    }
    if (detail::debug_offsets_u64(bytes, f.free_threaded) != 0) {
        return fail(errc::unsupported, context, "a free-threaded build (python3.13t): its objects have another header");
    }

    detail::debug_offsets_checker check{bytes};
    constexpr std::uint64_t mib = 1024 * 1024;
    // Sizes are generous bounds; the fixed values below pin the format.
    const auto runtime_size = check.size("runtime_state.size", f.runtime_state.size, 64, 64 * mib);
    const auto interp_size = check.size("interpreter_state.size", f.interpreter_state.size, 64, 64 * mib);
    const auto thread_size = check.size("thread_state.size", f.thread_state.size, 64, 64 * 1024);
    const auto frame_size = check.size("interpreter_frame.size", f.interpreter_frame.size, 16, 4096);
    const auto code_size = check.size("code_object.size", f.code_object.size, 64, 4096);
    const auto object_size = check.size("pyobject.size", f.pyobject.size, 16, 16);
    const auto type_size = check.size("type_object.size", f.type_object.size, 64, 4096);
    const auto tuple_size = check.size("tuple_object.size", f.tuple_object.size, 24, 4096);
    const auto bytes_size = check.size("bytes_object.size", f.bytes_object.size, 24, 4096);
    const auto unicode_size = check.size("unicode_object.size", f.unicode_object.size, 32, 4096);

    layout l = layouts::v3_13;
    l.major = static_cast<std::uint8_t>(out.major());
    l.minor = static_cast<std::uint8_t>(out.minor());
    l.runtime.interpreters_head =
        check.field("runtime_state.interpreters_head", f.runtime_state.interpreters_head, runtime_size);

    l.interpreter.next = check.field("interpreter_state.next", f.interpreter_state.next, interp_size);
    l.interpreter.threads_head =
        check.field("interpreter_state.threads_head", f.interpreter_state.threads_head, interp_size);
    l.interpreter.id = check.field("interpreter_state.id", f.interpreter_state.id, interp_size);
    l.interpreter.gil_pointer = check.field("interpreter_state.ceval_gil", f.interpreter_state.ceval_gil, interp_size);
    const byte_offset gil =
        check.field("interpreter_state.gil_runtime_state", f.interpreter_state.gil_runtime_state, interp_size);
    const byte_offset locked = check.field("interpreter_state.gil_runtime_state_locked",
                                           f.interpreter_state.gil_runtime_state_locked, interp_size, 4);
    const byte_offset holder = check.field("interpreter_state.gil_runtime_state_holder",
                                           f.interpreter_state.gil_runtime_state_holder, interp_size);
    if (has(gil) && has(locked) && has(holder)) {
        if (locked < gil || holder < gil) check.complain("interpreter_state.gil_runtime_state", gil);
        l.gil.locked = locked - gil;
        l.gil.last_holder = holder - gil;
    }

    l.thread.size = static_cast<byte_offset>(thread_size);
    l.thread.prev = check.field("thread_state.prev", f.thread_state.prev, thread_size);
    l.thread.next = check.field("thread_state.next", f.thread_state.next, thread_size);
    l.thread.interp = check.field("thread_state.interp", f.thread_state.interp, thread_size);
    l.thread.current_frame = check.field("thread_state.current_frame", f.thread_state.current_frame, thread_size);
    l.thread.thread_id = check.field("thread_state.thread_id", f.thread_state.thread_id, thread_size);
    l.thread.native_thread_id =
        check.field("thread_state.native_thread_id", f.thread_state.native_thread_id, thread_size);

    l.interpreter_frame.previous = check.field("interpreter_frame.previous", f.interpreter_frame.previous, frame_size);
    l.interpreter_frame.code = check.field("interpreter_frame.executable", f.interpreter_frame.executable, frame_size);
    l.interpreter_frame.instr = check.field("interpreter_frame.instr_ptr", f.interpreter_frame.instr_ptr, frame_size);
    l.interpreter_frame.owner = check.field("interpreter_frame.owner", f.interpreter_frame.owner, frame_size, 1);
    l.interpreter_frame.localsplus =
        check.field("interpreter_frame.localsplus", f.interpreter_frame.localsplus, frame_size);
    l.interpreter_frame.size = l.interpreter_frame.localsplus;

    l.code.size = static_cast<byte_offset>(code_size);
    l.code.filename = check.field("code_object.filename", f.code_object.filename, code_size);
    l.code.name = check.field("code_object.name", f.code_object.name, code_size);
    l.code.qualname = check.field("code_object.qualname", f.code_object.qualname, code_size);
    l.code.linetable = check.field("code_object.linetable", f.code_object.linetable, code_size);
    l.code.firstlineno = check.field("code_object.firstlineno", f.code_object.firstlineno, code_size, 4);
    l.code.code_adaptive = check.field("code_object.co_code_adaptive", f.code_object.co_code_adaptive, code_size, 1);

    // The object header of every GIL build: refcount, type, then ob_size.
    l.object.ob_type = check.field("pyobject.ob_type", f.pyobject.ob_type, object_size);
    check.fixed("pyobject.ob_type", l.object.ob_type, 8);
    l.object.ob_size = check.field("tuple_object.ob_size", f.tuple_object.ob_size, tuple_size);
    check.fixed("tuple_object.ob_size", l.object.ob_size, 16);
    l.object.tp_name = check.field("type_object.tp_name", f.type_object.tp_name, type_size);
    check.fixed("type_object.tp_name", l.object.tp_name, 24);
    l.object.tp_flags = check.field("type_object.tp_flags", f.type_object.tp_flags, type_size);

    l.bytes.ob_size = check.field("bytes_object.ob_size", f.bytes_object.ob_size, bytes_size);
    check.fixed("bytes_object.ob_size", l.bytes.ob_size, 16);
    l.bytes.ob_sval = check.field("bytes_object.ob_sval", f.bytes_object.ob_sval, bytes_size, 1);

    l.unicode.length = check.field("unicode_object.length", f.unicode_object.length, unicode_size);
    l.unicode.state = check.field("unicode_object.state", f.unicode_object.state, unicode_size, 4);
    l.unicode.ascii_data = check.field("unicode_object.asciiobject_size", f.unicode_object.asciiobject_size,
                                       unicode_size - 8, 0);
    l.unicode.compact_data = static_cast<byte_offset>(unicode_size - 8);
    l.unicode.legacy_data = static_cast<byte_offset>(unicode_size - 8);

    if (!check.problems().empty()) {
        return fail(errc::malformed, context + " (implausible values: " + check.problems() + ")",
                    "a CPython whose _Py_DebugOffsets format differs from 3.13's needs a new format description");
    }
    out.value = l;
    return out;
}

template <memory::memory_source M>
[[nodiscard]] result<debug_offsets> read_debug_offsets(M& memory, std::uint64_t runtime_address) {
    std::vector<std::byte> bytes(debug_offsets_format_3_13.total_size);
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
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::interpreter_state, size, id, next, threads_head, ceval_gil,
                        gil_runtime_state, gil_runtime_state_locked, gil_runtime_state_holder);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::thread_state, size, prev, next, interp, current_frame,
                        thread_id, native_thread_id);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::interpreter_frame, size, previous, executable, instr_ptr,
                        localsplus, owner);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::code_object, size, filename, name, qualname, linetable,
                        firstlineno, co_code_adaptive);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::pyobject, size, ob_type);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::type_object, size, tp_name, tp_flags);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::tuple_object, size, ob_size);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::bytes_object, size, ob_size, ob_sval);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_format::unicode_object, size, state, length, asciiobject_size);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::debug_offsets_format, total_size, version, free_threaded, runtime_state,
                        interpreter_state, thread_state, interpreter_frame, code_object, pyobject, type_object,
                        tuple_object, bytes_object, unicode_object);
