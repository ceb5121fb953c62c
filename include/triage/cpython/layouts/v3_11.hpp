// triage/cpython/layouts/v3_11.hpp — the CPython 3.11 layout: offsets and
// sizes a stack walker reads (x86-64 Linux), as `layouts::v3_11`.
//
// 3.11: frames are _PyInterpreterFrame, reached through
// PyThreadState.cframe->current_frame; the instruction position is prev_instr,
// a pointer into the code object's inline co_code_adaptive. is_entry marks the
// first frame of a C-level call into the interpreter (a real Python frame, not
// a shim). Frames before _co_firsttraceable are incomplete (Python's own
// tracebacks skip them). Debian's 3.11.2 and pyenv's 3.11.7 agree on every
// offset here (checked against python3.11-dbg's DWARF).
// Every offset is checked against the DWARF of a real 3.11 build by
// tests/cpython/layout_law_test.cpp.
// Errors: none (data). Thread-safe and signal-safe: a constant.
// Target process: none touched.
//
//   const triage::cpython::layout& l = triage::cpython::layouts::v3_11;
//   std::uint64_t code = load_u64(frame_bytes + l.interpreter_frame.code);
#pragma once

#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/objects.hpp"

namespace triage::cpython::layouts {

inline constexpr layout v3_11 = {
    .major = 3,
    .minor = 11,
    .free_threaded = false,
    .position = instruction_position::pointer,
    .runtime = {
        .interpreters_from = interpreter_root::runtime,
        .current_thread_from = current_thread_root::runtime,
        .gil_from = gil_root::runtime,
        .interpreters_head = 40,
        .tstate_current = 576,
        .gil = 360,
    },
    .interpreter = {
        .next = 0,
        .threads_head = 16,
        .id = 48,
        .gil_pointer = offset_none,
        .modules = 888,
    },
    .gil = {
        .last_holder = 8,
        .locked = 16,
    },
    .thread = {
        .size = 360,
        .prev = 0,
        .next = 8,
        .interp = 16,
        .frame = offset_none,
        .cframe = 56,
        .cframe_current_frame = 8,
        .current_frame = offset_none,
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
        .previous = 48,
        .code = 32,
        .instr = 56,
        .is_entry = 68,
        .owner = 69,
        .localsplus = 72,
        .owned_by_generator = 1,
        .first_shim_owner = 0xFF,
        .executable_tag_bits = 0,
    },
    .code = {
        .lines = line_table_format::location_table,
        .size = 192,
        .flags = 48,
        .firstlineno = 72,
        .filename = 112,
        .name = 120,
        .qualname = 128,
        .lnotab = offset_none,
        .linetable = 136,
        .code = offset_none,
        .code_adaptive = 184,
        .firsttraceable = 168,
    },
    .object = {
        .ob_type = 8,
        .ob_size = 16,
        .tp_name = 24,
        .tp_flags = 168,
        .tp_basicsize = 32,
        .tp_dictoffset = 288,
        .ht_cached_keys = 872,
        .attributes = attribute_storage::managed_3_11,
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
        .ready_bit = 7,
        .ascii_data = 48,
        .compact_data = 72,
        .legacy_data = 72,
        .py2_str = offset_none,
        .py2_char_size = 0,
    },
    .dict = dict_3_11,
    .integer = int_3_0,
    .module = module_all,
    .variables = variables_3_11,
    .builtins = builtins_3_0,
};

} // namespace triage::cpython::layouts
