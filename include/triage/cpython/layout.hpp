// triage/cpython/layout.hpp — what a remote stack walker must know about one
// CPython version's memory layout, as plain data.
//
// Offers:
//  - `layout`: byte offsets and sizes of the few fields of the runtime,
//    interpreter, thread state, frame, code, string and type objects that a
//    walker reads (the default build with the GIL; free-threaded builds
//    are read from _Py_DebugOffsets only), and of the dicts, ints, modules and instances that the
//    thread-name reader follows (thread_names.hpp), for one CPython minor version (x86-64 Linux, the default
//    build with the GIL). Nested plain structs; layout_fields.hpp iterates
//    every field (e.g. to check each against DWARF).
//  - `offset_none`: the value of a field the version does not have;
//    `has(offset)` tests for it. Every offset is relative to the start of the
//    struct named in the field's comment; every size is a sizeof.
//  - enums saying how a version keeps things that are not just offsets:
//    where the interpreter list, the current thread and the GIL live, how a
//    frame's instruction position counts, which line table the code has, how
//    dicts, ints and instance attributes are stored.
//  - the code object's parameter counts and local names, and the tuples,
//    lists, sets, floats and cells that frame_locals.hpp and
//    python_repr.hpp read (`variables`, `builtins`).
//  - symbol names the runtime locator looks up (`symbol_*`), the co_flags
//    bits the walker and the locals reader test, and the co_localspluskinds
//    bits (`co_fast_*`).
// The values live in triage/cpython/layouts/v<major>_<minor>.hpp (one header
// per version) and, for 3.13 and later, can be read from the target itself
// (triage/cpython/debug_offsets.hpp).
// Errors: none (data). Thread-safe and signal-safe: constants only.
// Target process: none touched.
//
//   const triage::cpython::layout& l = triage::cpython::layouts::v3_11;
//   // copy l.thread.size bytes of a PyThreadState, then:
//   std::uint64_t next = load_u64(buffer + l.thread.next);
//   if (triage::cpython::has(l.thread.native_thread_id)) { /* 3.11+ */ }
#pragma once

#include <cstdint>
#include <string_view>


namespace triage::cpython {

// A byte offset (or a size) inside a CPython struct.
using byte_offset = std::uint32_t;

// The version has no such field.
inline constexpr byte_offset offset_none = 0xFFFF'FFFFu;

[[nodiscard]] constexpr bool has(byte_offset offset) noexcept { return offset != offset_none; }

// Symbols the runtime locator looks for (ELF .dynsym or .symtab of libpython
// or of a statically linked python). "static" ones are only in .symtab.
inline constexpr std::string_view symbol_runtime = "_PyRuntime";                          // 3.7+
inline constexpr std::string_view symbol_interp_head = "interp_head";                     // 2.7, 3.6; static
inline constexpr std::string_view symbol_thread_state_current = "_PyThreadState_Current";  // 2.7, 3.6
inline constexpr std::string_view symbol_gil_locked = "gil_locked";                       // 3.2–3.6; static
inline constexpr std::string_view symbol_gil_last_holder = "gil_last_holder";             // 3.2–3.6; static
// 3.10+: _PyRuntime alone in its own section.
inline constexpr std::string_view section_runtime = ".PyRuntime";
// 2.7 builds differ in the width of Py_UNICODE, which no struct says: a UCS4
// build exports PyUnicodeUCS4_* functions, a UCS2 build PyUnicodeUCS2_*.
inline constexpr std::string_view symbol_py2_ucs4_marker = "PyUnicodeUCS4_FromString";
inline constexpr std::string_view symbol_py2_ucs2_marker = "PyUnicodeUCS2_FromString";

// co_flags bits (the same in 2.7 and every 3.x).
inline constexpr std::uint32_t co_flag_optimized = 0x0001;            // locals in fast slots, not a dict
inline constexpr std::uint32_t co_flag_varargs = 0x0004;              // *args
inline constexpr std::uint32_t co_flag_varkeywords = 0x0008;          // **kwargs
inline constexpr std::uint32_t co_flag_generator = 0x0020;
inline constexpr std::uint32_t co_flag_coroutine = 0x0080;            // 3.5+
inline constexpr std::uint32_t co_flag_iterable_coroutine = 0x0100;   // 3.5+
inline constexpr std::uint32_t co_flag_async_generator = 0x0200;      // 3.6+

// tp_flags bit of a type made by a class statement (or type()): only types
// without it are the interpreter's own.
inline constexpr std::uint64_t tp_flag_heap_type = 1u << 9;  // Py_TPFLAGS_HEAPTYPE

// co_localspluskinds bits (3.11+; 3.14 adds argument bits, which the
// parameter counts say as well).
inline constexpr std::uint8_t co_fast_hidden = 0x10;  // 3.12+: a variable of an inlined comprehension
inline constexpr std::uint8_t co_fast_local = 0x20;
inline constexpr std::uint8_t co_fast_cell = 0x40;    // a cell the code makes (MAKE_CELL)
inline constexpr std::uint8_t co_fast_free = 0x80;    // a cell of its closure (COPY_FREE_VARS)

// Where the head of the interpreter list is.
enum class interpreter_root : std::uint8_t {
    interp_head_symbol,  // 2.7, 3.6: the static `interp_head` (needs .symtab)
    runtime,             // 3.7+: _PyRuntime + runtime.interpreters_head
};

// Where the thread state that holds the GIL (the "current" one) is.
enum class current_thread_root : std::uint8_t {
    thread_state_current_symbol,  // 2.7, 3.6: `_PyThreadState_Current` (NULL while nobody holds the GIL)
    runtime,                      // 3.7–3.11: _PyRuntime + runtime.tstate_current (NULL likewise)
    thread_local_only,            // 3.12+: a C thread-local; use the GIL's last_holder instead
};

// Where the GIL state (`struct _gil_runtime_state`: locked, last_holder) is.
enum class gil_root : std::uint8_t {
    none,                  // 2.7: a plain lock; only _PyThreadState_Current tells the holder
    static_symbols,        // 3.6: the statics `gil_locked`, `gil_last_holder` (need .symtab)
    runtime,               // 3.7–3.11: embedded at _PyRuntime + runtime.gil
    interpreter_pointer,   // 3.12+: pointer at PyInterpreterState + interpreter.gil_pointer
};

// What a frame's instruction position counts.
enum class instruction_position : std::uint8_t {
    lasti_bytes,       // 2.7–3.9: PyFrameObject.f_lasti, a byte offset into co_code (-1: not started)
    lasti_code_units,  // 3.10: PyFrameObject.f_lasti in 2-byte code units (byte offset = 2 * f_lasti)
    pointer,           // 3.11+: _PyInterpreterFrame pointer into the code object's co_code_adaptive;
                       // byte offset = pointer - (code object address + code.code_adaptive)
};

// The line table of a code object.
enum class line_table_format : std::uint8_t {
    lnotab_unsigned,  // 2.7: co_lnotab, unsigned line increments
    lnotab_signed,    // 3.6–3.9: co_lnotab, signed line increments
    linetable_310,    // 3.10: co_linetable (byte-delta, line-delta) pairs
    location_table,   // 3.11+: co_linetable, the location table (PEP 657)
};

// _PyRuntimeState (3.7+). Absent on 2.7 and 3.6.
struct runtime_layout {
    interpreter_root interpreters_from;
    current_thread_root current_thread_from;
    gil_root gil_from;
    byte_offset interpreters_head;  // _PyRuntimeState.interpreters.head
    byte_offset tstate_current;     // _PyRuntimeState.gilstate.tstate_current (3.7–3.11)
    byte_offset gil;                // _PyRuntimeState.ceval.gil (3.7–3.11; a struct _gil_runtime_state)

    friend constexpr bool operator==(const runtime_layout&, const runtime_layout&) = default;
};

// PyInterpreterState (struct _is).
struct interpreter_layout {
    byte_offset next;          // _is.next
    byte_offset threads_head;  // _is.tstate_head (≤3.10) / _is.threads.head (3.11+)
    byte_offset id;            // _is.id (3.7+)
    byte_offset gil_pointer;   // _is.ceval.gil (3.12+: struct _gil_runtime_state *)
    byte_offset modules;       // _is.modules (≤3.11) / _is.imports.modules (3.12+): sys.modules, a dict
    byte_offset threads_main = offset_none;  // _is.threads.main, the main thread's state (3.14+: read
                                             // from _Py_DebugOffsets; the walker checks its list reached it)

    friend constexpr bool operator==(const interpreter_layout&, const interpreter_layout&) = default;
};

// struct _gil_runtime_state (3.7+; 3.6 keeps the same two values in statics).
// A thread state holds the GIL when locked == 1 and last_holder is it.
struct gil_layout {
    byte_offset last_holder;  // PyThreadState * of the thread that took the GIL last
    byte_offset locked;       // int: 1 while held, 0 when free, -1 before the GIL exists

    friend constexpr bool operator==(const gil_layout&, const gil_layout&) = default;
};

// PyThreadState (struct _ts).
struct thread_state_layout {
    byte_offset size;                  // sizeof(PyThreadState)
    byte_offset prev;                  // _ts.prev (3.x)
    byte_offset next;                  // _ts.next
    byte_offset interp;                // _ts.interp
    byte_offset frame;                 // _ts.frame: PyFrameObject * (≤3.10)
    byte_offset cframe;                // _ts.cframe: _PyCFrame * (3.11, 3.12; 3.10's CFrame has no frame)
    byte_offset cframe_current_frame;  // _PyCFrame.current_frame: _PyInterpreterFrame * (3.11, 3.12)
    byte_offset current_frame;         // _ts.current_frame: _PyInterpreterFrame * (3.13+)
    byte_offset thread_id;             // _ts.thread_id: pthread_t of the thread
    byte_offset native_thread_id;      // _ts.native_thread_id: the kernel tid (3.11+)

    friend constexpr bool operator==(const thread_state_layout&, const thread_state_layout&) = default;
};

// PyFrameObject (struct _frame), the frame of 2.7–3.10.
struct frame_object_layout {
    byte_offset size;    // sizeof(PyFrameObject) (without the variable part)
    byte_offset back;    // _frame.f_back
    byte_offset code;    // _frame.f_code
    byte_offset lasti;   // _frame.f_lasti (int)
    byte_offset lineno;  // _frame.f_lineno (int; the current line only while tracing)

    friend constexpr bool operator==(const frame_object_layout&, const frame_object_layout&) = default;
};

// struct _PyInterpreterFrame, the frame of 3.11+.
struct interpreter_frame_layout {
    byte_offset size;          // offsetof(_PyInterpreterFrame, localsplus): the fixed part
    byte_offset previous;      // previous
    byte_offset code;          // f_code (3.11, 3.12) / f_executable (3.13+; check it is a code object;
                               // 3.14+: a _PyStackRef, whose low bits are tags)
    byte_offset instr;         // prev_instr (3.11, 3.12: last started) / instr_ptr (3.13+: current)
    byte_offset is_entry;      // is_entry (3.11 only, a bool: the first frame one C call of the eval loop
                               // runs; a real frame; 3.12+ tell it by the shim after it instead)
    byte_offset owner;         // owner (char)
    byte_offset localsplus;    // localsplus
    std::uint8_t owned_by_generator;  // owner value of a generator's or coroutine's frame
    std::uint8_t first_shim_owner;    // owner values from this one up are shims to skip, frames that run
                                      // no Python code: FRAME_OWNED_BY_CSTACK (3.12, 3.13: 3), then
                                      // FRAME_OWNED_BY_INTERPRETER (3.14+: 3; 3.14 has CSTACK = 4 too);
                                      // 0xFF: none. The eval loop pushes one on the C stack per call
                                      // (3.12, 3.13: CSTACK; 3.14, 3.15: INTERPRETER): the Python frame
                                      // whose `previous` it is is that call's entry frame
    std::uint8_t executable_tag_bits; // low bits of `code` that tag a _PyStackRef and are not part of
                                      // the pointer (3.14+: Py_TAG_BITS, 3); 0 before

    friend constexpr bool operator==(const interpreter_frame_layout&, const interpreter_frame_layout&) = default;
};

// PyCodeObject.
struct code_layout {
    line_table_format lines;
    byte_offset size;              // sizeof(PyCodeObject) (3.11+: the fixed part + 1, padded)
    byte_offset flags;             // co_flags (int)
    byte_offset firstlineno;       // co_firstlineno (int)
    byte_offset filename;          // co_filename (str)
    byte_offset name;              // co_name (str)
    byte_offset qualname;          // co_qualname (str, 3.11+)
    byte_offset lnotab;            // co_lnotab (bytes, ≤3.9)
    byte_offset linetable;         // co_linetable (bytes, 3.10+)
    byte_offset code;              // co_code (bytes, ≤3.10)
    byte_offset code_adaptive;     // co_code_adaptive (3.11+: the instructions, inline)
    byte_offset firsttraceable;    // _co_firsttraceable (int, 3.11+: frames before it are incomplete)

    friend constexpr bool operator==(const code_layout&, const code_layout&) = default;
};

// PyCodeObject again: its parameters and the names of its fast locals
// (frame_locals.hpp).
struct code_variables_layout {
    byte_offset argcount;          // co_argcount (int: positional parameters; 3.8+ counts the
                                   // positional-only ones too)
    byte_offset kwonlyargcount;    // co_kwonlyargcount (int, 3.x)
    byte_offset varnames;          // co_varnames (tuple of str, ≤3.10): the fast locals, parameters first
    byte_offset cellvars;          // co_cellvars (tuple of str, ≤3.10): the cells it makes
    byte_offset freevars;          // co_freevars (tuple of str, ≤3.10): the cells its closure brings
    byte_offset localsplusnames;   // co_localsplusnames (tuple of str, 3.11+): one name per localsplus slot
    byte_offset localspluskinds;   // co_localspluskinds (bytes, 3.11+): one CO_FAST_* kind per slot

    friend constexpr bool operator==(const code_variables_layout&, const code_variables_layout&) = default;
};

// Where an instance of a class keeps its attributes.
enum class attribute_storage : std::uint8_t {
    dict_offset,    // 2.7–3.10: a dict at the instance + tp_dictoffset (0: none; < 0: counted from
                    // the end of a variable-size object)
    managed_3_11,   // 3.11, Py_TPFLAGS_MANAGED_DICT: a dict at instance - 24, or values at
                    // instance - 32 whose keys are the type's ht_cached_keys
    managed_3_12,   // 3.12, Py_TPFLAGS_MANAGED_DICT: instance - 24 holds a dict, or the address of
                    // values - 1 (low bit set) whose keys are ht_cached_keys
    inline_values,  // 3.13+: a dict at instance - 24 when materialised, else, with
                    // Py_TPFLAGS_INLINE_VALUES, values at instance + tp_basicsize (valid when
                    // their `valid` byte is set) whose keys are ht_cached_keys
};

// PyObject, PyVarObject, PyTypeObject, PyHeapTypeObject.
struct object_layout {
    byte_offset ob_type;         // PyObject.ob_type
    byte_offset ob_size;         // PyVarObject.ob_size
    byte_offset tp_name;         // PyTypeObject.tp_name (const char *)
    byte_offset tp_flags;        // PyTypeObject.tp_flags (unsigned long)
    byte_offset tp_basicsize;    // PyTypeObject.tp_basicsize (Py_ssize_t)
    byte_offset tp_dictoffset;   // PyTypeObject.tp_dictoffset (Py_ssize_t)
    byte_offset ht_cached_keys;  // PyHeapTypeObject.ht_cached_keys (3.3+; read 3.11+)
    attribute_storage attributes;
    byte_offset managed_dict;    // how many bytes before a managed-dict instance its dict pointer is
                                 // (MANAGED_DICT_OFFSET negated: 24; free-threaded: 8); offset_none ≤3.10

    friend constexpr bool operator==(const object_layout&, const object_layout&) = default;
};

// How a dict stores its items.
enum class dict_format : std::uint8_t {
    open_table,  // 2.7: ma_table, ma_mask + 1 slots of {hash, key, value}; unused slots have no value
    compact,     // 3.6–3.10: ma_keys → PyDictKeysObject: dk_size indices of 1/2/4/8 bytes (by dk_size),
                 // then dk_nentries entries {hash, key, value}; split tables keep values in ma_values
    compact_kinds,  // 3.11+: as compact, with 1 << dk_log2_index_bytes bytes of indices, and entries
                    // {key, value} when dk_kind is unicode (1) or split (2), {hash, key, value} when 0
};

// PyDictObject, PyDictKeysObject, PyDictValues.
struct dict_layout {
    dict_format format;
    byte_offset keys;              // PyDictObject.ma_keys (3.x) / ma_table (2.7)
    byte_offset values;            // PyDictObject.ma_values (3.x: split tables)
    byte_offset mask;              // PyDictObject.ma_mask (2.7)
    byte_offset keys_size;         // PyDictKeysObject.dk_size (3.6–3.10) / dk_log2_size (3.11+, a byte)
    byte_offset keys_index_bytes;  // PyDictKeysObject.dk_log2_index_bytes (3.11+, a byte)
    byte_offset keys_kind;         // PyDictKeysObject.dk_kind (3.11+, a byte)
    byte_offset keys_entries;      // PyDictKeysObject.dk_nentries
    byte_offset keys_indices;      // PyDictKeysObject.dk_indices
    byte_offset values_array;      // PyDictValues.values (3.11+; 3.6–3.10 ma_values is the array: 0)

    friend constexpr bool operator==(const dict_layout&, const dict_layout&) = default;
};

// How an int stores its value.
enum class int_format : std::uint8_t {
    machine_word,  // 2.7 int: PyIntObject.ob_ival, a C long
    signed_size,   // 3.0–3.11: ob_size is the digit count, negative for a negative number
    tagged_size,   // 3.12+: lv_tag = digit count << 3 | sign (0 positive, 1 zero, 2 negative)
};

// PyLongObject (3.x int) / PyIntObject (2.7 int). Digits are 30 bits wide
// (every x86-64 build: PYLONG_BITS_IN_DIGIT).
struct int_layout {
    int_format format;
    byte_offset size;    // PyVarObject.ob_size (3.0–3.11) / _PyLongValue.lv_tag (3.12+)
    byte_offset digits;  // ob_digit (3.x) / PyIntObject.ob_ival (2.7)

    friend constexpr bool operator==(const int_layout&, const int_layout&) = default;
};

// PyModuleObject.
struct module_layout {
    byte_offset dict;  // PyModuleObject.md_dict

    friend constexpr bool operator==(const module_layout&, const module_layout&) = default;
};

// The builtin objects python_repr.hpp shows, and the cells of closures:
// PyTupleObject, PyListObject, PySetObject (set and frozenset) with its
// setentry table, PyFloatObject, PyCellObject.
struct builtin_objects_layout {
    byte_offset tuple_items;    // PyTupleObject.ob_item (the items, inline; 3.14 put ob_hash before them)
    byte_offset list_items;     // PyListObject.ob_item (PyObject **: ob_size items)
    byte_offset set_used;       // PySetObject.used: live keys
    byte_offset set_mask;       // PySetObject.mask: table slots - 1
    byte_offset set_table;      // PySetObject.table (setentry *)
    byte_offset setentry_key;   // setentry.key (3.x {key, hash}; 2.7 {hash, key})
    byte_offset setentry_size;  // sizeof(setentry)
    byte_offset float_value;    // PyFloatObject.ob_fval (a double)
    byte_offset cell_ref;       // PyCellObject.ob_ref (NULL: the variable is unbound)

    friend constexpr bool operator==(const builtin_objects_layout&, const builtin_objects_layout&) = default;
};

// PyBytesObject (3.x) / PyStringObject (2.7 str).
struct bytes_layout {
    byte_offset ob_size;  // ob_size (length in bytes)
    byte_offset ob_sval;  // ob_sval (the bytes, inline, NUL-terminated)

    friend constexpr bool operator==(const bytes_layout&, const bytes_layout&) = default;
};

// PyUnicodeObject: PEP 393 strings (3.3+) or the 2.7 `unicode`.
struct unicode_layout {
    byte_offset length;         // length in code points
    byte_offset state;          // PyASCIIObject.state, a 32-bit bit field (3.x)
    std::uint8_t kind_shift;    // state bits: kind (3 bits: 1 UCS1, 2 UCS2, 4 UCS4)
    std::uint8_t compact_bit;   // state bit: data follows the object
    std::uint8_t ascii_bit;     // state bit: compact and ASCII: data after PyASCIIObject
    std::uint8_t ready_bit;     // state bit: the canonical data exists (3.3–3.11); 0xFF: no such bit
    byte_offset ascii_data;     // sizeof(PyASCIIObject): where compact ASCII data starts
    byte_offset compact_data;   // sizeof(PyCompactUnicodeObject): where other compact data starts
    byte_offset legacy_data;    // PyUnicodeObject.data: pointer to a non-compact string's data
    byte_offset py2_str;        // 2.7: PyUnicodeObject.str (Py_UNICODE *)
    std::uint8_t py2_char_size; // 2.7: sizeof(Py_UNICODE), 2 or 4 by build; 0 on 3.x

    friend constexpr bool operator==(const unicode_layout&, const unicode_layout&) = default;
};

// Everything a walker needs for one version.
struct layout {
    std::uint8_t major;
    std::uint8_t minor;
    bool free_threaded;                          // a free-threaded build (3.13t+: Py_GIL_DISABLED): another
                                                 // object header, and a GIL only when re-enabled
    instruction_position position;               // how a frame says where it is
    runtime_layout runtime;
    interpreter_layout interpreter;
    gil_layout gil;
    thread_state_layout thread;
    frame_object_layout frame_object;            // all offset_none on 3.11+
    interpreter_frame_layout interpreter_frame;  // all fields offset_none on ≤3.10
    code_layout code;
    object_layout object;
    bytes_layout bytes;
    unicode_layout unicode;
    dict_layout dict;
    int_layout integer;
    module_layout module;
    code_variables_layout variables;
    builtin_objects_layout builtins;

    friend constexpr bool operator==(const layout&, const layout&) = default;
};

// True when the version's frames are _PyInterpreterFrame (3.11+).
[[nodiscard]] constexpr bool uses_interpreter_frames(const layout& l) noexcept {
    return has(l.interpreter_frame.previous);
}

} // namespace triage::cpython
