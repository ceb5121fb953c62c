// The layout law: every field of every CPython layout header equals what the
// DWARF of a real interpreter of that version says — the pyenv builds on this
// machine (libpython, or the python binary of a static build) and Debian's
// /usr/bin/python3.11 through python3.11-dbg's separate debug file. One law,
// written once, run for every entry of layouts::known_layouts; each field has
// a rule naming the C struct and member it stands for, or the member whose
// absence it records. Where the layout says how to find something (symbols,
// the GIL, the frame kind, the line table, the frame owners), the ELF symbols
// and DWARF types of the same file are the oracle.
//
// Versions that publish _Py_DebugOffsets (pyenv's 3.13, the interpreter
// lab's python3.14 and python3.15 with their -dbg packages): every position
// of each known format, and every value it does not publish, is checked
// against the DWARF of an interpreter that uses it; and the layout a running
// interpreter publishes (read through /proc/PID/mem) must satisfy the same
// law as a header, and equal the header where there is one.
//
// Fails when an interpreter on the machine has no layout or format, when a
// layout or format has no interpreter to check it against (the 3.14 and 3.15
// formats only say so loudly when the lab cannot be built), and when a field
// has no rule.
#include <doctest/doctest.h>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/string.hpp>

#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/debug_offsets.hpp"
#include "triage/cpython/gil_wait.hpp"
#include "triage/cpython/layout_fields.hpp"
#include "triage/cpython/layouts/all.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/dwarf_types.hpp"
#include "triage/elf/file.hpp"
#include "triage/memory/proc_mem.hpp"
#include "triage/procfs/maps.hpp"

using triage::test_support::failure_text;

using namespace triage;
using namespace triage::cpython;
namespace fs = std::filesystem;

namespace {

// One interpreter to check a layout against.
struct interpreter_files {
    std::string label;         // "pyenv 3.11.7", "lab python3.14"
    int major = 0;
    int minor = 0;
    std::optional<int> micro;  // known for pyenv builds
    std::string dwarf_path;    // the file whose DWARF and symbols describe the interpreter
    std::string mapped;        // the file a running python maps that dwarf_path describes
    std::vector<std::string> command;  // what runs the python
};

// Every pyenv build: its shared libpython, or its python binary when static.
std::vector<interpreter_files> pyenv_interpreters() {
    std::vector<interpreter_files> found;
    for (const auto& python : test_support::pyenv_interpreters()) {
        const std::string object = python.libpython.empty() ? python.path : python.libpython;
        found.push_back({python.label, python.major, python.minor, python.micro, object, object, python.command()});
    }
    return found;
}

// A stripped Debian python with its separate debug file from the -dbg
// package under `root` (the lab's, or "" for this machine's), found by
// build-id as gdb finds it.
interpreter_files with_debug_file(const test_support::python_interpreter& python) {
    const std::string program = python.host_path();
    auto elf = elf::file::open(program);
    REQUIRE_MESSAGE(elf.has_value(), failure_text(elf));
    // A build of our own (the lab's free-threaded one) keeps its DWARF in the program.
    if (python.root.empty() && elf->section(".debug_info")) {
        return {python.label, python.major, python.minor, python.micro, program, program, python.command()};
    }
    auto id = elf->build_id();
    REQUIRE_MESSAGE(id.has_value(), program << " has no build-id");
    const std::string hex_id = elf::build_id_hex(*id);
    const std::string debug =
        python.root + "/usr/lib/debug/.build-id/" + hex_id.substr(0, 2) + "/" + hex_id.substr(2) + ".debug";
    REQUIRE_MESSAGE(fs::exists(debug), program << " is there but its debug file " << debug
                                               << " is not: install python" << python.major << "." << python.minor
                                               << "-dbg");
    return {python.label, python.major, python.minor, python.micro, debug, program, python.command()};
}

// Debian's python3.11 with python3.11-dbg.
std::optional<interpreter_files> debian_python311() {
    for (const auto& python : test_support::system_interpreters()) {
        if (python.major == 3 && python.minor == 11) return with_debug_file(python);
    }
    return std::nullopt;
}

// The lab's python3.14 and python3.15 with their -dbg packages, and its
// free-threaded python3.13t when built (TRIAGE_LAB_FREETHREADED=1).
std::vector<interpreter_files> lab_interpreters() {
    std::vector<interpreter_files> found;
    for (const auto& python : test_support::lab_interpreters()) found.push_back(with_debug_file(python));
    if (auto python = test_support::freethreaded_interpreter()) found.push_back(with_debug_file(*python));
    return found;
}

// Every interpreter that publishes _Py_DebugOffsets: pyenv's 3.13+ and the lab's.
std::vector<interpreter_files> debug_offsets_interpreters() {
    std::vector<interpreter_files> found;
    for (auto& python : pyenv_interpreters()) {
        if (python.major * 100 + python.minor >= 313) found.push_back(std::move(python));
    }
    for (auto& python : lab_interpreters()) found.push_back(std::move(python));
    return found;
}

// What a field of a layout stands for in the interpreter's C structs.
struct law {
    enum kind_t {
        member,      // == offsetof(type, path)
        size,        // == sizeof(type)
        bit,         // == bit position of `path` inside the member `base`
        enumerator,  // == the enumerator `type` (0xFF when the version has none)
        absent,      // == offset_none; and, when `type` is given, type has no member `path`
        missing_bit, // == 0xFF, and type has no member `path`
        fixed,       // == `value` (fields that do not apply to the version)
        tag_bits,    // == Py_TAG_BITS (3) when `type`'s member `path` is a _PyStackRef (has .bits), else 0
        special,     // checked by check_kinds against symbols and types
        has_member,  // == 1 when `type` has a member `path`, else 0
        managed_dict,  // == 8 when `type` has a member `path` (free-threaded), else 24
    } kind;
    std::string type;
    std::string path;
    std::string base;
    std::uint64_t value = 0;
};

law member_of(std::string type, std::string path) { return {law::member, std::move(type), std::move(path), {}}; }
law size_of(std::string type) { return {law::size, std::move(type), {}, {}}; }
law absent_from(std::string type = {}, std::string path = {}) {
    return {law::absent, std::move(type), std::move(path), {}};
}
law fixed_at(std::uint64_t value) { return {law::fixed, {}, {}, {}, value}; }

// The rule for one field in version major.minor, or nothing (a field the law
// does not know: a new field needs a rule here).
std::optional<law> law_for(std::string_view section, std::string_view field, int major, int minor) {
    const int v = major * 100 + minor;
    const std::string f(field);
    const std::string runtime = "struct pyruntimestate";
    const std::string interp = "struct _is";
    const std::string tstate = "struct _ts";
    const std::string frame = "struct _frame";
    const std::string iframe = "struct _PyInterpreterFrame";
    const std::string code = "PyCodeObject";
    auto when = [](bool present, law yes, law no) { return present ? std::move(yes) : std::move(no); };

    if (section.empty()) {
        if (f == "major") return fixed_at(static_cast<std::uint64_t>(major));
        if (f == "minor") return fixed_at(static_cast<std::uint64_t>(minor));
        // A free-threaded build's PyObject starts with the owning thread's id.
        if (f == "free_threaded") return law{law::has_member, "PyObject", "ob_tid", {}};
        if (f == "position") return law{law::special, {}, {}, {}};
        return std::nullopt;
    }
    if (section == "runtime") {
        if (f == "interpreters_from" || f == "current_thread_from" || f == "gil_from")
            return law{law::special, {}, {}, {}};
        if (f == "interpreters_head") return when(v >= 307, member_of(runtime, "interpreters.head"), absent_from());
        if (f == "tstate_current") {
            return when(v >= 307 && v <= 311, member_of(runtime, "gilstate.tstate_current"),
                        absent_from(runtime, "gilstate.tstate_current"));
        }
        if (f == "gil")
            return when(v >= 307 && v <= 311, member_of(runtime, "ceval.gil"), absent_from(runtime, "ceval.gil"));
    }
    if (section == "interpreter") {
        if (f == "next") return member_of(interp, "next");
        if (f == "threads_head") {
            return when(v <= 310, member_of(interp, "tstate_head"), member_of(interp, "threads.head"));
        }
        if (f == "id") return when(v >= 307, member_of(interp, "id"), absent_from(interp, "id"));
        if (f == "gil_pointer") return when(v >= 312, member_of(interp, "ceval.gil"), absent_from(interp, "ceval.gil"));
        // Read only where _Py_DebugOffsets publishes it (3.14+).
        if (f == "threads_main") return when(v >= 314, member_of(interp, "threads.main"), absent_from());
        if (f == "modules") return member_of(interp, v <= 311 ? "modules" : "imports.modules");
    }
    if (section == "gil") {
        const std::string gil = "struct _gil_runtime_state";
        if (f == "last_holder") return when(v >= 307, member_of(gil, "last_holder"), absent_from(gil, "last_holder"));
        if (f == "locked") return when(v >= 307, member_of(gil, "locked"), absent_from(gil, "locked"));
    }
    if (section == "thread") {
        if (f == "size") return size_of(tstate);
        if (f == "prev") return when(major >= 3, member_of(tstate, "prev"), absent_from(tstate, "prev"));
        if (f == "next") return member_of(tstate, "next");
        if (f == "interp") return member_of(tstate, "interp");
        if (f == "frame") return when(v <= 310, member_of(tstate, "frame"), absent_from(tstate, "frame"));
        if (f == "cframe") {
            // 3.10 has a cframe, but its CFrame holds no frame pointer.
            if (v == 310) return absent_from();
            return when(v >= 311 && v <= 312, member_of(tstate, "cframe"), absent_from(tstate, "cframe"));
        }
        if (f == "cframe_current_frame") {
            return when(v >= 311 && v <= 312, member_of("_PyCFrame", "current_frame"), absent_from());
        }
        if (f == "current_frame") {
            return when(v >= 313, member_of(tstate, "current_frame"), absent_from(tstate, "current_frame"));
        }
        if (f == "thread_id") return member_of(tstate, "thread_id");
        if (f == "native_thread_id") {
            return when(v >= 311, member_of(tstate, "native_thread_id"), absent_from(tstate, "native_thread_id"));
        }
    }
    if (section == "frame_object") {
        // 3.11+ still has PyFrameObject, but frames are not chained through it.
        if (v >= 311) return f == "lasti" ? absent_from(frame, "f_lasti") : absent_from();
        if (f == "size") return size_of(frame);
        if (f == "back") return member_of(frame, "f_back");
        if (f == "code") return member_of(frame, "f_code");
        if (f == "lasti") return member_of(frame, "f_lasti");
        if (f == "lineno") return member_of(frame, "f_lineno");
    }
    if (section == "interpreter_frame") {
        if (f == "owned_by_generator") return law{law::enumerator, "FRAME_OWNED_BY_GENERATOR", {}, {}};
        // The interpreter's own entry frames took the shims' place in 3.14.
        if (f == "first_shim_owner") {
            return law{law::enumerator, v >= 314 ? "FRAME_OWNED_BY_INTERPRETER" : "FRAME_OWNED_BY_CSTACK", {}, {}};
        }
        // Pycore_stackref.h: the GIL build's Py_TAG_BITS (DWARF has no macros).
        if (f == "executable_tag_bits") return law{law::tag_bits, iframe, "f_executable", {}};
        if (v <= 310) return absent_from(iframe, "previous");
        if (f == "size") return member_of(iframe, "localsplus");
        if (f == "previous") return member_of(iframe, "previous");
        if (f == "code") return member_of(iframe, v <= 312 ? "f_code" : "f_executable");
        if (f == "instr") return member_of(iframe, v <= 312 ? "prev_instr" : "instr_ptr");
        if (f == "is_entry") return when(v == 311, member_of(iframe, "is_entry"), absent_from(iframe, "is_entry"));
        if (f == "owner") return member_of(iframe, "owner");
        if (f == "localsplus") return member_of(iframe, "localsplus");
    }
    if (section == "code") {
        if (f == "lines") return law{law::special, {}, {}, {}};
        if (f == "size") return size_of(code);
        if (f == "flags") return member_of(code, "co_flags");
        if (f == "firstlineno") return member_of(code, "co_firstlineno");
        if (f == "filename") return member_of(code, "co_filename");
        if (f == "name") return member_of(code, "co_name");
        if (f == "qualname") return when(v >= 311, member_of(code, "co_qualname"), absent_from(code, "co_qualname"));
        if (f == "lnotab") return when(v <= 309, member_of(code, "co_lnotab"), absent_from(code, "co_lnotab"));
        if (f == "linetable") return when(v >= 310, member_of(code, "co_linetable"), absent_from(code, "co_linetable"));
        if (f == "code") return when(v <= 310, member_of(code, "co_code"), absent_from(code, "co_code"));
        if (f == "code_adaptive") {
            return when(v >= 311, member_of(code, "co_code_adaptive"), absent_from(code, "co_code_adaptive"));
        }
        if (f == "firsttraceable") {
            return when(v >= 311, member_of(code, "_co_firsttraceable"), absent_from(code, "_co_firsttraceable"));
        }
    }
    if (section == "variables") {
        if (f == "argcount") return member_of(code, "co_argcount");
        if (f == "kwonlyargcount") {
            return when(major >= 3, member_of(code, "co_kwonlyargcount"), absent_from(code, "co_kwonlyargcount"));
        }
        // 3.11 replaced the three name tuples by one name per localsplus slot, with its kind.
        for (const char* names : {"varnames", "cellvars", "freevars"}) {
            const std::string member = std::string("co_") + names;
            if (f == names) return when(v <= 310, member_of(code, member), absent_from(code, member));
        }
        for (const char* names : {"localsplusnames", "localspluskinds"}) {
            const std::string member = std::string("co_") + names;
            if (f == names) return when(v >= 311, member_of(code, member), absent_from(code, member));
        }
    }
    if (section == "builtins") {
        if (f == "tuple_items") return member_of("PyTupleObject", "ob_item");
        if (f == "list_items") return member_of("PyListObject", "ob_item");
        if (f == "set_used" || f == "set_mask" || f == "set_table") return member_of("PySetObject", f.substr(4));
        if (f == "setentry_key") return member_of("setentry", "key");
        if (f == "setentry_size") return size_of("setentry");
        if (f == "float_value") return member_of("PyFloatObject", "ob_fval");
        if (f == "cell_ref") return member_of("PyCellObject", "ob_ref");
    }
    if (section == "object") {
        if (f == "ob_type") return member_of("PyObject", "ob_type");
        if (f == "ob_size") return member_of("PyVarObject", "ob_size");
        if (f == "tp_name") return member_of("PyTypeObject", "tp_name");
        if (f == "tp_flags") return member_of("PyTypeObject", "tp_flags");
        if (f == "tp_basicsize") return member_of("PyTypeObject", "tp_basicsize");
        if (f == "tp_dictoffset") return member_of("PyTypeObject", "tp_dictoffset");
        if (f == "ht_cached_keys") {
            return when(major >= 3, member_of("PyHeapTypeObject", "ht_cached_keys"),
                        absent_from("PyHeapTypeObject", "ht_cached_keys"));
        }
        // Py_TPFLAGS_MANAGED_DICT (3.11) and Py_TPFLAGS_INLINE_VALUES (3.13) are macros, not in DWARF.
        // MANAGED_DICT_OFFSET is a macro: -3 words, -1 in a free-threaded build (checked by has_member's
        // twin in check_kinds); not used before 3.11.
        if (f == "managed_dict") return v >= 311 ? law{law::managed_dict, "PyObject", "ob_tid", {}} : absent_from();
        if (f == "attributes") {
            const auto storage = v <= 310 ? attribute_storage::dict_offset
                                 : v == 311 ? attribute_storage::managed_3_11
                                 : v == 312 ? attribute_storage::managed_3_12
                                            : attribute_storage::inline_values;
            return fixed_at(static_cast<std::uint64_t>(storage));
        }
    }
    if (section == "dict") {
        const std::string dict = "PyDictObject";
        const std::string keys = "struct _dictkeysobject";
        if (f == "format") {
            return fixed_at(static_cast<std::uint64_t>(major == 2   ? dict_format::open_table
                                                       : v <= 310 ? dict_format::compact
                                                                  : dict_format::compact_kinds));
        }
        if (major == 2) {
            if (f == "keys") return member_of(dict, "ma_table");
            if (f == "mask") return member_of(dict, "ma_mask");
            if (f == "values") return absent_from(dict, "ma_values");
            return absent_from(keys, "dk_indices");
        }
        if (f == "keys") return member_of(dict, "ma_keys");
        if (f == "values") return member_of(dict, "ma_values");
        if (f == "mask") return absent_from(dict, "ma_mask");
        if (f == "keys_size") return member_of(keys, v <= 310 ? "dk_size" : "dk_log2_size");
        if (f == "keys_index_bytes") {
            return when(v >= 311, member_of(keys, "dk_log2_index_bytes"), absent_from(keys, "dk_log2_index_bytes"));
        }
        if (f == "keys_kind") return when(v >= 311, member_of(keys, "dk_kind"), absent_from(keys, "dk_kind"));
        if (f == "keys_entries") return member_of(keys, "dk_nentries");
        // dk_indices is the flexible array member that ends the struct (DWARF gives it no size).
        if (f == "keys_indices") return size_of(keys);
        // Before 3.11 ma_values is the array of values itself.
        if (f == "values_array") return when(v >= 311, member_of("struct _dictvalues", "values"), fixed_at(0));
    }
    if (section == "integer") {
        const std::string integer = "struct _longobject";
        if (f == "format") {
            return fixed_at(static_cast<std::uint64_t>(major == 2   ? int_format::machine_word
                                                       : v <= 311 ? int_format::signed_size
                                                                  : int_format::tagged_size));
        }
        if (major == 2) return f == "digits" ? member_of("PyIntObject", "ob_ival") : absent_from();
        if (f == "size") return member_of(integer, v <= 311 ? "ob_base.ob_size" : "long_value.lv_tag");
        if (f == "digits") return member_of(integer, v <= 311 ? "ob_digit" : "long_value.ob_digit");
    }
    if (section == "module") {
        if (f == "dict") return member_of("PyModuleObject", "md_dict");
    }
    if (section == "bytes") {
        if (major == 2) {
            if (f == "ob_size") return member_of("PyStringObject", "ob_size");
            if (f == "ob_sval") return member_of("PyStringObject", "ob_sval");
        } else {
            if (f == "ob_size") return member_of("PyBytesObject", "ob_base.ob_size");
            if (f == "ob_sval") return member_of("PyBytesObject", "ob_sval");
        }
    }
    if (section == "unicode") {
        if (major == 2) {
            if (f == "length") return member_of("PyUnicodeObject", "length");
            if (f == "py2_str") return member_of("PyUnicodeObject", "str");
            if (f == "py2_char_size") return size_of("Py_UNICODE");
            if (f == "kind_shift" || f == "compact_bit" || f == "ascii_bit") return fixed_at(0);
            if (f == "ready_bit") return fixed_at(0xFF);
            if (f == "state") return absent_from("PyUnicodeObject", "state");
            if (f == "ascii_data" || f == "compact_data" || f == "legacy_data") return absent_from();
        } else {
            const std::string ascii = "PyASCIIObject";
            if (f == "length") return member_of(ascii, "length");
            if (f == "state") return member_of(ascii, "state");
            if (f == "kind_shift") return law{law::bit, ascii, "state.kind", "state"};
            if (f == "compact_bit") return law{law::bit, ascii, "state.compact", "state"};
            if (f == "ascii_bit") return law{law::bit, ascii, "state.ascii", "state"};
            if (f == "ready_bit") {
                // 3.12 dropped `ready` (and gave bit 7 to statically_allocated).
                if (v >= 312) return law{law::missing_bit, ascii, "state.ready", {}, 0xFF};
                return law{law::bit, ascii, "state.ready", "state"};
            }
            if (f == "ascii_data") return size_of(ascii);
            if (f == "compact_data") return size_of("PyCompactUnicodeObject");
            if (f == "legacy_data") return member_of("PyUnicodeObject", "data");
            if (f == "py2_str") return absent_from("PyUnicodeObject", "str");
            if (f == "py2_char_size") return fixed_at(0);
        }
    }
    return std::nullopt;
}

template <class T>
std::uint64_t as_number(const T& value) {
    if constexpr (std::is_enum_v<T>) {
        return static_cast<std::uint64_t>(value);
    } else {
        return static_cast<std::uint64_t>(value);
    }
}

// Checks one value against its rule and the interpreter's DWARF.
void check_law(const law& rule, std::uint64_t actual, const elf::dwarf_types& dwarf, const std::string& where) {
    switch (rule.kind) {
    case law::member: {
        auto m = dwarf.member(rule.type, rule.path);
        if (!m) {
            FAIL_CHECK(where << ": " << m.error().message());
            break;
        }
        CHECK_MESSAGE(actual == m->byte_offset, where << " is " << actual << ", DWARF offsetof(" << rule.type
                                                      << ", " << rule.path << ") is " << m->byte_offset);
        break;
    }
    case law::size: {
        auto s = dwarf.size_of(rule.type);
        if (!s) {
            FAIL_CHECK(where << ": " << s.error().message());
            break;
        }
        CHECK_MESSAGE(actual == *s, where << " is " << actual << ", DWARF sizeof(" << rule.type << ") is " << *s);
        break;
    }
    case law::bit: {
        auto m = dwarf.member(rule.type, rule.path);
        auto b = dwarf.member(rule.type, rule.base);
        if (!m || !b) {
            FAIL_CHECK(where << ": " << (!m ? m.error().message() : b.error().message()));
            break;
        }
        CHECK_MESSAGE(m->is_bitfield, where << ": " << rule.path << " is not a bit field");
        CHECK_MESSAGE(actual == m->bit_offset - b->byte_offset * 8,
                      where << " is " << actual << ", DWARF puts " << rule.path << " at bit "
                            << m->bit_offset - b->byte_offset * 8 << " of " << rule.base);
        break;
    }
    case law::enumerator: {
        auto e = dwarf.enumerator(rule.type);
        const std::uint64_t expected = e ? static_cast<std::uint64_t>(*e) : 0xFF;
        CHECK_MESSAGE(actual == expected, where << " is " << actual << ", DWARF " << rule.type << " is "
                                                << (e ? std::to_string(*e) : std::string("absent (0xFF)")));
        break;
    }
    case law::absent: {
        CHECK_MESSAGE(actual == offset_none, where << " should be offset_none, is " << actual);
        if (!rule.type.empty()) {
            auto m = dwarf.member(rule.type, rule.path);
            CHECK_MESSAGE(!m.has_value(), where << " is marked absent but DWARF has " << rule.type << "."
                                                << rule.path << " at " << (m ? m->byte_offset : 0));
        }
        break;
    }
    case law::missing_bit: {
        CHECK_MESSAGE(actual == 0xFF, where << " should be 0xFF (no such bit), is " << actual);
        auto m = dwarf.member(rule.type, rule.path);
        CHECK_MESSAGE(!m.has_value(),
                      where << " is marked absent but DWARF has " << rule.type << "." << rule.path);
        break;
    }
    case law::fixed:
        CHECK_MESSAGE(actual == rule.value, where << " is " << actual << ", expected " << rule.value);
        break;
    case law::tag_bits: {
        const bool tagged = dwarf.member(rule.type, rule.path + ".bits").has_value();
        CHECK_MESSAGE(actual == (tagged ? 3u : 0u), where << " is " << actual << ", but DWARF's " << rule.type << "."
                                                         << rule.path << " is " << (tagged ? "" : "not ")
                                                         << "a _PyStackRef");
        break;
    }
    case law::has_member: {
        const bool present = dwarf.member(rule.type, rule.path).has_value();
        CHECK_MESSAGE(actual == (present ? 1u : 0u), where << " is " << actual << ", DWARF's " << rule.type
                                                           << (present ? " has " : " has no ") << rule.path);
        break;
    }
    case law::managed_dict: {
        const bool free_threaded = dwarf.member(rule.type, rule.path).has_value();
        CHECK_MESSAGE(actual == (free_threaded ? 8u : 24u), where << " is " << actual << " for a "
                                                                   << (free_threaded ? "free-threaded" : "GIL")
                                                                   << " build");
        break;
    }
    case law::special: break;
    }
}

// Checks every field of `l` against the interpreter's DWARF; returns how
// many fields were checked.
int check_fields(const layout& l, const interpreter_files& python, const elf::dwarf_types& dwarf) {
    int checked = 0;
    for_each_field(l, [&](std::string_view section, std::string_view field, const auto& value) {
        const std::string name = section.empty() ? std::string(field) : std::string(section) + "." + std::string(field);
        const std::string where = python.label + ": " + name;
        auto rule = law_for(section, field, l.major, l.minor);
        if (!rule) {
            FAIL_CHECK(where << " has no law in layout_law_test.cpp: add one");
            return;
        }
        ++checked;
        check_law(*rule, as_number(value), dwarf, where);
    });
    return checked;
}


// The fields that say how to find things, against the file's symbols and
// types: what the header claims must be what the build has.
void check_kinds(const layout& l, const interpreter_files& python, const elf::dwarf_types& dwarf,
                 const elf::file& elf) {
    const std::string who = python.label + ": ";
    auto has_symbol = [&](std::string_view name) { return elf.find_symbol(name).has_value(); };
    auto has_member = [&](const char* type, const char* path) { return dwarf.member(type, path).has_value(); };
    auto has_type = [&](const char* type) { return dwarf.size_of(type).has_value(); };

    // Interpreters: _PyRuntime (3.7+) or the static interp_head.
    if (has_symbol(symbol_runtime)) {
        CHECK_MESSAGE(l.runtime.interpreters_from == interpreter_root::runtime, who << "has _PyRuntime");
    } else {
        CHECK_MESSAGE(l.runtime.interpreters_from == interpreter_root::interp_head_symbol, who << "has no _PyRuntime");
        CHECK_MESSAGE(has_symbol(symbol_interp_head), who << "has neither _PyRuntime nor interp_head");
    }
    // The current thread state.
    switch (l.runtime.current_thread_from) {
    case current_thread_root::thread_state_current_symbol:
        CHECK_MESSAGE(has_symbol(symbol_thread_state_current), who << "has no _PyThreadState_Current");
        CHECK_MESSAGE(!has_symbol(symbol_runtime), who << "has _PyRuntime: the current thread is in it");
        break;
    case current_thread_root::runtime:
        CHECK_MESSAGE(has_member("struct pyruntimestate", "gilstate.tstate_current"),
                      who << "no gilstate.tstate_current");
        break;
    case current_thread_root::thread_local_only:
        CHECK_MESSAGE(!has_member("struct pyruntimestate", "gilstate.tstate_current"), who << "has tstate_current");
        CHECK_MESSAGE(has_symbol("_Py_tss_tstate"), who << "has no thread-local _Py_tss_tstate");
        break;
    }
    // The GIL.
    const bool static_gil = has_symbol(symbol_gil_locked) && has_symbol(symbol_gil_last_holder);
    const bool runtime_gil = has_member("struct pyruntimestate", "ceval.gil");
    const bool interpreter_gil = has_member("struct _is", "ceval.gil");
    switch (l.runtime.gil_from) {
    case gil_root::none: CHECK_MESSAGE(!(static_gil || runtime_gil || interpreter_gil), who << "has GIL state"); break;
    case gil_root::static_symbols: CHECK_MESSAGE(static_gil, who << "has no gil_locked/gil_last_holder"); break;
    case gil_root::runtime: CHECK_MESSAGE(runtime_gil, who << "has no _PyRuntime.ceval.gil"); break;
    case gil_root::interpreter_pointer: CHECK_MESSAGE(interpreter_gil, who << "has no interp->ceval.gil"); break;
    }
    // Frames: _PyInterpreterFrame (3.11+) or PyFrameObject. f_lasti counts
    // code units in 3.10 only (bpo-27129); DWARF cannot tell units apart.
    if (has_type("struct _PyInterpreterFrame")) {
        CHECK_MESSAGE(l.position == instruction_position::pointer, who << "frames are _PyInterpreterFrame");
        CHECK(uses_interpreter_frames(l));
    } else {
        CHECK_MESSAGE(l.position == (python.major * 100 + python.minor == 310 ? instruction_position::lasti_code_units
                                                                              : instruction_position::lasti_bytes),
                      who << "f_lasti units");
        CHECK_FALSE(uses_interpreter_frames(l));
    }
    // Line tables: co_lnotab (signed line steps since 3.6, bpo-26107),
    // the 3.10 co_linetable, or the 3.11+ location table.
    if (has_member("PyCodeObject", "co_lnotab")) {
        CHECK_MESSAGE(l.code.lines == (python.major * 100 + python.minor >= 306 ? line_table_format::lnotab_signed
                                                                                : line_table_format::lnotab_unsigned),
                      who << "co_lnotab");
    } else {
        REQUIRE_MESSAGE(has_member("PyCodeObject", "co_linetable"), who << "has no line table");
        CHECK_MESSAGE(l.code.lines == (has_type("struct _PyInterpreterFrame") ? line_table_format::location_table
                                                                              : line_table_format::linetable_310),
                      who << "co_linetable");
    }
    // Frame owners: the walker skips every frame whose owner is
    // first_shim_owner or more, so Python's own owners must lie below it and
    // the shims' (C stack, interpreter entry frames) at or above it.
    if (uses_interpreter_frames(l)) {
        for (const char* python_owner : {"FRAME_OWNED_BY_THREAD", "FRAME_OWNED_BY_GENERATOR", "FRAME_OWNED_BY_FRAME_OBJECT"}) {
            auto e = dwarf.enumerator(python_owner);
            REQUIRE_MESSAGE(e.has_value(), who << "has no " << python_owner);
            CHECK_MESSAGE(*e < l.interpreter_frame.first_shim_owner, who << python_owner << " would be skipped");
        }
        for (const char* shim_owner : {"FRAME_OWNED_BY_CSTACK", "FRAME_OWNED_BY_INTERPRETER"}) {
            if (auto e = dwarf.enumerator(shim_owner)) {
                CHECK_MESSAGE(*e >= l.interpreter_frame.first_shim_owner, who << shim_owner << " would not be skipped");
            }
        }
        // The walker reads owner and (3.11) is_entry as one byte each
        // (python_frame::entry comes from them).
        auto one_byte = [&](const char* member) {
            auto m = dwarf.member("struct _PyInterpreterFrame", member);
            REQUIRE_MESSAGE(m.has_value(), who << "has no _PyInterpreterFrame." << member);
            CHECK_MESSAGE(m->byte_size == 1, who << "_PyInterpreterFrame." << member << " is " << m->byte_size
                                                 << " bytes, not one");
        };
        one_byte("owner");
        if (has(l.interpreter_frame.is_entry)) one_byte("is_entry");
    }
    // Py_UNICODE width of a 2.7 build: the exported functions say it too.
    if (python.major == 2) {
        CHECK(has_symbol(l.unicode.py2_char_size == 4 ? symbol_py2_ucs4_marker : symbol_py2_ucs2_marker));
    }
}

// Runs the law for one interpreter against the layout of its version.
void check_interpreter(const layout& l, const interpreter_files& python) {
    INFO("interpreter: " << python.label << " (" << python.dwarf_path << ")");
    auto dwarf = elf::dwarf_types::open(python.dwarf_path);
    REQUIRE_MESSAGE(dwarf.has_value(), failure_text(dwarf));
    auto elf = elf::file::open(python.dwarf_path);
    REQUIRE_MESSAGE(elf.has_value(), failure_text(elf));
    CHECK(l.major == python.major);
    CHECK(l.minor == python.minor);
    const int checked = check_fields(l, python, *dwarf);
    int fields = 0;
    for_each_field(l, [&](std::string_view, std::string_view, const auto&) { ++fields; });
    CHECK(checked == fields);
    check_kinds(l, python, *dwarf, *elf);
    MESSAGE(python.label << ": " << checked << " layout fields match its DWARF");
}

// Where _PyRuntime is in the running process: its file address (from the
// symbols of the file with DWARF) plus the load bias of the mapped file.
std::uint64_t runtime_address(pid_t pid, const interpreter_files& python) {
    auto described = elf::file::open(python.dwarf_path);
    REQUIRE_MESSAGE(described.has_value(), failure_text(described));
    auto symbol = described->find_symbol(symbol_runtime);
    REQUIRE_MESSAGE(symbol.has_value(), python.dwarf_path << " has no _PyRuntime");
    // 3.13+ place _PyRuntime, debug offsets first, alone in .PyRuntime.
    auto section = described->section(section_runtime);
    REQUIRE_MESSAGE(section.has_value(), python.dwarf_path << " has no .PyRuntime section");
    CHECK(section->address == symbol->value);
    auto mapped = elf::file::open(python.mapped);
    REQUIRE_MESSAGE(mapped.has_value(), failure_text(mapped));
    const auto segments = mapped->load_segments();
    REQUIRE(!segments.empty());
    const std::uint64_t first_page = segments.front().vaddr & ~std::uint64_t{0xFFF};
    auto maps = procfs::read_maps(pid);
    REQUIRE_MESSAGE(maps.has_value(), failure_text(maps));
    const std::string real = fs::canonical(python.mapped).string();
    for (const auto& m : *maps) {
        if (m.path == real && m.offset == 0) return m.start - first_page + symbol->value;
    }
    FAIL(real << " is not mapped in process " << pid);
    return 0;
}

// "section.field" → value, for comparing two layouts field by field.
std::vector<std::pair<std::string, std::uint64_t>> fields_of(const layout& l) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for_each_field(l, [&](std::string_view section, std::string_view field, const auto& value) {
        out.emplace_back(std::string(section) + "." + std::string(field), as_number(value));
    });
    return out;
}

void poke_u64(std::vector<std::byte>& bytes, std::size_t at, std::uint64_t value) {
    std::memcpy(bytes.data() + at, &value, sizeof value);
}

constexpr std::uint64_t version_hex(int major, int minor, int micro, unsigned level_serial) {
    return (std::uint64_t(major) << 24) | (std::uint64_t(minor) << 16) | (std::uint64_t(micro) << 8) | level_serial;
}

// The format every release of major.minor uses (from x.y.0 final on).
const debug_offsets_format* format_of(int major, int minor) {
    const std::uint64_t release = version_hex(major, minor, 0, 0xF0);
    for (const auto& f : debug_offsets_formats) {
        if (release >= f.first_version && release < f.end_version) return &f;
    }
    return nullptr;
}

// The layout field each unpublished value of a format becomes, whose law
// it follows.
std::pair<std::string_view, std::string_view> layout_field_of(std::string_view unpublished) {
    if (unpublished == "co_flags") return {"code", "flags"};
    if (unpublished == "co_firsttraceable") return {"code", "firsttraceable"};
    if (unpublished == "owned_by_generator") return {"interpreter_frame", "owned_by_generator"};
    if (unpublished == "first_shim_owner") return {"interpreter_frame", "first_shim_owner"};
    if (unpublished == "executable_tag_bits") return {"interpreter_frame", "executable_tag_bits"};
    if (unpublished == "unicode_kind_shift") return {"unicode", "kind_shift"};
    if (unpublished == "unicode_compact_bit") return {"unicode", "compact_bit"};
    if (unpublished == "unicode_ascii_bit") return {"unicode", "ascii_bit"};
    if (unpublished == "ht_cached_keys") return {"object", "ht_cached_keys"};
    if (unpublished == "co_kwonlyargcount") return {"variables", "kwonlyargcount"};
    if (unpublished == "cell_ob_ref") return {"builtins", "cell_ref"};
    for (std::string_view field : {"set_used", "set_mask", "set_table", "setentry_key", "setentry_size"}) {
        if (unpublished == field) return {"builtins", field};
    }
    return {};
}

// Every position of `format` (absent ones too) and every value it does not
// publish, against the DWARF of an interpreter of its versions; returns
// how many values were checked.
int check_format(const debug_offsets_format& format, const interpreter_files& python) {
    INFO("interpreter: " << python.label << " (" << python.dwarf_path << "), format " << format.name);
    auto dwarf = elf::dwarf_types::open(python.dwarf_path);
    REQUIRE_MESSAGE(dwarf.has_value(), failure_text(dwarf));
    auto total = dwarf->size_of("_Py_DebugOffsets");
    REQUIRE_MESSAGE(total.has_value(), failure_text(total));
    CHECK(format.at.total_size == *total);
    int checked = 0;
    auto check_position = [&](const std::string& path, debug_position position) {
        ++checked;
        auto m = dwarf->member("_Py_DebugOffsets", path);
        if (position == position_none) {
            CHECK_MESSAGE(!m.has_value(), path << " is marked absent, DWARF has it at " << (m ? m->byte_offset : 0));
            return;
        }
        if (!m) {
            FAIL_CHECK(m.error().message());
            return;
        }
        CHECK_MESSAGE(position == m->byte_offset, path << " at " << position << ", DWARF says " << m->byte_offset);
        CHECK_MESSAGE(m->byte_size == 8, path << " is not a uint64_t");
    };
    boost::hana::for_each(boost::hana::accessors<debug_format::positions>(), [&](auto accessor) {
        const std::string section = boost::hana::to<const char*>(boost::hana::first(accessor));
        const auto& value = boost::hana::second(accessor)(format.at);
        using value_type = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_class_v<value_type>) {
            boost::hana::for_each(boost::hana::accessors<value_type>(), [&](auto inner) {
                check_position(section + "." + boost::hana::to<const char*>(boost::hana::first(inner)),
                               boost::hana::second(inner)(value));
            });
        } else if (section != "total_size") {
            check_position(section, value);
        }
    });
    // The byte offsets it does not publish are the GIL build's; a free-threaded build's objects
    // start 16 bytes later (a 32-byte header), as decode_debug_offsets applies.
    const std::uint64_t header_delta = dwarf->member("PyObject", "ob_tid").has_value() ? 16 : 0;
    boost::hana::for_each(boost::hana::accessors<debug_format::unpublished>(), [&](auto accessor) {
        const std::string name = boost::hana::to<const char*>(boost::hana::first(accessor));
        const auto [section, field] = layout_field_of(name);
        // Offsets inside objects; setentry is not an object.
        const bool byte_offset_field = name == "co_flags" || name == "co_firsttraceable" || name == "ht_cached_keys" ||
                                       name == "co_kwonlyargcount" || name == "cell_ob_ref" || name.starts_with("set_");
        auto rule = law_for(section, field, python.major, python.minor);
        if (!rule) {
            FAIL_CHECK("unpublished." << name << " has no law in layout_law_test.cpp: add one");
            return;
        }
        ++checked;
        check_law(*rule, as_number(boost::hana::second(accessor)(format.unpublished)) + (byte_offset_field ? header_delta : 0),
                  *dwarf, python.label + ": unpublished." + name);
    });
    return checked;
}
} // namespace

TEST_CASE("every layout header matches the DWARF of its interpreter on this machine") {
    const auto pythons = pyenv_interpreters();
    REQUIRE_MESSAGE(!pythons.empty(), "no pyenv interpreters under " << test_support::pyenv_root().string());
    std::set<std::pair<int, int>> covered;
    std::vector<std::string> names;
    for (const auto& python : pythons) {
        auto l = layouts::find_layout(python.major, python.minor);
        if (!l) {
            FAIL_CHECK(python.label << " is on this machine but triage has no layout for it");
            continue;
        }
        check_interpreter(*l, python);
        covered.insert({python.major, python.minor});
        names.push_back(python.label);
    }
    boost::hana::for_each(layouts::known_layouts, [&]<class Entry>(Entry) {
        CHECK_MESSAGE(covered.contains({Entry::major, Entry::minor}),
                      "layout " << Entry::major << "." << Entry::minor
                                << " has no interpreter on this machine to check it");
        CHECK(layouts::find_layout(Entry::major, Entry::minor) == Entry::value);
    });
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    MESSAGE("layout law covered " << names.size() << " of " << pythons.size() << " pyenv interpreters: " << list);
    CHECK(names.size() == pythons.size());
}

TEST_CASE("the 3.11 layout holds for Debian's python3.11 (python3.11-dbg DWARF)") {
    auto debian = debian_python311();
    REQUIRE_MESSAGE(debian.has_value(), "/usr/bin/python3.11 is not on this machine");
    check_interpreter(layouts::v3_11, *debian);
}

TEST_CASE("the 2.7 UCS2 layout differs from the UCS4 one only in Py_UNICODE's width") {
    layout l = layouts::v2_7_ucs2;
    CHECK(l.unicode.py2_char_size == 2);
    CHECK(layouts::v2_7.unicode.py2_char_size == 4);
    l.unicode.py2_char_size = 4;
    CHECK(l == layouts::v2_7);
}

TEST_CASE("no layout header for versions triage does not describe, nor for those read from _Py_DebugOffsets alone") {
    CHECK_FALSE(layouts::find_layout(3, 5).has_value());
    CHECK_FALSE(layouts::find_layout(3, 14).has_value());
    CHECK_FALSE(layouts::find_layout(3, 15).has_value());
    CHECK_FALSE(layouts::find_layout(2, 6).has_value());
}

TEST_CASE("every _Py_DebugOffsets format matches the DWARF of the interpreters that publish it") {
    const auto pythons = debug_offsets_interpreters();
    std::set<std::string_view> covered;
    for (const auto& python : pythons) {
        const debug_offsets_format* format = format_of(python.major, python.minor);
        REQUIRE_MESSAGE(format != nullptr, python.label << " publishes debug offsets but triage knows no format for it");
        const int checked = check_format(*format, python);
        MESSAGE(python.label << ": " << checked << " values of the " << format->name << " format match its DWARF");
        covered.insert(format->name);
    }
    const std::string note = test_support::lab_note();
    for (const auto& f : debug_offsets_formats) {
        if (covered.contains(f.name)) continue;
        if (!note.empty() && f.name != "3.13") {
            MESSAGE("the " << f.name << " format is NOT checked: " << note);
            continue;
        }
        FAIL_CHECK("the " << f.name << " format has no interpreter on this machine to check it");
    }
    // Formats are ordered and their versions do not overlap.
    for (std::size_t k = 1; k < debug_offsets_formats.size(); ++k) {
        CHECK(debug_offsets_formats[k - 1].end_version <= debug_offsets_formats[k].first_version);
    }
}

TEST_CASE("a running 3.13+ publishes in _Py_DebugOffsets a layout its DWARF confirms, and damage is refused") {
    int checked = 0;
    for (const auto& python : debug_offsets_interpreters()) {
        INFO("interpreter: " << python.label);
        // A python that says "ready" and sleeps; killed and reaped at the end.
        auto argv = python.command;
        argv.insert(argv.end(), {"-c", "import sys, time\nsys.stdout.write('ready\\n')\nsys.stdout.flush()\ntime.sleep(60)\n"});
        test_support::child_process victim{argv};
        REQUIRE(victim.read_line(std::chrono::seconds{20}) == "ready");
        const std::uint64_t address = runtime_address(victim.pid(), python);
        auto memory = memory::proc_mem::open(victim.pid());
        REQUIRE_MESSAGE(memory.has_value(), failure_text(memory));
        auto published = read_debug_offsets(*memory, address);
        REQUIRE_MESSAGE(published.has_value(), failure_text(published));
        CHECK(published->major() == python.major);
        CHECK(published->minor() == python.minor);
        if (python.micro) CHECK(published->micro() == *python.micro);
        REQUIRE(published->format == format_of(python.major, python.minor));
        const debug_offsets_format& f = *published->format;

        // The whole layout law, on what the target publishes.
        check_interpreter(published->value, python);
        // Where a header exists, the target publishes exactly its layout (headers describe GIL builds).
        const bool free_threaded = published->value.free_threaded;
        CHECK(free_threaded == python.label.ends_with("t"));  // "lab python3.13t"
        if (auto header = layouts::find_layout(published->major(), published->minor()); header && !free_threaded) {
            const auto from_target = fields_of(published->value);
            const auto from_header = fields_of(*header);
            REQUIRE(from_target.size() == from_header.size());
            for (std::size_t i = 0; i < from_target.size(); ++i) {
                CHECK_MESSAGE(from_target[i].second == from_header[i].second,
                              from_target[i].first << ": the target publishes " << from_target[i].second
                                                   << ", the header says " << from_header[i].second);
            }
            CHECK(published->value == *header);
        }

        // The same real bytes, damaged: each damage is refused with its reason.
        std::vector<std::byte> bytes(debug_offsets_max_size);
        REQUIRE(memory::read_exact(*memory, address, bytes).has_value());
        REQUIRE(parse_debug_offsets(bytes).has_value());
        auto outcome = [&](std::span<const std::byte> damaged) {
            auto r = parse_debug_offsets(damaged);
            return r.has_value() ? std::optional<errc>{} : std::optional<errc>{r.error().code};
        };
        auto poked = [&](debug_position at, std::uint64_t value) {
            auto damaged = bytes;
            poke_u64(damaged, at, value);
            return damaged;
        };
        {
            auto damaged = bytes;
            damaged[0] = std::byte{'y'};
            CHECK(outcome(damaged) == errc::malformed);
        }
        CHECK(outcome(std::span{bytes}.first(f.at.total_size - 1)) == errc::truncated);
        CHECK(outcome(poked(f.at.version, 0x030C01F0)) == errc::malformed);  // 3.12.1: no debug offsets
        // The object header must be the build's: 16 bytes with the GIL, 32 free-threaded.
        CHECK(outcome(poked(f.at.free_threaded, free_threaded ? 0 : 1)) == errc::malformed);
        CHECK(outcome(poked(f.at.pyobject.size, free_threaded ? 16 : 32)) == errc::malformed);
        CHECK(outcome(poked(f.at.thread_state.native_thread_id, 1 << 20)) == errc::malformed);  // past the thread state
        CHECK(outcome(poked(f.at.thread_state.next, published->value.thread.prev)) == errc::malformed);
        // A beta of the same version used an earlier format: refused, not misread.
        CHECK(outcome(poked(f.at.version, version_hex(python.major, python.minor, 0, 0xB1))) == errc::unsupported);
        // A field inserted before a section shifts everything after it; the
        // object-header checks catch the misread.
        std::vector<std::byte> inserted = bytes;
        inserted.insert(inserted.begin() + f.at.interpreter_state.threads_head + 8, 8, std::byte{0});
        inserted.resize(bytes.size());
        CHECK(outcome(inserted) == errc::malformed);

        // A new minor version (3.16) whose format equals this one is read
        // with it, after every newer format failed to validate.
        auto future = parse_debug_offsets(poked(f.at.version, version_hex(3, 16, 0, 0xF0)));
        REQUIRE_MESSAGE(future.has_value(), failure_text(future));
        CHECK(future->format == &f);
        CHECK(future->minor() == 16);
        CHECK(future->value.thread.next == published->value.thread.next);
        // One whose format is new is refused, naming the description missing.
        poke_u64(inserted, f.at.version, version_hex(3, 16, 0, 0xF0));
        auto unknown = parse_debug_offsets(inserted);
        REQUIRE_FALSE(unknown.has_value());
        CHECK(unknown.error().code == errc::unsupported);
        CHECK_MESSAGE(failure_text(unknown).find("no description of Python 3.16's _Py_DebugOffsets format") !=
                          std::string::npos,
                      unknown.error().message());

        CHECK_MESSAGE(victim.running(), "the victim should be alive and not stopped; State: " << victim.state());
        MESSAGE(python.label << ": _Py_DebugOffsets at " << hex(address) << " (" << f.name
                             << " format) give a layout its DWARF confirms");
        ++checked;
    }
    CHECK_MESSAGE(checked > 0, "no 3.13+ interpreter on this machine to read debug offsets from");
    if (const std::string note = test_support::lab_note(); !note.empty()) MESSAGE(note);
}

TEST_CASE("the GIL's locks lie where gil_wait.hpp looks for GIL waiters, in every 3.7+ interpreter's DWARF") {
    std::vector<interpreter_files> pythons;
    for (auto& python : pyenv_interpreters()) {
        if (python.major * 100 + python.minor >= 307) pythons.push_back(std::move(python));
    }
    if (auto debian = debian_python311()) pythons.push_back(std::move(*debian));
    for (auto& python : lab_interpreters()) pythons.push_back(std::move(python));
    REQUIRE(!pythons.empty());
    const std::string gil = "struct _gil_runtime_state";
    for (const auto& python : pythons) {
        CAPTURE(python.label);
        auto dwarf = elf::dwarf_types::open(python.dwarf_path);
        REQUIRE_MESSAGE(dwarf, failure_text(dwarf));
        auto locked = dwarf->member(gil, "locked");
        REQUIRE_MESSAGE(locked, failure_text(locked));
        // A GIL at 0x1000 in a layout whose `locked` is this build's (the
        // layout law tests check that offset in every layout and format).
        layout l = layouts::v3_11;
        l.gil.locked = static_cast<byte_offset>(locked->byte_offset);
        const auto range = gil_wait_range(l, 0x1000);
        REQUIRE(range);
        for (const char* lock : {"cond", "mutex", "switch_cond", "switch_mutex"}) {
            auto m = dwarf->member(gil, lock);
            REQUIRE_MESSAGE(m, lock << ": " << failure_text(m));
            CHECK_MESSAGE(range->contains(0x1000 + m->byte_offset), lock);
            CHECK_MESSAGE(range->contains(0x1000 + m->byte_offset + m->byte_size - 1), lock);
        }
        auto size = dwarf->size_of(gil);
        REQUIRE(size);
        CHECK(range->high == 0x1000 + *size);  // nothing after the locks
    }
    MESSAGE("GIL locks checked in " << pythons.size() << " interpreters");
}
