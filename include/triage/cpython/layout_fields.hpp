// triage/cpython/layout_fields.hpp — every field of a `cpython::layout` by
// name, for code that checks or prints a whole layout.
//
// Offers: `for_each_field(l, f)`: calls f(section, field, value) for every
// field of l ("thread", "next", 8); top-level fields have section "". The
// structs of layout.hpp are adapted with Boost.Hana here, apart from their
// definitions, so that a program that only walks stacks does not compile the
// reflection.
// Errors: none. Thread-safe and signal-safe: reads constants only.
// Target process: none touched.
//
//   for_each_field(triage::cpython::layouts::v3_11, [](std::string_view section, std::string_view field, auto v) {
//       fmt::print("{}.{} = {}\n", section, field, v);
//   });
#pragma once

#include <string_view>
#include <type_traits>

#include <boost/hana/accessors.hpp>
#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/string.hpp>

#include "triage/cpython/layout.hpp"

BOOST_HANA_ADAPT_STRUCT(triage::cpython::runtime_layout, interpreters_from, current_thread_from, gil_from,
                        interpreters_head, tstate_current, gil);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::interpreter_layout, next, threads_head, id, gil_pointer, modules,
                        threads_main);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::gil_layout, last_holder, locked);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::thread_state_layout, size, prev, next, interp, frame, cframe,
                        cframe_current_frame, current_frame, thread_id, native_thread_id);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::frame_object_layout, size, back, code, lasti, lineno);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::interpreter_frame_layout, size, previous, code, instr, is_entry, owner,
                        localsplus, owned_by_generator, first_shim_owner, executable_tag_bits);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::code_layout, lines, size, flags, firstlineno, filename, name, qualname,
                        lnotab, linetable, code, code_adaptive, firsttraceable);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::code_variables_layout, argcount, kwonlyargcount, varnames, cellvars, freevars,
                        localsplusnames, localspluskinds);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::object_layout, ob_type, ob_size, tp_name, tp_flags, tp_basicsize,
                        tp_dictoffset, ht_cached_keys, attributes, managed_dict);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::dict_layout, format, keys, values, mask, keys_size, keys_index_bytes,
                        keys_kind, keys_entries, keys_indices, values_array);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::int_layout, format, size, digits);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::module_layout, dict);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::bytes_layout, ob_size, ob_sval);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::unicode_layout, length, state, kind_shift, compact_bit, ascii_bit, ready_bit,
                        ascii_data, compact_data, legacy_data, py2_str, py2_char_size);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::builtin_objects_layout, tuple_items, list_items, set_used, set_mask,
                        set_table, setentry_key, setentry_size, float_value, cell_ref);
BOOST_HANA_ADAPT_STRUCT(triage::cpython::layout, major, minor, free_threaded, position, runtime, interpreter, gil, thread,
                        frame_object, interpreter_frame, code, object, bytes, unicode, dict, integer, module,
                        variables, builtins);

namespace triage::cpython {

namespace detail {
template <class Struct, class F>
constexpr void for_each_member(const Struct& s, F&& f) {
    boost::hana::for_each(boost::hana::accessors<Struct>(), [&](auto accessor) {
        f(boost::hana::to<const char*>(boost::hana::first(accessor)), boost::hana::second(accessor)(s));
    });
}
} // namespace detail

template <class F>
constexpr void for_each_field(const layout& l, F&& f) {
    detail::for_each_member(l, [&](const char* name, const auto& value) {
        using value_type = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_class_v<value_type>) {
            detail::for_each_member(value, [&](const char* field, const auto& inner) {
                f(std::string_view{name}, std::string_view{field}, inner);
            });
        } else {
            f(std::string_view{}, std::string_view{name}, value);
        }
    });
}

} // namespace triage::cpython
