// triage/cpython/impl/debug_offsets.ipp — the definitions of
// triage/cpython/debug_offsets.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/debug_offsets.hpp"
#include "triage/cpython/layouts/objects.hpp"

namespace triage::cpython::detail {

[[nodiscard]] TRIAGE_DECL std::uint64_t debug_offsets_u64(std::span<const std::byte> bytes, debug_position at) {
    std::uint64_t value = 0;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;
}

[[nodiscard]] TRIAGE_DECL std::string version_text(std::uint64_t version_hex) {
    return std::to_string((version_hex >> 24) & 0xFF) + "." + std::to_string((version_hex >> 16) & 0xFF) + "." +
           std::to_string((version_hex >> 8) & 0xFF);
}

[[nodiscard]] TRIAGE_DECL std::string known_formats() {
    std::string out;
    for (const auto& f : debug_offsets_formats) {
        if (!out.empty()) out += ", ";
        out += f.name;
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL decoded decode_debug_offsets(const debug_offsets_format& format, std::span<const std::byte> bytes,
                                                       std::uint64_t version_hex) {
    const debug_format::positions& f = format.at;
    const debug_format::unpublished& u = format.unpublished;
    debug_offsets_checker check{bytes};
    constexpr std::uint64_t mib = 1024 * 1024;
    // Sizes are generous bounds; the fixed values below pin the format.
    const auto runtime_size = check.size("runtime_state.size", f.runtime_state.size, 64, 64 * mib);
    const auto interp_size = check.size("interpreter_state.size", f.interpreter_state.size, 64, 64 * mib);
    const auto thread_size = check.size("thread_state.size", f.thread_state.size, 64, 64 * 1024);
    const auto frame_size = check.size("interpreter_frame.size", f.interpreter_frame.size, 16, 4096);
    const auto code_size = check.size("code_object.size", f.code_object.size, 64, 4096);
    // A free-threaded build's object header is 32 bytes (ob_tid, flags, mutex, gc bits, local and
    // shared refcounts, then ob_type), the GIL build's 16: every object's fields move by the difference.
    const bool free_threaded = debug_offsets_u64(bytes, f.free_threaded) != 0;
    const std::uint64_t header = free_threaded ? 32 : 16;
    const byte_offset delta = static_cast<byte_offset>(header - 16);
    const auto object_size = check.size("pyobject.size", f.pyobject.size, header, header);
    const auto type_size = check.size("type_object.size", f.type_object.size, 64, 4096);
    const auto tuple_size = check.size("tuple_object.size", f.tuple_object.size, 24, 4096);
    const auto dict_size = check.size("dict_object.size", f.dict_object.size, 32, 4096);
    const auto long_size = check.size("long_object.size", f.long_object.size, 24, 4096);
    const auto bytes_size = check.size("bytes_object.size", f.bytes_object.size, 24, 4096);
    const auto unicode_size = check.size("unicode_object.size", f.unicode_object.size, 32, 4096);

    layout l{};
    l.major = static_cast<std::uint8_t>((version_hex >> 24) & 0xFF);
    l.minor = static_cast<std::uint8_t>((version_hex >> 16) & 0xFF);
    // What every version with debug offsets shares (3.13+): the interpreter
    // list in _PyRuntime, the current thread only in a C thread-local, the
    // GIL behind a pointer of the interpreter, _PyInterpreterFrame, and the
    // location table.
    l.position = instruction_position::pointer;
    l.runtime = {interpreter_root::runtime, current_thread_root::thread_local_only, gil_root::interpreter_pointer,
                 check.field("runtime_state.interpreters_head", f.runtime_state.interpreters_head, runtime_size),
                 offset_none, offset_none};

    l.interpreter.next = check.field("interpreter_state.next", f.interpreter_state.next, interp_size);
    l.interpreter.threads_head =
        check.field("interpreter_state.threads_head", f.interpreter_state.threads_head, interp_size);
    l.interpreter.id = check.field("interpreter_state.id", f.interpreter_state.id, interp_size);
    l.interpreter.gil_pointer = check.field("interpreter_state.ceval_gil", f.interpreter_state.ceval_gil, interp_size);
    if (f.interpreter_state.threads_main != position_none) {
        l.interpreter.threads_main =
            check.field("interpreter_state.threads_main", f.interpreter_state.threads_main, interp_size);
    }
    l.interpreter.modules =
        check.field("interpreter_state.imports_modules", f.interpreter_state.imports_modules, interp_size);
    check.distinct("interpreter_state",
                   {l.interpreter.next, l.interpreter.threads_head, l.interpreter.id, l.interpreter.modules});
    const byte_offset gil =
        check.field("interpreter_state.gil_runtime_state", f.interpreter_state.gil_runtime_state, interp_size);
    const byte_offset locked = check.field("interpreter_state.gil_runtime_state_locked",
                                           f.interpreter_state.gil_runtime_state_locked, interp_size, 4);
    const byte_offset holder = check.field("interpreter_state.gil_runtime_state_holder",
                                           f.interpreter_state.gil_runtime_state_holder, interp_size);
    l.gil = {offset_none, offset_none};
    if (has(gil) && has(locked) && has(holder)) {
        if (locked < gil || holder < gil) check.complain("interpreter_state.gil_runtime_state", gil);
        l.gil.locked = locked - gil;
        l.gil.last_holder = holder - gil;
    }

    auto& t = l.thread;
    t.size = static_cast<byte_offset>(thread_size);
    t.prev = check.field("thread_state.prev", f.thread_state.prev, thread_size);
    t.next = check.field("thread_state.next", f.thread_state.next, thread_size);
    t.interp = check.field("thread_state.interp", f.thread_state.interp, thread_size);
    t.frame = t.cframe = t.cframe_current_frame = offset_none;
    t.current_frame = check.field("thread_state.current_frame", f.thread_state.current_frame, thread_size);
    t.thread_id = check.field("thread_state.thread_id", f.thread_state.thread_id, thread_size);
    t.native_thread_id = check.field("thread_state.native_thread_id", f.thread_state.native_thread_id, thread_size);
    check.distinct("thread_state", {t.prev, t.next, t.interp, t.current_frame, t.thread_id, t.native_thread_id});

    l.frame_object = {offset_none, offset_none, offset_none, offset_none, offset_none};

    auto& fr = l.interpreter_frame;
    fr.previous = check.field("interpreter_frame.previous", f.interpreter_frame.previous, frame_size);
    fr.code = check.field("interpreter_frame.executable", f.interpreter_frame.executable, frame_size);
    fr.instr = check.field("interpreter_frame.instr_ptr", f.interpreter_frame.instr_ptr, frame_size);
    fr.is_entry = offset_none;
    fr.owner = check.field("interpreter_frame.owner", f.interpreter_frame.owner, frame_size, 1);
    fr.localsplus = check.field("interpreter_frame.localsplus", f.interpreter_frame.localsplus, frame_size);
    fr.size = fr.localsplus;
    // The walker copies a frame up to localsplus: every field it reads lies before.
    struct frame_field {
        std::string_view name;
        byte_offset at;
        std::uint32_t width;
    };
    for (const frame_field& field : {frame_field{"previous", fr.previous, 8}, frame_field{"executable", fr.code, 8},
                                     frame_field{"instr_ptr", fr.instr, 8}, frame_field{"owner", fr.owner, 1}}) {
        if (has(field.at) && has(fr.localsplus) && field.at + field.width > fr.localsplus) {
            check.complain("interpreter_frame." + std::string(field.name) + " (after localsplus)", field.at);
        }
    }
    fr.owned_by_generator = u.owned_by_generator;
    fr.first_shim_owner = u.first_shim_owner;
    fr.executable_tag_bits = u.executable_tag_bits;
    check.distinct("interpreter_frame", {fr.previous, fr.code, fr.instr, fr.owner, fr.localsplus});

    auto& c = l.code;
    c.lines = line_table_format::location_table;
    c.size = static_cast<byte_offset>(code_size);
    c.flags = u.co_flags + delta;
    c.filename = check.field("code_object.filename", f.code_object.filename, code_size);
    c.name = check.field("code_object.name", f.code_object.name, code_size);
    c.qualname = check.field("code_object.qualname", f.code_object.qualname, code_size);
    c.lnotab = offset_none;
    c.linetable = check.field("code_object.linetable", f.code_object.linetable, code_size);
    c.firstlineno = check.field("code_object.firstlineno", f.code_object.firstlineno, code_size, 4);
    c.code = offset_none;
    c.code_adaptive = check.field("code_object.co_code_adaptive", f.code_object.co_code_adaptive, code_size, 1);
    c.firsttraceable = u.co_firsttraceable + delta;
    auto& v = l.variables;
    v.argcount = check.field("code_object.argcount", f.code_object.argcount, code_size, 4);
    v.kwonlyargcount = u.co_kwonlyargcount + delta;
    v.varnames = v.cellvars = v.freevars = offset_none;
    v.localsplusnames = check.field("code_object.localsplusnames", f.code_object.localsplusnames, code_size);
    v.localspluskinds = check.field("code_object.localspluskinds", f.code_object.localspluskinds, code_size);
    check.distinct("code_object", {c.filename, c.name, c.qualname, c.linetable, c.firstlineno, c.code_adaptive,
                                   v.argcount, v.localsplusnames, v.localspluskinds});
    if (has(c.code_adaptive) && (c.flags + 4 > c.code_adaptive || c.firsttraceable + 4 > c.code_adaptive)) {
        check.complain("code_object.co_code_adaptive (before co_flags or _co_firsttraceable)", c.code_adaptive);
    }

    // The object header: ob_type last, then a variable-size object's ob_size.
    l.free_threaded = free_threaded;
    l.object.ob_type = check.field("pyobject.ob_type", f.pyobject.ob_type, object_size);
    check.fixed("pyobject.ob_type", l.object.ob_type, header - 8);
    l.object.ob_size = check.field("tuple_object.ob_size", f.tuple_object.ob_size, tuple_size);
    check.fixed("tuple_object.ob_size", l.object.ob_size, header);
    l.object.tp_name = check.field("type_object.tp_name", f.type_object.tp_name, type_size);
    check.fixed("type_object.tp_name", l.object.tp_name, header + 8);
    l.object.tp_flags = check.field("type_object.tp_flags", f.type_object.tp_flags, type_size);
    // PyTypeObject's head has not moved since 2.x (after the object header); 3.15 publishes two of
    // its fields.
    l.object.tp_basicsize = 32 + delta;
    l.object.tp_dictoffset = 288 + delta;
    if (has(f.type_object.tp_basicsize)) {
        check.fixed("type_object.tp_basicsize", debug_offsets_u64(bytes, f.type_object.tp_basicsize), l.object.tp_basicsize);
        check.fixed("type_object.tp_dictoffset", debug_offsets_u64(bytes, f.type_object.tp_dictoffset),
                    l.object.tp_dictoffset);
    }
    if (has(f.heap_type_object.size)) {
        const auto heap_type_size = check.size("heap_type_object.size", f.heap_type_object.size, type_size, 4096);
        l.object.ht_cached_keys =
            check.field("heap_type_object.ht_cached_keys", f.heap_type_object.ht_cached_keys, heap_type_size);
    } else {
        l.object.ht_cached_keys = u.ht_cached_keys + delta;
    }
    if (has(l.object.ht_cached_keys) && l.object.ht_cached_keys < type_size) {
        check.complain("ht_cached_keys (inside PyTypeObject)", l.object.ht_cached_keys);
    }
    l.object.attributes = attribute_storage::inline_values;
    // MANAGED_DICT_OFFSET: three words before the object, one in a free-threaded build (whose GC
    // links are not in front of the object).
    l.object.managed_dict = free_threaded ? 8 : 24;

    // Dicts: the object is published; the keys object and the values
    // (Include/internal/pycore_dict.h) have kept one layout since 3.13.
    l.dict = layouts::dict_3_13;
    l.dict.keys = check.field("dict_object.ma_keys", f.dict_object.ma_keys, dict_size);
    l.dict.values = check.field("dict_object.ma_values", f.dict_object.ma_values, dict_size);
    check.distinct("dict_object", {l.dict.keys, l.dict.values});
    l.integer = layouts::int_3_12;
    l.integer.size = check.field("long_object.lv_tag", f.long_object.lv_tag, long_size);
    l.integer.digits = check.field("long_object.ob_digit", f.long_object.ob_digit, long_size, 4);
    check.distinct("long_object", {l.integer.size, l.integer.digits});
    l.module = layouts::module_all;
    l.module.dict += delta;

    // Containers, floats and cells: what the format publishes, else the
    // fields every GIL build of its versions has.
    auto& b = l.builtins;
    b.tuple_items = check.field("tuple_object.ob_item", f.tuple_object.ob_item, tuple_size);
    if (has(b.tuple_items) && b.tuple_items < l.object.ob_size + 8) check.complain("tuple_object.ob_item", b.tuple_items);
    const auto list_size = check.size("list_object.size", f.list_object.size, header + 16, 4096);
    b.list_items = check.field("list_object.ob_item", f.list_object.ob_item, list_size);
    check.fixed("list_object.ob_item", b.list_items, header + 8);
    b.set_used = u.set_used + delta;
    b.set_mask = u.set_mask + delta;
    b.set_table = u.set_table + delta;
    if (has(f.set_object.size)) {
        const auto set_size = check.size("set_object.size", f.set_object.size, header + 32, 4096);
        b.set_used = check.field("set_object.used", f.set_object.used, set_size);
        b.set_mask = check.field("set_object.mask", f.set_object.mask, set_size);
        b.set_table = check.field("set_object.table", f.set_object.table, set_size);
        check.distinct("set_object", {b.set_used, b.set_mask, b.set_table});
    }
    b.setentry_key = u.setentry_key;
    b.setentry_size = u.setentry_size;
    const auto float_size = check.size("float_object.size", f.float_object.size, header + 8, 4096);
    b.float_value = check.field("float_object.ob_fval", f.float_object.ob_fval, float_size);
    check.fixed("float_object.ob_fval", b.float_value, header);
    b.cell_ref = u.cell_ob_ref + delta;

    l.bytes.ob_size = check.field("bytes_object.ob_size", f.bytes_object.ob_size, bytes_size);
    check.fixed("bytes_object.ob_size", l.bytes.ob_size, header);
    l.bytes.ob_sval = check.field("bytes_object.ob_sval", f.bytes_object.ob_sval, bytes_size, 1);

    auto& s = l.unicode;
    s.length = check.field("unicode_object.length", f.unicode_object.length, unicode_size);
    s.state = check.field("unicode_object.state", f.unicode_object.state, unicode_size, 4);
    s.kind_shift = u.unicode_kind_shift;
    s.compact_bit = u.unicode_compact_bit;
    s.ascii_bit = u.unicode_ascii_bit;
    s.ready_bit = 0xFF;  // gone since 3.12
    // PyUnicodeObject is PyCompactUnicodeObject plus one data pointer.
    s.legacy_data = static_cast<byte_offset>(unicode_size - 8);
    s.ascii_data =
        check.field("unicode_object.asciiobject_size", f.unicode_object.asciiobject_size, unicode_size - 8, 0);
    s.compact_data = has(f.unicode_object.compactunicodeobject_size)
                         ? check.field("unicode_object.compactunicodeobject_size",
                                       f.unicode_object.compactunicodeobject_size, unicode_size - 8, 0)
                         : s.legacy_data;
    s.py2_str = offset_none;
    s.py2_char_size = 0;
    return {l, check.problems()};
}

} // namespace triage::cpython::detail

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<debug_offsets> parse_debug_offsets(std::span<const std::byte> bytes) {
    namespace d = detail;
    constexpr std::size_t header = 16;  // the cookie and the version
    if (bytes.size() < header) {
        return fail(errc::truncated, "reading _Py_DebugOffsets (" + std::to_string(bytes.size()) + " bytes)");
    }
    if (std::memcmp(bytes.data(), debug_offsets_cookie.data(), debug_offsets_cookie.size()) != 0) {
        return fail(errc::malformed, "reading _Py_DebugOffsets (no \"xdebugpy\" cookie)",
                    "only CPython 3.13 and later publish debug offsets at the start of _PyRuntime");
    }
    debug_offsets out;
    out.version_hex = d::debug_offsets_u64(bytes, 8);
    const std::string context = "reading _Py_DebugOffsets of Python " + d::version_text(out.version_hex);
    if (out.major() != 3 || out.minor() < 13 || (out.version_hex >> 32) != 0) {
        return fail(errc::malformed, "reading _Py_DebugOffsets (version " + hex(out.version_hex) + ")");
    }

    // The format of the version, or, for a version newer than every known
    // format, each known one, newest first.
    std::vector<const debug_offsets_format*> candidates;
    for (const auto& f : debug_offsets_formats) {
        if (out.version_hex >= f.first_version && out.version_hex < f.end_version) candidates.push_back(&f);
    }
    const bool newer = out.version_hex >= debug_offsets_formats.back().end_version;
    if (newer) {
        for (auto it = debug_offsets_formats.rbegin(); it != debug_offsets_formats.rend(); ++it) candidates.push_back(&*it);
    }
    if (candidates.empty()) {
        return fail(errc::unsupported, context + " (version " + hex(out.version_hex) + ")",
                    "its _Py_DebugOffsets format is none of those triage knows (" + d::known_formats() +
                        ", each from its first release candidate): an earlier pre-release lays it out differently");
    }

    std::string tried;
    for (const debug_offsets_format* f : candidates) {
        if (bytes.size() < f->at.total_size) {
            const std::string sizes = std::to_string(bytes.size()) + " of " + std::to_string(f->at.total_size) + " bytes";
            if (!newer) return fail(errc::truncated, context + " (" + sizes + ")");
            tried += std::string(tried.empty() ? "" : "; ") + "as " + std::string(f->name) + "'s: only " + sizes;
            continue;
        }
        auto decoded = d::decode_debug_offsets(*f, bytes, out.version_hex);
        if (decoded.problems.empty()) {
            out.format = f;
            out.value = decoded.value;
            return out;
        }
        if (!newer) {
            return fail(errc::malformed, context + " (implausible values: " + decoded.problems + ")",
                        "the runtime is corrupted, or this build lays out _Py_DebugOffsets unlike " +
                            std::string(f->name) + "'s");
        }
        tried += std::string(tried.empty() ? "" : "; ") + "as " + std::string(f->name) + "'s: " + decoded.problems;
    }
    return fail(errc::unsupported, context + " (implausible values " + tried + ")",
                "no description of Python " + std::to_string(out.major()) + "." + std::to_string(out.minor()) +
                    "'s _Py_DebugOffsets format: its layout differs from every known one (" + d::known_formats() +
                    "); describe it in triage/cpython/debug_offsets.hpp from that version's "
                    "Include/internal/pycore_debug_offsets.h");
}

} // namespace triage::cpython
