// triage/cpython/layouts/v3_6.hpp — the CPython 3.6 layout: offsets and
// sizes a stack walker reads (x86-64 Linux), as `layouts::v3_6`.
//
// 3.6: no _PyRuntime. Interpreters start at the static `interp_head` (in
// .symtab only); the current thread is `_PyThreadState_Current`; the GIL's
// state is in the statics `gil_locked` (int) and `gil_last_holder` (pointer),
// each read at its symbol's address. f_lasti counts bytes; co_lnotab has
// signed line increments (new in 3.6).
// Every offset is checked against the DWARF of a real 3.6 build by
// tests/cpython/layout_law_test.cpp.
// Errors: none (data). Thread-safe and signal-safe: a constant.
// Target process: none touched.
//
//   const triage::cpython::layout& l = triage::cpython::layouts::v3_6;
//   std::uint64_t code = load_u64(frame_bytes + l.frame_object.code);
#pragma once

#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/objects.hpp"

namespace triage::cpython::layouts {

inline constexpr layout v3_6 = {
    .major = 3,
    .minor = 6,
    .free_threaded = false,
    .position = instruction_position::lasti_bytes,
    .runtime = {
        .interpreters_from = interpreter_root::interp_head_symbol,
        .current_thread_from = current_thread_root::thread_state_current_symbol,
        .gil_from = gil_root::static_symbols,
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
        .size = 2272,
        .prev = 0,
        .next = 8,
        .interp = 16,
        .frame = 24,
        .cframe = offset_none,
        .cframe_current_frame = offset_none,
        .current_frame = offset_none,
        .thread_id = 152,
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
        .lines = line_table_format::lnotab_signed,
        .size = 144,
        .flags = 32,
        .firstlineno = 36,
        .filename = 96,
        .name = 104,
        .qualname = offset_none,
        .lnotab = 112,
        .linetable = offset_none,
        .code = 40,
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
        .ht_cached_keys = 856,
        .attributes = attribute_storage::dict_offset,
        .managed_dict = offset_none,
    },
    .bytes = {
        .ob_size = 16,
        .ob_sval = 32,
    },
    .unicode = {
        .length = 16,
        .state = 32,
        .kind_shift = 2,
        .compact_bit = 5,
        .ascii_bit = 6,
        .ready_bit = 7,
        .ascii_data = 48,
        .compact_data = 72,
        .legacy_data = 72,
        .py2_str = offset_none,
        .py2_char_size = 0,
    },
    .dict = dict_3_6,
    .integer = int_3_0,
    .module = module_all,
    .variables = variables_3_6,
    .builtins = builtins_3_0,
};

} // namespace triage::cpython::layouts
