// triage/cpython/layouts/v2_7.hpp — the CPython 2.7 layout: offsets and
// sizes a stack walker reads (x86-64 Linux), as `layouts::v2_7`.
//
// 2.7: no _PyRuntime. Interpreters start at the static `interp_head` (in
// .symtab only); the GIL is a plain lock and `_PyThreadState_Current` (NULL
// while nobody holds it) is the only holder. f_lasti counts bytes; co_lnotab
// has unsigned line increments. `str` is PyStringObject; `unicode` keeps a
// Py_UNICODE * whose width is a build option: `v2_7` is the UCS4 build (Linux
// distributions, pyenv), `v2_7_ucs2` the UCS2 one (CPython's configure default);
// tell them apart by the exported PyUnicodeUCS4_* / PyUnicodeUCS2_* functions.
// Every offset is checked against the DWARF of a real 2.7 build by
// tests/cpython/layout_law_test.cpp.
// Errors: none (data). Thread-safe and signal-safe: a constant.
// Target process: none touched.
//
//   const triage::cpython::layout& l = triage::cpython::layouts::v2_7;
//   std::uint64_t code = load_u64(frame_bytes + l.frame_object.code);
#pragma once

#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/objects.hpp"

namespace triage::cpython::layouts {

inline constexpr layout v2_7 = {
    .major = 2,
    .minor = 7,
    .free_threaded = false,
    .position = instruction_position::lasti_bytes,
    .runtime = {
        .interpreters_from = interpreter_root::interp_head_symbol,
        .current_thread_from = current_thread_root::thread_state_current_symbol,
        .gil_from = gil_root::none,
        .interpreters_head = offset_none,
        .tstate_current = offset_none,
        .gil = offset_none,
    },
    .interpreter = {
        .next = 0,
        .threads_head = 8,
        .id = offset_none,
        .gil_pointer = offset_none,
        .modules = 16,
    },
    .gil = {
        .last_holder = offset_none,
        .locked = offset_none,
    },
    .thread = {
        .size = 168,
        .prev = offset_none,
        .next = 0,
        .interp = 8,
        .frame = 16,
        .cframe = offset_none,
        .cframe_current_frame = offset_none,
        .current_frame = offset_none,
        .thread_id = 144,
        .native_thread_id = offset_none,
    },
    .frame_object = {
        .size = 384,
        .back = 24,
        .code = 32,
        .lasti = 120,
        .lineno = 124,
    },
    .interpreter_frame = {
        .size = offset_none,
        .previous = offset_none,
        .code = offset_none,
        .instr = offset_none,
        .is_entry = offset_none,
        .owner = offset_none,
        .localsplus = offset_none,
        .owned_by_generator = 0xFF,
        .first_shim_owner = 0xFF,
        .executable_tag_bits = 0,
    },
    .code = {
        .lines = line_table_format::lnotab_unsigned,
        .size = 128,
        .flags = 28,
        .firstlineno = 96,
        .filename = 80,
        .name = 88,
        .qualname = offset_none,
        .lnotab = 104,
        .linetable = offset_none,
        .code = 32,
        .code_adaptive = offset_none,
        .firsttraceable = offset_none,
    },
    .object = {
        .ob_type = 8,
        .ob_size = 16,
        .tp_name = 24,
        .tp_flags = 168,
        .tp_basicsize = 32,
        .tp_dictoffset = 288,
        .ht_cached_keys = offset_none,
        .attributes = attribute_storage::dict_offset,
        .managed_dict = offset_none,
    },
    .bytes = {
        .ob_size = 16,
        .ob_sval = 36,
    },
    .unicode = {
        .length = 16,
        .state = offset_none,
        .kind_shift = 0,
        .compact_bit = 0,
        .ascii_bit = 0,
        .ready_bit = 0xFF,
        .ascii_data = offset_none,
        .compact_data = offset_none,
        .legacy_data = offset_none,
        .py2_str = 24,
        .py2_char_size = 4,
    },
    .dict = dict_2_7,
    .integer = int_2_7,
    .module = module_all,
    .variables = variables_2_7,
    .builtins = builtins_2_7,
};

// The UCS2 build of 2.7: the same structs, 2-byte Py_UNICODE.
inline constexpr layout v2_7_ucs2 = [] {
    layout l = v2_7;
    l.unicode.py2_char_size = 2;
    return l;
}();

} // namespace triage::cpython::layouts
