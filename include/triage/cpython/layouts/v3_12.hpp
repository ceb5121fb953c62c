// triage/cpython/layouts/v3_12.hpp — the CPython 3.12 layout: offsets and
// sizes a stack walker reads (x86-64 Linux), as `layouts::v3_12`.
//
// 3.12: the current thread state is a C thread-local (_Py_tss_tstate), so
// the GIL holder comes from interp->ceval.gil->last_holder (with locked).
// Threads are interp->threads.head; _PyCFrame.current_frame is at 0; C-stack
// shim frames (owner FRAME_OWNED_BY_CSTACK) must be skipped. PyASCIIObject
// lost wstr (ascii data at 40).
// Every offset is checked against the DWARF of a real 3.12 build by
// tests/cpython/layout_law_test.cpp.
// Errors: none (data). Thread-safe and signal-safe: a constant.
// Target process: none touched.
//
//   const triage::cpython::layout& l = triage::cpython::layouts::v3_12;
//   std::uint64_t code = load_u64(frame_bytes + l.interpreter_frame.code);
#pragma once

#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/objects.hpp"

namespace triage::cpython::layouts {

inline constexpr layout v3_12 = {
    .major = 3,
    .minor = 12,
    .free_threaded = false,
    .position = instruction_position::pointer,
    .runtime = {
        .interpreters_from = interpreter_root::runtime,
        .current_thread_from = current_thread_root::thread_local_only,
        .gil_from = gil_root::interpreter_pointer,
        .interpreters_head = 40,
        .tstate_current = offset_none,
        .gil = offset_none,
    },
    .interpreter = {
        .next = 0,
        .threads_head = 72,
        .id = 8,
        .gil_pointer = 384,
        .modules = 944,
    },
    .gil = {
        .last_holder = 8,
        .locked = 16,
    },
    .thread = {
        .size = 288,
        .prev = 0,
        .next = 8,
        .interp = 16,
        .frame = offset_none,
        .cframe = 56,
        .cframe_current_frame = 0,
        .current_frame = offset_none,
        .thread_id = 136,
        .native_thread_id = 144,
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
        .size = 200,
        .flags = 48,
        .firstlineno = 68,
        .filename = 112,
        .name = 120,
        .qualname = 128,
        .lnotab = offset_none,
        .linetable = 136,
        .code = offset_none,
        .code_adaptive = 192,
        .firsttraceable = 176,
    },
    .object = {
        .ob_type = 8,
        .ob_size = 16,
        .tp_name = 24,
        .tp_flags = 168,
        .tp_basicsize = 32,
        .tp_dictoffset = 288,
        .ht_cached_keys = 880,
        .attributes = attribute_storage::managed_3_12,
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
    .dict = dict_3_11,
    .integer = int_3_12,
    .module = module_all,
    .variables = variables_3_12,
    .builtins = builtins_3_0,
};

} // namespace triage::cpython::layouts
