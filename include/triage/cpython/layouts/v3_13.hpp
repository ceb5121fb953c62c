// triage/cpython/layouts/v3_13.hpp — the CPython 3.13 layout: offsets and
// sizes a stack walker reads (x86-64 Linux), as `layouts::v3_13`.
//
// 3.13: PyThreadState.current_frame (no more cframe); f_executable and
// instr_ptr (the current instruction) replace f_code and prev_instr.
// _PyRuntime starts with _Py_DebugOffsets (see debug_offsets.hpp), which
// publishes most of these values; this header is the default (GIL) build: the
// free-threaded build (3.13t) has another object header: it is read from its
// _Py_DebugOffsets only.
// Every offset is checked against the DWARF of a real 3.13 build by
// tests/cpython/layout_law_test.cpp.
// Errors: none (data). Thread-safe and signal-safe: a constant.
// Target process: none touched.
//
//   const triage::cpython::layout& l = triage::cpython::layouts::v3_13;
//   std::uint64_t code = load_u64(frame_bytes + l.interpreter_frame.code);
#pragma once

#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/objects.hpp"

namespace triage::cpython::layouts {

inline constexpr layout v3_13 = {
    .major = 3,
    .minor = 13,
    .free_threaded = false,
    .position = instruction_position::pointer,
    .runtime = {
        .interpreters_from = interpreter_root::runtime,
        .current_thread_from = current_thread_root::thread_local_only,
        .gil_from = gil_root::interpreter_pointer,
        .interpreters_head = 632,
        .tstate_current = offset_none,
        .gil = offset_none,
    },
    .interpreter = {
        .next = 7264,
        .threads_head = 7344,
        .id = 7272,
        .gil_pointer = 16,
        .modules = 7656,
    },
    .gil = {
        .last_holder = 8,
        .locked = 16,
    },
    .thread = {
        .size = 304,
        .prev = 0,
        .next = 8,
        .interp = 16,
        .frame = offset_none,
        .cframe = offset_none,
        .cframe_current_frame = offset_none,
        .current_frame = 72,
        .thread_id = 152,
        .native_thread_id = 160,
    },
    .frame_object = {
        .size = offset_none,
        .back = offset_none,
        .code = offset_none,
        .lasti = offset_none,
        .lineno = offset_none,
    },
    .interpreter_frame = {
        .size = 72,
        .previous = 8,
        .code = 0,
        .instr = 56,
        .is_entry = offset_none,
        .owner = 70,
        .localsplus = 72,
        .owned_by_generator = 1,
        .first_shim_owner = 3,
        .executable_tag_bits = 0,
    },
    .code = {
        .lines = line_table_format::location_table,
        .size = 208,
        .flags = 48,
        .firstlineno = 68,
        .filename = 112,
        .name = 120,
        .qualname = 128,
        .lnotab = offset_none,
        .linetable = 136,
        .code = offset_none,
        .code_adaptive = 200,
        .firsttraceable = 184,
    },
    .object = {
        .ob_type = 8,
        .ob_size = 16,
        .tp_name = 24,
        .tp_flags = 168,
        .tp_basicsize = 32,
        .tp_dictoffset = 288,
        .ht_cached_keys = 880,
        .attributes = attribute_storage::inline_values,
        .managed_dict = 24,
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
        .ready_bit = 0xFF,
        .ascii_data = 40,
        .compact_data = 56,
        .legacy_data = 56,
        .py2_str = offset_none,
        .py2_char_size = 0,
    },
    .dict = dict_3_13,
    .integer = int_3_12,
    .module = module_all,
    .variables = variables_3_12,
    .builtins = builtins_3_0,
};

} // namespace triage::cpython::layouts
