// triage/cpython/frame_locals.hpp — the arguments and local variables of a
// Python frame of the target, each with a bounded repr of its value.
//
// Offers:
//  - `frame_local{name, kind, repr, type}`: `kind` is local_kind::argument
//    (parameters: positional, keyword-only, *args, **kwargs), local, or cell
//    (a variable the code shares with a closure: its own cells and its free
//    variables); `kind_name(kind)` is "arg", "local" or "cell". `repr` and
//    `type` are python_repr.hpp's: "<unreadable>" when the value cannot be
//    read.
//  - `locals_reader<M>(mem, layout, limits)` and `read(frame)`: the locals
//    of a python_frame (stack_snapshot.hpp: its `address` and `code`), in
//    slot order (parameters first); `frame_locals(mem, layout | target,
//    frame)` does one frame. A reader keeps the types it has read: use one
//    for every frame of a snapshot.
// Where they are, by version:
//  - 2.7, 3.6–3.10: PyFrameObject.f_localsplus, named by co_varnames, then
//    co_cellvars and co_freevars (each slot a cell); the first co_argcount +
//    co_kwonlyargcount (+1 with CO_VARARGS, +1 with CO_VARKEYWORDS)
//    varnames are the parameters. A parameter captured by a closure lives in
//    the cell of the same name (3.6–3.10 leave its own slot NULL, which is
//    what co_cell2arg records; 2.7 keeps its first value there): it is
//    shown once, as an argument, with the cell's value.
//  - 3.11+: _PyInterpreterFrame.localsplus, one slot per co_localsplusnames
//    entry, of the kind co_localspluskinds gives; parameters first, counted
//    as above. Cells are made lazily: a CELL or FREE slot is dereferenced
//    only when it holds a cell object (before MAKE_CELL it holds the value
//    itself). The variables of an inlined comprehension (3.12+ HIDDEN) are
//    left out. 3.14+ slots are tagged _PyStackRef words: 1 (or 0) is
//    unbound, low bits 3 a tagged int (its value is `bits >> 2`), else the
//    object is at `bits & ~3`.
// Unbound variables (not assigned yet, deleted, an empty cell) are left out.
// Frames whose code lacks CO_OPTIMIZED (module bodies, class bodies, exec)
// keep their names in a dict, not in slots: they give no locals.
// Bounds: a code object of more than `max_slots` names is refused; each
// value's repr is bounded by `limits.repr`.
// Errors: errc::invalid_argument for a frame without an address or code;
// the memory source's errors, errc::inconsistent or errc::limit_exceeded
// when the code object's counts and names cannot be read or make no sense
// (context: the function and the frame's address). A value that cannot be
// read is "<unreadable>", never an error.
// Thread-safe: no (caches); one reader per thread. Signal-safe: no.
// Target process: reads only. A running target may change the frame while
// it is read: read it stopped for values that belong together.
//
//   auto snapshot = TRIAGE_TRY(triage::cpython::make_walker(mem, target).snapshot());
//   triage::cpython::locals_reader locals{mem, target.layout};
//   for (const auto& v : TRIAGE_TRY(locals.read(snapshot.threads[0].frames[0])))
//       fmt::print("{} {} = {} ({})\n", kind_name(v.kind), v.name, v.repr, v.type);
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/unaligned.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/python_objects.hpp"
#include "triage/cpython/python_repr.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

enum class local_kind : std::uint8_t {
    argument,  // a parameter
    local,     // a local variable
    cell,      // a variable shared with closures: a cell of its own, or a free variable
};

[[nodiscard]] constexpr std::string_view kind_name(local_kind kind) noexcept {
    switch (kind) {
    case local_kind::argument: return "arg";
    case local_kind::cell: return "cell";
    case local_kind::local: break;
    }
    return "local";
}

struct frame_local {
    std::string name;
    local_kind kind = local_kind::local;
    std::string repr;  // python_repr.hpp's text
    std::string type;  // its type's tp_name; "" when unreadable

    friend bool operator==(const frame_local&, const frame_local&) = default;
};

struct locals_limits {
    std::size_t max_slots = 4096;       // names (co_nlocalsplus) a code object may have
    std::size_t max_name_chars = 256;   // code points of a name
    repr_limits repr{};
};

template <memory::memory_source M>
class locals_reader {
public:
    locals_reader(M& mem, const layout& l, locals_limits limits = {})
        : mem_{&mem}, layout_{l}, limits_{limits}, reprs_{mem, l, limits.repr} {}

    [[nodiscard]] result<std::vector<frame_local>> read(const python_frame& frame) {
        if (!detail::repr::plausible(frame.address) || !detail::repr::plausible(frame.code)) {
            return fail(errc::invalid_argument, "reading the locals of a frame at " + hex(frame.address) + " (code " +
                                                    hex(frame.code) + ")");
        }
        auto locals = read_locals(frame);
        if (!locals) {
            return fail(std::move(locals.error())
                            .within("reading the locals of " + frame.function + " (frame " + hex(frame.address) + ")"));
        }
        return locals;
    }

private:
    // What the code object says of the frame's slots.
    struct code_shape {
        std::uint32_t flags = 0;
        std::size_t arguments = 0;        // the first slots that hold parameters
        std::vector<std::string> names;   // one per slot
        std::vector<std::uint8_t> kinds;  // one per slot, CO_FAST_* (≤3.10: made from the three tuples)
    };

    [[nodiscard]] result<std::vector<frame_local>> read_locals(const python_frame& frame) {
        const code_shape shape = TRIAGE_TRY(read_shape(frame.code));
        if ((shape.flags & co_flag_optimized) == 0) return std::vector<frame_local>{};
        const std::uint64_t first = uses_interpreter_frames(layout_)
                                        ? frame.address + layout_.interpreter_frame.localsplus
                                        : frame.address + layout_.frame_object.size - 8;  // f_localsplus
        std::vector<std::uint64_t> slots(shape.names.size());
        if (!slots.empty()) TRIAGE_TRY(memory::read_exact(*mem_, first, std::as_writable_bytes(std::span{slots})));
        const bool legacy = !has(layout_.variables.localsplusnames);
        std::vector<frame_local> out;
        for (std::size_t i = 0; i < slots.size(); ++i) {
            const std::uint8_t kind = shape.kinds[i];
            if ((kind & co_fast_hidden) != 0) continue;
            bool shared = (kind & (co_fast_cell | co_fast_free)) != 0;
            std::uint64_t slot = slots[i];
            if (legacy && i < shape.arguments) {
                // ≤3.10: a parameter captured by a closure lives in the cell of its name.
                if (auto cell = cell_named(shape, shape.names[i])) {
                    slot = slots[*cell];
                    shared = true;
                }
            } else if (legacy && shared && argument_named(shape, shape.names[i])) {
                continue;  // that parameter's cell, shown with the parameter
            }
            auto value = value_of(slot, shared);
            if (!value) continue;  // unbound
            const local_kind k = i < shape.arguments ? local_kind::argument : shared ? local_kind::cell : local_kind::local;
            out.push_back({shape.names[i], k, std::move(value->text), std::move(value->type)});
        }
        return out;
    }

    [[nodiscard]] static std::optional<std::size_t> cell_named(const code_shape& shape, const std::string& name) {
        for (std::size_t j = shape.arguments; j < shape.names.size(); ++j) {
            if (shape.kinds[j] == co_fast_cell && shape.names[j] == name) return j;
        }
        return std::nullopt;
    }

    [[nodiscard]] static bool argument_named(const code_shape& shape, const std::string& name) {
        const auto parameters = std::span{shape.names}.first(shape.arguments);
        return std::ranges::find(parameters, name) != parameters.end();
    }

    // The value a slot holds (following its cell when `shared` and it holds
    // one), or nothing when unbound.
    [[nodiscard]] std::optional<object_repr> value_of(std::uint64_t slot, bool shared) {
        const std::uint64_t tag_bits = layout_.interpreter_frame.executable_tag_bits;
        if (tag_bits == 3 && (slot & 3) == 3) {  // 3.14+: a tagged int (Py_INT_TAG)
            return object_repr{std::to_string(static_cast<std::int64_t>(slot) >> 2), "int"};
        }
        std::uint64_t object = slot & ~tag_bits;
        if (object == 0) return std::nullopt;
        if (shared && reprs_.is_builtin(object, "cell")) {
            auto ref = memory::read_object<std::uint64_t>(*mem_, object + layout_.builtins.cell_ref);
            if (!ref) return object_repr{std::string(unreadable_repr), {}};
            if (*ref == 0) return std::nullopt;  // an empty cell
            object = *ref;
        }
        return reprs_.repr(object);
    }

    [[nodiscard]] result<code_shape> read_shape(std::uint64_t code) {
        const auto& c = layout_.variables;
        const byte_offset flags = layout_.code.flags;
        std::size_t size = 0;
        for (byte_offset field : {flags, c.argcount, c.kwonlyargcount, c.varnames, c.cellvars, c.freevars,
                                  c.localsplusnames, c.localspluskinds}) {
            if (has(field)) size = std::max<std::size_t>(size, std::size_t{field} + 8);
        }
        std::vector<std::byte> bytes(size);
        TRIAGE_TRY(memory::read_exact(*mem_, code, bytes));
        const auto int_at = [&](byte_offset at) { return has(at) ? load_unaligned<std::int32_t>(bytes, at) : 0; };
        const auto pointer_at = [&](byte_offset at) { return load_unaligned<std::uint64_t>(bytes, at); };
        code_shape shape;
        shape.flags = static_cast<std::uint32_t>(int_at(flags));
        if ((shape.flags & co_flag_optimized) == 0) return shape;
        const std::int32_t argcount = int_at(c.argcount);
        const std::int32_t kwonly = int_at(c.kwonlyargcount);
        if (argcount < 0 || kwonly < 0) {
            return fail(errc::inconsistent, "reading the code object at " + hex(code) + " (" + std::to_string(argcount) +
                                                " + " + std::to_string(kwonly) + " parameters)");
        }
        if (has(c.localsplusnames)) {
            shape.names = TRIAGE_TRY(names(pointer_at(c.localsplusnames), 0));
            shape.kinds = TRIAGE_TRY(kinds(pointer_at(c.localspluskinds), shape.names.size()));
        } else {
            for (const auto& [tuple, kind] : {std::pair{c.varnames, co_fast_local}, std::pair{c.cellvars, co_fast_cell},
                                              std::pair{c.freevars, co_fast_free}}) {
                auto more = TRIAGE_TRY(names(pointer_at(tuple), shape.names.size()));
                shape.kinds.insert(shape.kinds.end(), more.size(), kind);
                shape.names.insert(shape.names.end(), more.begin(), more.end());
            }
        }
        std::size_t arguments = static_cast<std::size_t>(argcount) + static_cast<std::size_t>(kwonly);
        if ((shape.flags & co_flag_varargs) != 0) ++arguments;
        if ((shape.flags & co_flag_varkeywords) != 0) ++arguments;
        shape.arguments = std::min(arguments, shape.names.size());
        return shape;
    }

    // The names in a tuple of str, with `before` slots named already.
    [[nodiscard]] result<std::vector<std::string>> names(std::uint64_t tuple, std::size_t before) {
        const std::size_t room = limits_.max_slots - std::min(before, limits_.max_slots);
        const auto length = TRIAGE_TRY(reprs_.objects().sequence_items(tuple, true, 0)).length;
        if (length > room) {
            return fail(errc::limit_exceeded, "reading the local names at " + hex(tuple) + " (" +
                                                  std::to_string(before + length) + " slots; at most " +
                                                  std::to_string(limits_.max_slots) + ")");
        }
        const auto read = TRIAGE_TRY(reprs_.objects().sequence_items(tuple, true, room));
        std::vector<std::string> out;
        out.reserve(read.items.size());
        for (std::uint64_t name : read.items) {
            auto text = detail::repr::plausible(name) ? read_str(*mem_, layout_, name, limits_.max_name_chars)
                                                      : result<std::string>{std::string(unreadable_repr)};
            out.push_back(text ? std::move(*text) : std::string(unreadable_repr));
        }
        return out;
    }

    // co_localspluskinds: a bytes object of one kind per slot.
    [[nodiscard]] result<std::vector<std::uint8_t>> kinds(std::uint64_t bytes, std::size_t count) {
        if (!detail::repr::plausible(bytes)) return fail(errc::inconsistent, "reading the local kinds at " + hex(bytes));
        const auto size = TRIAGE_TRY(memory::read_object<std::int64_t>(*mem_, bytes + layout_.bytes.ob_size));
        if (size != static_cast<std::int64_t>(count)) {
            return fail(errc::inconsistent, "reading the local kinds at " + hex(bytes) + " (" + std::to_string(size) +
                                                " kinds for " + std::to_string(count) + " names)");
        }
        std::vector<std::uint8_t> out(count);
        if (count != 0) TRIAGE_TRY(memory::read_exact(*mem_, bytes + layout_.bytes.ob_sval, std::as_writable_bytes(std::span{out})));
        return out;
    }

    M* mem_;
    layout layout_;
    locals_limits limits_;
    repr_reader<M> reprs_;
};

// The locals of one frame.
template <memory::memory_source M>
[[nodiscard]] result<std::vector<frame_local>> frame_locals(M& mem, const layout& l, const python_frame& frame,
                                                            locals_limits limits = {}) {
    return locals_reader<M>{mem, l, limits}.read(frame);
}

template <memory::memory_source M>
[[nodiscard]] result<std::vector<frame_local>> frame_locals(M& mem, const python_target& target,
                                                            const python_frame& frame, locals_limits limits = {}) {
    return frame_locals(mem, target.layout, frame, limits);
}

} // namespace triage::cpython
