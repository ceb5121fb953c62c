// triage/cpython/layouts/v3_7.hpp — the CPython 3.7 layout: offsets and
// sizes a stack walker reads (x86-64 Linux), as `layouts::v3_7`.
//
// 3.7: first version with _PyRuntime (interpreters, gilstate, ceval.gil)
// and PyInterpreterState.id.
// Every offset is checked against the DWARF of a real 3.7 build by
// tests/cpython/layout_law_test.cpp.
// Errors: none (data). Thread-safe and signal-safe: a constant.
// Target process: none touched.
//
//   const triage::cpython::layout& l = triage::cpython::layouts::v3_7;
//   std::uint64_t code = load_u64(frame_bytes + l.frame_object.code);
#pragma once

#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/objects.hpp"

namespace triage::cpython::layouts {

inline constexpr layout v3_7 = {
    .major = 3,
    .minor = 7,
    .free_threaded = false,
    .position = instruction_position::lasti_bytes,
    .runtime = {
        .interpreters_from = interpreter_root::runtime,
        .current_thread_from = current_thread_root::runtime,
        .gil_from = gil_root::runtime,
        .interpreters_head = 24,
        .tstate_current = 1480,
        .gil = 1264,
    },
    .interpreter = {
        .next = 0,
        .threads_head = 8,
        .id = 16,
        .gil_pointer = offset_none,
        .modules = 40,
    },
    .gil = {
        .last_holder = 8,
        .locked = 16,
    },
    .thread = {
        .size = 280,
        .prev = 0,
        .next = 8,
        .interp = 16,
        .frame = 24,
        .cframe = offset_none,
        .cframe_current_frame = offset_none,
        .current_frame = offset_none,
        .thread_id = 176,
        .native_thread_id = offset_none,
    },
    .frame_object = {
        .size = 368,
        .back = 24,
        .code = 32,
        .lasti = 104,
        .lineno = 108,
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
