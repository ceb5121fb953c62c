// triage/cpython/python_repr.hpp — a short, bounded repr of an object of the
// target, read through a version's layout, as Python's repr() prints the
// common types.
//
// Offers:
//  - `repr_reader<M>(mem, layout, limits)` and `repr(object)` →
//    `object_repr{text, type}`; `type` is the type's tp_name ("int",
//    "Point", "collections.OrderedDict").
//      None, True, False, Ellipsis, NotImplemented;
//      int (2.7 int and long too): exact when it has at most
//        `max_int_digits` 30-bit digits and `max_chars` decimal digits
//        ("12345", 2.7 longs "12L"); else its first `max_chars` decimal
//        digits, "…" and the digit count ("31415926…(3000 digits)"); past
//        `max_int_digits`, the first hex digits and the bit count
//        ("0x1fffffff…(100000 bits)"), from its top three digits only;
//      float: `float_repr`, Python's shortest round-trip repr ("1.0",
//        "1e+16", "1e-05", "inf", "nan");
//      str, bytes (2.7 str, unicode): quoted and escaped as Python does for
//        ASCII and the common non-printable characters, the first
//        `max_chars` ("'abc…' (len 5000)");
//      list, tuple, dict, set, frozenset: Python's syntax with the first
//        `max_items` items ("[1, 'a', …] (len 10)"); containers nested
//        `max_depth` deep show only their length ("[…] (len 3)"), and one
//        that contains itself shows as "[...]" / "{...}";
//      any other object, and subclasses of these: "<Point at 0x7f…>".
//    A type is recognised by its tp_name only when it is not a heap type
//    (a class), so no class can pass for a builtin. No symbols are needed.
//  - `float_repr(value)`.
// Bounds: every count read from the target is checked before it sizes a
// read (`limits`); a container shows at most max_items items at each of at
// most max_depth levels; dict and set tables larger than `max_table` are
// not read.
// Errors: none. Whatever cannot be read, or holds values no live object has
// (a bad pointer, a count out of range, a digit past 30 bits), gives
// "<unreadable>" for that value (and type "" when even its type cannot be
// read); the rest of a container is still shown.
// Thread-safe: no (a type cache); one reader per thread. Signal-safe: no.
// Target process: reads only.
//
//   triage::cpython::repr_reader reprs{mem, target.layout};
//   auto shown = reprs.repr(object_address);
//   fmt::print("{} ({})\n", shown.text, shown.type);   // [1, 2, 3] (list)
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/objects.hpp"
#include "triage/cpython/python_objects.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

struct repr_limits {
    std::size_t max_chars = 64;          // code points of a str, bytes of a bytes, decimal digits of an int
    std::size_t max_items = 6;           // items of a container shown
    std::size_t max_depth = 2;           // levels of containers whose items are shown
    std::size_t max_int_digits = 64;     // 30-bit digits of an int read whole (else its top three)
    std::size_t max_table = 1u << 16;    // dict entries and set slots a container may have to be read
};

struct object_repr {
    std::string text;  // "[1, 'a', …] (len 10)"; "<unreadable>"
    std::string type;  // tp_name; "" when the type could not be read

    friend bool operator==(const object_repr&, const object_repr&) = default;
};

inline constexpr std::string_view unreadable_repr = "<unreadable>";

// repr(value) of a Python float: the shortest digits that read back as
// `value`, in fixed notation with ".0" when integral, in exponent notation
// ("1e+16", "1.5e-07") when the exponent is below -4 or 16 and above.
[[nodiscard]] TRIAGE_DECL std::string float_repr(double value);

namespace detail::repr {

// How a str-like object is quoted.
enum class quoting : std::uint8_t {
    str,          // 3.x str: printable non-ASCII kept
    py2_unicode,  // 2.7 unicode: u'...', all non-ASCII escaped
};

// repr of text (UTF-8 of a str's first code points).
[[nodiscard]] TRIAGE_DECL std::string quoted_text(std::string_view utf8, quoting how);

// repr of raw bytes (3.x bytes with prefix "b", 2.7 str with "").
[[nodiscard]] TRIAGE_DECL std::string quoted_bytes(std::span<const std::byte> bytes, std::string_view prefix);

// Decimal digits of the magnitude whose 30-bit digits are `digits` (least
// significant first).
[[nodiscard]] TRIAGE_DECL std::string decimal_digits(std::span<const std::uint32_t> digits);

// The leading hex digits (up to `max_hex`) of a magnitude whose top three
// 30-bit digits are `top` (most significant first) and that has `count`
// digits in all; and its bit count.
struct hex_prefix {
    std::string digits;
    std::uint64_t bits = 0;
};
[[nodiscard]] TRIAGE_DECL hex_prefix leading_hex(std::array<std::uint32_t, 3> top, std::uint64_t count, std::size_t max_hex);

// " (len N)": what follows the first items or characters of something longer.
[[nodiscard]] TRIAGE_DECL std::string length_note(std::uint64_t length);

// A plausible user-space pointer of an x86-64 process, 8-byte aligned.
[[nodiscard]] constexpr bool plausible(std::uint64_t address) noexcept {
    return address >= 0x1000 && address < (std::uint64_t{1} << 47) && address % 8 == 0;
}

} // namespace detail::repr

template <memory::memory_source M>
class repr_reader {
public:
    repr_reader(M& mem, const layout& l, repr_limits limits = {})
        : mem_{&mem}, layout_{l}, limits_{limits},
          objects_{mem, l, object_limits{.max_items = limits.max_table, .max_chars = limits.max_chars}} {}

    [[nodiscard]] object_repr repr(std::uint64_t object) {
        std::vector<std::uint64_t> ancestors;
        return repr_at(object, 0, ancestors);
    }

    // Whether the object is an instance of the interpreter's own type
    // `type_name` ("cell", "str"): a type of that name that no class made.
    [[nodiscard]] bool is_builtin(std::uint64_t object, std::string_view type_name) {
        if (!detail::repr::plausible(object)) return false;
        auto type = objects_.type_of(object);
        return type && (*type)->name == type_name && ((*type)->flags & tp_flag_heap_type) == 0;
    }

    // The object reader underneath (its type cache is shared).
    [[nodiscard]] object_reader<M>& objects() noexcept { return objects_; }

private:
    using type_info = typename object_reader<M>::type_info;

    [[nodiscard]] object_repr repr_at(std::uint64_t object, std::size_t depth, std::vector<std::uint64_t>& ancestors) {
        if (!detail::repr::plausible(object)) return {std::string(unreadable_repr), {}};
        auto type = objects_.type_of(object);
        if (!type) return {std::string(unreadable_repr), {}};
        const type_info& t = **type;
        object_repr out{{}, t.name};
        auto text = (t.flags & tp_flag_heap_type) != 0 ? result<std::string>{generic(object, t)}
                                               : builtin(object, t, depth, ancestors);
        out.text = text ? std::move(*text) : std::string(unreadable_repr);
        return out;
    }

    [[nodiscard]] static std::string generic(std::uint64_t object, const type_info& t) {
        return "<" + t.name + " at " + hex(object) + ">";
    }

    [[nodiscard]] result<std::string> builtin(std::uint64_t object, const type_info& t, std::size_t depth,
                                              std::vector<std::uint64_t>& ancestors) {
        const std::string_view name = t.name;
        const bool py2 = layout_.major == 2;
        if (name == "NoneType") return std::string("None");
        if (name == "ellipsis") return std::string("Ellipsis");
        if (name == "NotImplementedType") return std::string("NotImplemented");
        if (name == "bool") {
            auto value = TRIAGE_TRY(objects_.small_int(object));
            return std::string(value.magnitude != 0 ? "True" : "False");
        }
        if (name == "int") return int_text(object, layout_.integer, "");
        // 2.7's long is the 3.x int before 3.12: a signed digit count, then the digits.
        if (name == "long" && py2) return int_text(object, layouts::int_3_0, "L");
        if (name == "float") {
            const auto value = TRIAGE_TRY(memory::read_object<double>(*mem_, object + layout_.builtins.float_value));
            return float_repr(value);
        }
        if ((name == "str" && !py2) || (name == "unicode" && py2)) {
            auto s = TRIAGE_TRY(read_str_text(*mem_, layout_, object, limits_.max_chars, py2));
            const auto how = py2 ? detail::repr::quoting::py2_unicode : detail::repr::quoting::str;
            std::string out = detail::repr::quoted_text(s.utf8, how);
            return s.truncated ? cut_quoted(std::move(out), s.length) : out;
        }
        if (name == "bytes" || (name == "str" && py2)) return bytes_text(object, py2 ? "" : "b");
        for (std::string_view container : {"list", "tuple", "dict", "set", "frozenset"}) {
            if (name == container) return container_text(object, name, depth, ancestors);
        }
        return generic(object, t);
    }

    // Puts the "…" inside the closing quote, then the length.
    [[nodiscard]] static std::string cut_quoted(std::string quoted, std::uint64_t length) {
        const char quote = quoted.back();
        quoted.pop_back();
        return quoted + "\u2026" + quote + detail::repr::length_note(length);
    }

    [[nodiscard]] result<std::string> bytes_text(std::uint64_t object, std::string_view prefix) {
        const auto size = TRIAGE_TRY(memory::read_object<std::int64_t>(*mem_, object + layout_.bytes.ob_size));
        if (size < 0 || size > (std::int64_t{1} << 40)) return inconsistent("a bytes object", object);
        const auto length = static_cast<std::uint64_t>(size);
        std::vector<std::byte> bytes(std::min<std::uint64_t>(length, limits_.max_chars));
        if (!bytes.empty()) TRIAGE_TRY(memory::read_exact(*mem_, object + layout_.bytes.ob_sval, bytes));
        std::string out = detail::repr::quoted_bytes(bytes, prefix);
        return bytes.size() < length ? cut_quoted(std::move(out), length) : out;
    }

    [[nodiscard]] static std::unexpected<error> inconsistent(std::string_view what, std::uint64_t object) {
        return fail(errc::inconsistent, "reading " + std::string(what) + " at " + hex(object));
    }

    // ---- ints
    [[nodiscard]] result<std::string> int_text(std::uint64_t object, const int_layout& n, std::string_view suffix) {
        namespace r = detail::repr;
        if (n.format == int_format::machine_word) {
            const auto value = TRIAGE_TRY(memory::read_object<std::int64_t>(*mem_, object + n.digits));
            return std::to_string(value) + std::string(suffix);
        }
        const auto size = TRIAGE_TRY(memory::read_object<std::int64_t>(*mem_, object + n.size));
        bool negative = false;
        std::uint64_t count = 0;
        if (n.format == int_format::signed_size) {
            negative = size < 0;
            count = negative ? 0 - static_cast<std::uint64_t>(size) : static_cast<std::uint64_t>(size);
        } else {
            const auto tag = static_cast<std::uint64_t>(size);
            negative = (tag & 3) == 2;
            count = tag >> 3;
            if ((tag & 3) == 3 || ((tag & 3) == 1) != (count == 0)) return inconsistent("an int", object);
        }
        if (count > (std::uint64_t{1} << 40)) return inconsistent("an int", object);
        if (count == 0) return "0" + std::string(suffix);
        const std::string sign = negative ? "-" : "";
        if (count > std::max<std::size_t>(limits_.max_int_digits, 3)) {
            // Only the top three digits: a hex prefix is exact from them.
            std::array<std::uint32_t, 3> top{};
            TRIAGE_TRY(memory::read_exact(*mem_, object + n.digits + 4 * (count - 3), std::as_writable_bytes(std::span{top})));
            if (std::ranges::any_of(top, [](std::uint32_t d) { return d >= (1u << 30); }) || top[2] == 0) {
                return inconsistent("an int", object);
            }
            const auto prefix = r::leading_hex({top[2], top[1], top[0]}, count, limits_.max_chars);
            return sign + "0x" + prefix.digits + "\u2026(" + std::to_string(prefix.bits) + " bits)";
        }
        std::vector<std::uint32_t> digits(count);
        TRIAGE_TRY(memory::read_exact(*mem_, object + n.digits, std::as_writable_bytes(std::span{digits})));
        if (std::ranges::any_of(digits, [](std::uint32_t d) { return d >= (1u << 30); }) || digits.back() == 0) {
            return inconsistent("an int", object);
        }
        const std::string decimal = r::decimal_digits(digits);
        if (decimal.size() <= limits_.max_chars) return sign + decimal + std::string(suffix);
        return sign + decimal.substr(0, limits_.max_chars) + "\u2026(" + std::to_string(decimal.size()) + " digits)";
    }

    // ---- containers (dicts: key, value, key, value... in `items`)
    using sequence = typename object_reader<M>::sequence;

    [[nodiscard]] result<sequence> dict_items(std::uint64_t object, std::size_t shown) {
        auto all = TRIAGE_TRY(objects_.dict_items(object));
        sequence out;
        out.length = all.size();
        for (std::size_t i = 0; i < all.size() && i < shown; ++i) {
            out.items.push_back(all[i].key);
            out.items.push_back(all[i].value);
        }
        return out;
    }

    [[nodiscard]] result<std::string> container_text(std::uint64_t object, std::string_view type, std::size_t depth,
                                                     std::vector<std::uint64_t>& ancestors) {
        const bool dict = type == "dict";
        const bool list = type == "list";
        const bool tuple = type == "tuple";
        const bool frozen = type == "frozenset";
        const bool py2 = layout_.major == 2;
        // Brackets: 3.x {…}, frozenset({…}), empty set() and frozenset(); 2.7 set([…]), frozenset([…]).
        std::string open = list ? "[" : tuple ? "(" : "{";
        std::string close = list ? "]" : tuple ? ")" : "}";
        if (!dict && !list && !tuple) {
            open = py2 ? std::string(type) + "([" : frozen ? "frozenset({" : "{";
            close = py2 ? "])" : frozen ? "})" : "}";
        }
        if (std::ranges::find(ancestors, object) != ancestors.end()) return open + "..." + close;
        const std::size_t shown = depth < limits_.max_depth ? limits_.max_items : 0;
        const auto read = TRIAGE_TRY(dict ? dict_items(object, shown)
                                     : (list || tuple) ? objects_.sequence_items(object, tuple, shown)
                                                       : objects_.set_items(object, shown));
        if (read.length == 0) return dict || list || tuple || py2 ? open + close : std::string(type) + "()";
        if (shown == 0) return open + "\u2026" + close + detail::repr::length_note(read.length);
        ancestors.push_back(object);
        std::string out = open;
        const std::size_t step = dict ? 2 : 1;
        for (std::size_t i = 0; i < read.items.size(); i += step) {
            if (i != 0) out += ", ";
            out += repr_at(read.items[i], depth + 1, ancestors).text;
            if (dict) out += ": " + repr_at(read.items[i + 1], depth + 1, ancestors).text;
        }
        ancestors.pop_back();
        const std::uint64_t listed = read.items.size() / step;
        if (listed < read.length) {
            return out + (listed != 0 ? ", " : "") + "\u2026" + close + detail::repr::length_note(read.length);
        }
        if (tuple && read.length == 1) out += ",";
        return out + close;
    }

    M* mem_;
    layout layout_;
    repr_limits limits_;
    object_reader<M> objects_;
};

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/python_repr.ipp"
#endif
