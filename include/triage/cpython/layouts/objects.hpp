// triage/cpython/layouts/objects.hpp — the dict, int and module layouts
// that several CPython versions share, as named constants the per-version
// headers (and debug_offsets.hpp, for what _Py_DebugOffsets does not
// publish) use: `dict_2_7`, `dict_3_6` (3.6–3.10), `dict_3_11` (3.11,
// 3.12), `dict_3_13` (3.13+); `int_2_7`, `int_3_0` (3.0–3.11), `int_3_12`
// (3.12+); `module_all`; the code object's variables `variables_2_7`,
// `variables_3_6` (3.6, 3.7), `variables_3_8` (3.8–3.10), `variables_3_11`,
// `variables_3_12` (3.12+); `builtins_2_7`, `builtins_3_0` (3.0–3.13;
// 3.14 moved the tuple's items: read from _Py_DebugOffsets).
// Every value is checked against each interpreter's DWARF by
// tests/cpython/layout_law_test.cpp, through the layouts that use it.
// Errors: none (data). Thread-safe and signal-safe: constants.
// Target process: none touched.
//
//   const triage::cpython::dict_layout& d = triage::cpython::layouts::dict_3_11;
#pragma once

#include "triage/cpython/layout.hpp"

namespace triage::cpython::layouts {

inline constexpr dict_layout dict_2_7 = {
    .format = dict_format::open_table,
    .keys = 40,
    .values = offset_none,
    .mask = 32,
    .keys_size = offset_none,
    .keys_index_bytes = offset_none,
    .keys_kind = offset_none,
    .keys_entries = offset_none,
    .keys_indices = offset_none,
    .values_array = offset_none,
};

inline constexpr dict_layout dict_3_6 = {
    .format = dict_format::compact,
    .keys = 32,
    .values = 40,
    .mask = offset_none,
    .keys_size = 8,
    .keys_index_bytes = offset_none,
    .keys_kind = offset_none,
    .keys_entries = 32,
    .keys_indices = 40,
    .values_array = 0,
};

inline constexpr dict_layout dict_3_11 = {
    .format = dict_format::compact_kinds,
    .keys = 32,
    .values = 40,
    .mask = offset_none,
    .keys_size = 8,
    .keys_index_bytes = 9,
    .keys_kind = 10,
    .keys_entries = 24,
    .keys_indices = 32,
    .values_array = 0,
};

// 3.13: PyDictValues gained a header (capacity, size, embedded, valid).
inline constexpr dict_layout dict_3_13 = [] {
    dict_layout d = dict_3_11;
    d.values_array = 8;
    return d;
}();

inline constexpr int_layout int_2_7 = {.format = int_format::machine_word, .size = offset_none, .digits = 16};
inline constexpr int_layout int_3_0 = {.format = int_format::signed_size, .size = 16, .digits = 24};
inline constexpr int_layout int_3_12 = {.format = int_format::tagged_size, .size = 16, .digits = 24};

inline constexpr module_layout module_all = {.dict = 16};

inline constexpr code_variables_layout variables_2_7 = {.argcount = 16, .kwonlyargcount = offset_none,
                                                       .varnames = 56, .cellvars = 72, .freevars = 64,
                                                       .localsplusnames = offset_none,
                                                       .localspluskinds = offset_none};
inline constexpr code_variables_layout variables_3_6 = {.argcount = 16, .kwonlyargcount = 20,
                                                       .varnames = 64, .cellvars = 80, .freevars = 72,
                                                       .localsplusnames = offset_none,
                                                       .localspluskinds = offset_none};
inline constexpr code_variables_layout variables_3_8 = {.argcount = 16, .kwonlyargcount = 24,
                                                       .varnames = 72, .cellvars = 88, .freevars = 80,
                                                       .localsplusnames = offset_none,
                                                       .localspluskinds = offset_none};
inline constexpr code_variables_layout variables_3_11 = {.argcount = 56, .kwonlyargcount = 64,
                                                        .varnames = offset_none, .cellvars = offset_none,
                                                        .freevars = offset_none, .localsplusnames = 96,
                                                        .localspluskinds = 104};
inline constexpr code_variables_layout variables_3_12 = {.argcount = 52, .kwonlyargcount = 60,
                                                        .varnames = offset_none, .cellvars = offset_none,
                                                        .freevars = offset_none, .localsplusnames = 96,
                                                        .localspluskinds = 104};

// setentry is {hash, key} in 2.7 and {key, hash} in 3.x.
inline constexpr builtin_objects_layout builtins_2_7 = {.tuple_items = 24, .list_items = 24, .set_used = 24,
                                                        .set_mask = 32, .set_table = 40, .setentry_key = 8,
                                                        .setentry_size = 16, .float_value = 16, .cell_ref = 16};
inline constexpr builtin_objects_layout builtins_3_0 = [] {
    builtin_objects_layout b = builtins_2_7;
    b.setentry_key = 0;
    return b;
}();

} // namespace triage::cpython::layouts
