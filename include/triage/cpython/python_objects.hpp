// triage/cpython/python_objects.hpp — plain Python objects of the target,
// read through a version's layout: str, int, dict, module, and the
// attributes of an instance.
//
// Offers:
//  - `read_str(mem, layout, address, max_chars)`: a str as UTF-8 (3.x str;
//    2.7 str or unicode, told apart by the type's name); `read_str_text`
//    the same with the str's own length (python_string.hpp's decoded_string).
//  - `object_reader<M>(mem, layout, limits)`, for code that follows
//    references between objects (thread_names.hpp):
//      `str(object)`            as read_str;
//      `type_of(object)`        its type's name, flags and sizes;
//      `small_int(object)`      an int that fits 64 bits (sign and magnitude);
//      `sequence_items(object, tuple, n)`: a tuple's or list's length and
//                               its first n items;
//      `set_items(set, n)`      a set's length and its first n keys;
//      `dict_items(dict)`       its {key, value} pairs (object addresses), in
//                               entry order, split tables included;
//      `changing_dict_items(dict)`: the same of a dict a running thread
//                               may change meanwhile: read again (up to 4
//                               times) until its header is the same after
//                               a read as before it;
//      `attributes(instance)`   the {name, value} pairs of an instance's
//                               attributes, wherever the version keeps them
//                               (a dict at tp_dictoffset; 3.11+ managed dicts
//                               and values whose keys the type caches; 3.13+
//                               inline values);
//      `find(items, name)`      the value whose key is the str `name`;
//      `module_dict(modules, name)`: the globals of sys.modules[name].
//    Types it has read, and the key objects `find` matched (interned names),
//    are remembered (by address) for the reader's life.
// Bounds: every count read from the target is checked against `limits`
// before it sizes a read (dict slots and entries ≤ max_items, digits ≤ 3,
// strings ≤ max_chars), pointers must be plausible user addresses, and no
// chain is followed: each call reads a fixed number of objects.
// Errors: errc::bad_address/truncated from the memory source; errc::inconsistent
// for values no live object has (a dict whose sizes disagree, an int that
// does not fit, a bad pointer: garbage, or an object freed under a running
// target); errc::limit_exceeded past `limits`; errc::not_found from find and
// module_dict.
// Thread-safe: no (the type cache); one reader per thread. Signal-safe: no.
// Target process: reads only.
//
//   triage::cpython::object_reader objects{mem, layout};
//   auto globals = TRIAGE_TRY(objects.module_dict(sys_modules, "threading"));
//   auto active = TRIAGE_TRY(objects.find(TRIAGE_TRY(objects.dict_items(globals)), "_active"));
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "triage/base/unaligned.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/python_string.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

// A str (3.x), or a 2.7 str or unicode: its first max_chars as UTF-8, and its length.
template <memory::memory_source M>
[[nodiscard]] result<decoded_string> read_str_text(M& mem, const layout& l, std::uint64_t address,
                                                   std::size_t max_chars, bool py27_unicode = false) {
    if (l.major == 2) {
        if (py27_unicode) {
            py27_unicode_offsets o{l.unicode.length, l.unicode.py2_str, l.unicode.py2_char_size};
            return read_py27_unicode(mem, address, o, max_chars);
        }
        py27_string_offsets o{l.bytes.ob_size, l.bytes.ob_sval};
        return read_py27_str(mem, address, o, max_chars);
    }
    const auto& u = l.unicode;
    unicode_offsets o;
    o.length = u.length;
    o.state = u.state;
    o.ascii_data = u.ascii_data;
    o.compact_data = u.compact_data;
    o.legacy_data = u.legacy_data;
    o.kind_shift = u.kind_shift;
    o.compact_bit = u.compact_bit;
    o.ascii_bit = u.ascii_bit;
    if (u.ready_bit != 0xFF) o.ready_bit = u.ready_bit;
    return read_unicode(mem, address, o, max_chars);
}

// A str (3.x), or a 2.7 str or unicode, as UTF-8, at most max_chars.
template <memory::memory_source M>
[[nodiscard]] result<std::string> read_str(M& mem, const layout& l, std::uint64_t address, std::size_t max_chars,
                                           bool py27_unicode = false) {
    auto s = TRIAGE_TRY(read_str_text(mem, l, address, max_chars, py27_unicode));
    return std::move(s.utf8);
}

struct object_limits {
    std::size_t max_items = 1u << 16;  // dict slots and entries, attributes
    std::size_t max_chars = 1024;      // strs
};

// A key and a value of a dict (object addresses).
struct dict_item {
    std::uint64_t key = 0;
    std::uint64_t value = 0;

    friend bool operator==(const dict_item&, const dict_item&) = default;
};

template <memory::memory_source M>
class object_reader {
public:
    object_reader(M& mem, const layout& l, object_limits limits = {}) : mem_{&mem}, layout_{l}, limits_{limits} {}

    [[nodiscard]] result<std::string> str(std::uint64_t object) {
        TRIAGE_TRY(check_pointer(object, "a str"));
        bool unicode = false;
        if (layout_.major == 2) {
            const type_info* t = TRIAGE_TRY(type_of(object));
            if (t->name != "str" && t->name != "unicode") {
                return fail(errc::inconsistent, "reading a str at " + hex(object) + " (its type is " + t->name + ")");
            }
            unicode = t->name == "unicode";
        }
        return read_str(*mem_, layout_, object, limits_.max_chars, unicode);
    }

    // What the reader knows of a type (PyTypeObject).
    struct type_info {
        std::string name;               // tp_name: "int", "Point", "collections.OrderedDict"
        std::uint64_t flags = 0;        // tp_flags
        std::uint64_t basicsize = 0;
        std::uint64_t itemsize = 0;
        std::int64_t dictoffset = 0;
        std::uint64_t cached_keys = 0;  // ht_cached_keys (heap types, 3.3+)
    };

    // The type of an object (read once per type, then remembered).
    [[nodiscard]] result<const type_info*> type_of(std::uint64_t object) {
        const auto type = TRIAGE_TRY(memory::read_object<std::uint64_t>(*mem_, object + layout_.object.ob_type));
        TRIAGE_TRY(check_pointer(type, "a type"));
        if (auto it = types_.find(type); it != types_.end()) return &it->second;
        return read_type(type);
    }

    // The value of an int of at most 64 bits of magnitude.
    struct small_int_value {
        bool negative = false;
        std::uint64_t magnitude = 0;
    };
    [[nodiscard]] result<small_int_value> small_int(std::uint64_t object) {
        TRIAGE_TRY(check_pointer(object, "an int"));
        const auto& n = layout_.integer;
        std::array<std::byte, 128> bytes{};
        const std::size_t want = std::size_t{n.digits} + (n.format == int_format::machine_word ? 8 : 12);
        if (want > bytes.size() || (has(n.size) && std::size_t{n.size} + 8 > want)) return unsupported_layout("int");
        TRIAGE_TRY(memory::read_exact(*mem_, object, std::span{bytes}.first(want)));
        small_int_value out;
        if (n.format == int_format::machine_word) {
            const auto v = load_unaligned<std::int64_t>(bytes, n.digits);
            out.negative = v < 0;
            out.magnitude = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
            return out;
        }
        std::uint64_t digits = 0;
        if (n.format == int_format::signed_size) {
            const auto size = load_unaligned<std::int64_t>(bytes, n.size);
            out.negative = size < 0;
            digits = size < 0 ? 0 - static_cast<std::uint64_t>(size) : static_cast<std::uint64_t>(size);
        } else {
            const auto tag = load_unaligned<std::uint64_t>(bytes, n.size);
            out.negative = (tag & 3) == 2;
            digits = tag >> 3;
        }
        if (digits > 3) return fail(errc::inconsistent, "reading an int at " + hex(object) + " (" + std::to_string(digits) + " digits)");
        for (std::uint64_t i = digits; i-- > 0;) {
            const auto digit = load_unaligned<std::uint32_t>(bytes, static_cast<byte_offset>(n.digits + 4 * i));
            if (digit >= (1u << 30) || (out.magnitude >> 34) != 0) {
                return fail(errc::inconsistent, "reading an int at " + hex(object) + " (digits past 64 bits)");
            }
            out.magnitude = (out.magnitude << 30) | digit;
        }
        return out;
    }

    // The length of a tuple or a list, and the addresses of its first
    // `max_items` items.
    struct sequence {
        std::uint64_t length = 0;
        std::vector<std::uint64_t> items;
    };
    [[nodiscard]] result<sequence> sequence_items(std::uint64_t object, bool tuple, std::size_t max_items) {
        const std::string what = tuple ? "a tuple" : "a list";
        TRIAGE_TRY(check_pointer(object, what));
        const auto size = TRIAGE_TRY(memory::read_object<std::int64_t>(*mem_, object + layout_.object.ob_size));
        if (size < 0 || size > (std::int64_t{1} << 40)) {
            return fail(errc::inconsistent, "reading " + what + " at " + hex(object) + " (" + std::to_string(size) + " items)");
        }
        sequence out{static_cast<std::uint64_t>(size), {}};
        out.items.resize(std::min<std::uint64_t>(out.length, max_items));
        if (out.items.empty()) return out;
        std::uint64_t items = object + layout_.builtins.tuple_items;
        if (!tuple) {
            items = TRIAGE_TRY(memory::read_object<std::uint64_t>(*mem_, object + layout_.builtins.list_items));
            TRIAGE_TRY(check_pointer(items, "a list's items"));
        }
        TRIAGE_TRY(memory::read_exact(*mem_, items, std::as_writable_bytes(std::span{out.items})));
        return out;
    }

    // A set's (or frozenset's) live key count, and its first `max_items`
    // keys in table order.
    [[nodiscard]] result<sequence> set_items(std::uint64_t object, std::size_t max_items) {
        TRIAGE_TRY(check_pointer(object, "a set"));
        const auto& b = layout_.builtins;
        std::array<std::byte, 128> header{};
        const std::size_t size = std::max({b.set_used, b.set_mask, b.set_table}) + std::size_t{8};
        if (size > header.size() || b.setentry_size < 16 || b.setentry_key + 8 > b.setentry_size) {
            return unsupported_layout("set");
        }
        TRIAGE_TRY(memory::read_exact(*mem_, object, std::span{header}.first(size)));
        const auto used = load_unaligned<std::int64_t>(header, b.set_used);
        const auto mask = load_unaligned<std::uint64_t>(header, b.set_mask);
        const auto table = load_unaligned<std::uint64_t>(header, b.set_table);
        if (mask >= limits_.max_items || ((mask + 1) & mask) != 0 || used < 0 || static_cast<std::uint64_t>(used) > mask + 1) {
            return fail(errc::inconsistent, "reading the set at " + hex(object) + " (" + std::to_string(used) + " keys, mask " +
                                                std::to_string(mask) + ")");
        }
        TRIAGE_TRY(check_pointer(table, "a set's table"));
        sequence out{static_cast<std::uint64_t>(used), {}};
        std::vector<std::byte> entries((mask + 1) * b.setentry_size);
        TRIAGE_TRY(memory::read_exact(*mem_, table, entries));
        // 3.x marks a removed key with hash -1; 2.7 with a str "<dummy key>" (no symbol names it).
        const std::size_t hash_at = b.setentry_key == 0 ? 8 : 0;
        const std::uint64_t wanted = std::min<std::uint64_t>(max_items, out.length);
        for (std::size_t i = 0; i <= mask && out.items.size() < wanted; ++i) {
            const auto key = load_unaligned<std::uint64_t>(entries, i * b.setentry_size + b.setentry_key);
            const auto hash = load_unaligned<std::int64_t>(entries, i * b.setentry_size + hash_at);
            if (key == 0 || (layout_.major >= 3 && hash == -1) || (layout_.major == 2 && is_py2_dummy(key))) continue;
            out.items.push_back(key);
        }
        return out;
    }

    // Every {key, value} of a dict whose value is set, in entry order.
    [[nodiscard]] result<std::vector<dict_item>> dict_items(std::uint64_t dict) {
        return items_of_dict(dict, TRIAGE_TRY(dict_header(dict)));
    }

    // dict_items of a dict that a running thread may change meanwhile (a
    // resize frees the table being read): a read is kept when the dict's
    // header (its item count, version and table) is the same after it as
    // before; else the dict is read again, up to `attempts` times in all.
    [[nodiscard]] result<std::vector<dict_item>> changing_dict_items(std::uint64_t dict, int attempts = 4) {
        auto before = TRIAGE_TRY(dict_header(dict));
        for (int attempt = 1;; ++attempt) {
            auto items = items_of_dict(dict, before);
            auto after = TRIAGE_TRY(dict_header(dict));
            if (after.same_contents(before) && items) return items;
            if (attempt >= attempts) {
                if (!items) return items;
                return fail(errc::inconsistent, "reading the dict at " + hex(dict) + " (it changed at each of " +
                                                    std::to_string(attempts) + " reads)");
            }
            before = after;
        }
    }

    // The attributes of an instance as {name, value}; empty when it has none.
    [[nodiscard]] result<std::vector<dict_item>> attributes(std::uint64_t instance) {
        TRIAGE_TRY(check_pointer(instance, "an instance"));
        const type_info& t = *TRIAGE_TRY(type_of(instance));
        const std::string where = "the attributes of the " + t.name + " at " + hex(instance);
        constexpr std::uint64_t managed_dict = 1u << 4;   // Py_TPFLAGS_MANAGED_DICT (3.11+)
        constexpr std::uint64_t inline_values = 1u << 2;  // Py_TPFLAGS_INLINE_VALUES (3.13+)
        const auto storage = layout_.object.attributes;
        if (storage == attribute_storage::dict_offset || (t.flags & managed_dict) == 0) {
            std::int64_t offset = t.dictoffset;
            if (offset == 0) return std::vector<dict_item>{};
            if (offset < 0) {  // counted from the end of a variable-size object
                const auto size = TRIAGE_TRY(memory::read_object<std::int64_t>(*mem_, instance + layout_.object.ob_size));
                const std::uint64_t items = size < 0 ? 0 - static_cast<std::uint64_t>(size) : static_cast<std::uint64_t>(size);
                if (items > (std::uint64_t{1} << 32)) return fail(errc::inconsistent, "reading " + where);
                offset += static_cast<std::int64_t>((t.basicsize + items * t.itemsize + 7) & ~std::uint64_t{7});
            }
            const auto dict = TRIAGE_TRY(memory::read_object<std::uint64_t>(*mem_, instance + static_cast<std::uint64_t>(offset)));
            if (dict == 0) return std::vector<dict_item>{};
            return dict_items(dict);
        }
        // Managed: the dict pointer sits `managed_dict` bytes before the object (3.11: the values
        // pointer one word before that).
        std::array<std::uint64_t, 2> before{};
        const std::uint64_t back = std::uint64_t{layout_.object.managed_dict} + 8;
        TRIAGE_TRY(memory::read_exact(*mem_, instance - back, std::as_writable_bytes(std::span{before})));
        const std::uint64_t dict_or_values = before[1];
        if (storage == attribute_storage::managed_3_11) {
            if (dict_or_values != 0) return dict_items(dict_or_values);
            if (before[0] == 0) return std::vector<dict_item>{};
            return keys_items(t.cached_keys, before[0], where);
        }
        if (storage == attribute_storage::managed_3_12) {
            if ((dict_or_values & 1) != 0) return keys_items(t.cached_keys, dict_or_values + 1, where);
            if (dict_or_values == 0) return std::vector<dict_item>{};
            return dict_items(dict_or_values);
        }
        if (dict_or_values != 0) return dict_items(dict_or_values);
        if ((t.flags & inline_values) == 0) return std::vector<dict_item>{};
        const std::uint64_t values = instance + t.basicsize;
        std::array<std::uint8_t, 4> values_header{};  // capacity, size, embedded, valid
        TRIAGE_TRY(memory::read_exact(*mem_, values, std::as_writable_bytes(std::span{values_header})));
        if (values_header[3] == 0) return std::vector<dict_item>{};
        return keys_items(t.cached_keys, values, where);
    }

    // The value of the item whose key is the str `name`. The keys' heads
    // are read in one batch; a key that matches there (length and text of
    // a compact ASCII str, or of a 2.7 str) is confirmed by reading it as a
    // str, and only keys the head cannot decide (other kinds of str of the
    // same length) are read one by one.
    [[nodiscard]] result<std::uint64_t> find(std::span<const dict_item> items, std::string_view name) {
        // Attribute and global names are interned: the key object that matched once is the one every
        // instance's dict holds while its class lives.
        if (auto known = matched_keys_.find(std::string(name)); known != matched_keys_.end()) {
            for (const dict_item& item : items) {
                if (item.key == known->second) return item.value;
            }
        }
        const bool py2 = layout_.major == 2;
        const std::size_t text_at = py2 ? layout_.bytes.ob_sval : layout_.unicode.ascii_data;
        const std::size_t head = text_at + name.size();
        std::vector<std::byte> heads(items.size() * head);
        std::vector<memory::read_request> requests(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
            requests[i] = {items[i].key, std::span{heads}.subspan(i * head, head)};
        }
        TRIAGE_TRY(mem_->read_batch(requests));
        for (std::size_t i = 0; i < items.size(); ++i) {
            const auto bytes = std::span<const std::byte>{heads}.subspan(i * head, head);
            bool maybe = requests[i].bytes_read < head;  // undecided: read it whole
            if (!maybe) {
                const auto length = load_unaligned<std::int64_t>(bytes, py2 ? layout_.bytes.ob_size : layout_.unicode.length);
                if (length != static_cast<std::int64_t>(name.size())) continue;
                bool ascii = true;
                if (!py2) {
                    const auto state = load_unaligned<std::uint32_t>(bytes, layout_.unicode.state);
                    ascii = ((state >> layout_.unicode.compact_bit) & 1) != 0 && ((state >> layout_.unicode.ascii_bit) & 1) != 0;
                }
                maybe = !ascii || std::memcmp(bytes.data() + text_at, name.data(), name.size()) == 0;
            }
            if (!maybe) continue;
            auto key = str(items[i].key);
            if (key && *key == name) {
                matched_keys_[std::string(name)] = items[i].key;
                return items[i].value;
            }
        }
        return fail(errc::not_found, "looking up \"" + std::string(name) + "\"");
    }

    // The globals (md_dict) of sys.modules[name], from the sys.modules dict.
    [[nodiscard]] result<std::uint64_t> module_dict(std::uint64_t modules, std::string_view name) {
        auto items = TRIAGE_TRY(dict_items(modules));
        const std::uint64_t module = TRIAGE_TRY(find(items, name));
        TRIAGE_TRY(check_pointer(module, "a module"));
        const auto dict = TRIAGE_TRY(memory::read_object<std::uint64_t>(*mem_, module + layout_.module.dict));
        TRIAGE_TRY(check_pointer(dict, "a module's dict"));
        return dict;
    }

private:
    // A dict's header: PyObject_HEAD, then its count, version and table
    // (2.7: fill, count, mask and table).
    struct dict_header_bytes {
        std::array<std::byte, 128> bytes{};
        std::size_t size = 0;
        // Equal past the reference count, which any reader of the dict changes.
        [[nodiscard]] bool same_contents(const dict_header_bytes& other) const noexcept {
            return size == other.size && std::memcmp(bytes.data() + 8, other.bytes.data() + 8, size - 8) == 0;
        }
    };

    [[nodiscard]] result<dict_header_bytes> dict_header(std::uint64_t dict) {
        TRIAGE_TRY(check_pointer(dict, "a dict"));
        const auto& d = layout_.dict;
        dict_header_bytes header;
        header.size = std::max(d.keys, d.format == dict_format::open_table ? d.mask : d.values) + std::size_t{8};
        if (header.size > header.bytes.size()) return unsupported_layout("dict");
        TRIAGE_TRY(memory::read_exact(*mem_, dict, std::span{header.bytes}.first(header.size)));
        return header;
    }

    [[nodiscard]] result<std::vector<dict_item>> items_of_dict(std::uint64_t dict, const dict_header_bytes& read) {
        const auto& d = layout_.dict;
        const auto header = std::span{read.bytes}.first(read.size);
        if (d.format == dict_format::open_table) {
            const auto mask = load_unaligned<std::uint64_t>(header, d.mask);
            if (mask >= limits_.max_items || ((mask + 1) & mask) != 0) {
                return fail(errc::limit_exceeded, "reading the dict at " + hex(dict) + " (ma_mask " + std::to_string(mask) + ")");
            }
            const auto table = load_unaligned<std::uint64_t>(header, d.keys);
            TRIAGE_TRY(check_pointer(table, "a dict's table"));
            return entries(table, mask + 1, 24, 8, true, "the dict at " + hex(dict));
        }
        return keys_items(load_unaligned<std::uint64_t>(header, d.keys), load_unaligned<std::uint64_t>(header, d.values),
                          "the dict at " + hex(dict));
    }

    // A layout whose offsets lie past what this reader copies (not a CPython layout).
    [[nodiscard]] static std::unexpected<error> unsupported_layout(std::string_view what) {
        return fail(errc::unsupported, "reading a " + std::string(what) + " object", "its layout puts fields past "
                                                                                     "where any CPython version has them");
    }

    [[nodiscard]] bool is_py2_dummy(std::uint64_t key) {
        auto t = type_of(key);
        if (!t || (*t)->name != "str") return false;
        auto text = str(key);
        return text && *text == "<dummy key>";
    }

    [[nodiscard]] static result<void> check_pointer(std::uint64_t address, std::string_view what) {
        if (address >= 0x1000 && address < (std::uint64_t{1} << 47) && address % 8 == 0) return {};
        return fail(errc::inconsistent, "reading " + std::string(what) + ": bad pointer " + hex(address));
    }

    [[nodiscard]] result<const type_info*> read_type(std::uint64_t type) {
        const auto& o = layout_.object;
        std::size_t size = std::max({o.tp_name, o.tp_flags, o.tp_basicsize, o.tp_dictoffset}) + std::size_t{8};
        if (has(o.ht_cached_keys)) size = std::max(size, std::size_t{o.ht_cached_keys} + 8);
        std::vector<std::byte> bytes(size);
        // A static type ends before ht_cached_keys: take what is readable.
        const std::size_t got = TRIAGE_TRY(mem_->read(type, bytes));
        if (got < std::size_t{o.tp_dictoffset} + 8) return fail(errc::bad_address, "reading the type at " + hex(type));
        type_info t;
        t.flags = load_unaligned<std::uint64_t>(bytes, o.tp_flags);
        t.basicsize = load_unaligned<std::uint64_t>(bytes, o.tp_basicsize);
        t.itemsize = load_unaligned<std::uint64_t>(bytes, o.tp_basicsize + 8);
        t.dictoffset = load_unaligned<std::int64_t>(bytes, o.tp_dictoffset);
        if (has(o.ht_cached_keys) && (t.flags & tp_flag_heap_type) != 0) t.cached_keys = load_unaligned<std::uint64_t>(bytes, o.ht_cached_keys);
        if (t.basicsize > (1u << 20) || t.itemsize > (1u << 20)) return fail(errc::inconsistent, "reading the type at " + hex(type));
        std::array<char, 64> name{};
        const auto name_address = load_unaligned<std::uint64_t>(bytes, o.tp_name);
        TRIAGE_TRY(check_pointer(name_address & ~std::uint64_t{7}, "a type's name"));
        const std::size_t name_bytes = TRIAGE_TRY(mem_->read(name_address, std::as_writable_bytes(std::span{name})));
        t.name.assign(name.data(), strnlen(name.data(), std::min(name_bytes, name.size())));
        return &types_.emplace(type, std::move(t)).first->second;
    }

    // The items of a keys object (3.6+), with the values of a split table
    // (values_address + values_array) when values_address != 0. From 3.13
    // the values start with a header whose first byte is their capacity:
    // entries past it (the shared keys grew since) have no value here.
    [[nodiscard]] result<std::vector<dict_item>> keys_items(std::uint64_t keys, std::uint64_t values_address,
                                                            const std::string& where) {
        TRIAGE_TRY(check_pointer(keys, "a dict's keys"));
        const auto& d = layout_.dict;
        std::array<std::byte, 64> header{};
        if (d.keys_indices > header.size()) return unsupported_layout("dict keys");
        TRIAGE_TRY(memory::read_exact(*mem_, keys, std::span{header}.first(d.keys_indices)));
        const auto nentries = load_unaligned<std::int64_t>(header, d.keys_entries);
        std::uint64_t slots = 0;
        std::uint64_t index_bytes = 0;
        std::size_t entry_size = 24;  // {hash, key, value}
        std::size_t key_at = 8;
        if (d.format == dict_format::compact) {
            slots = load_unaligned<std::uint64_t>(header, d.keys_size);
            const std::uint64_t width = slots <= 0xFF ? 1 : slots <= 0xFFFF ? 2 : slots <= 0xFFFF'FFFF ? 4 : 8;
            index_bytes = slots * width;
        } else {
            const auto log2_size = load_unaligned<std::uint8_t>(header, d.keys_size);
            const auto log2_index_bytes = load_unaligned<std::uint8_t>(header, d.keys_index_bytes);
            const auto kind = load_unaligned<std::uint8_t>(header, d.keys_kind);
            if (log2_size > 40 || log2_index_bytes > 43 || kind > 2) {
                return fail(errc::inconsistent, "reading " + where + " (keys at " + hex(keys) + ")");
            }
            slots = std::uint64_t{1} << log2_size;
            index_bytes = std::uint64_t{1} << log2_index_bytes;
            if (kind != 0) {  // unicode or split keys: {key, value}
                entry_size = 16;
                key_at = 0;
            }
        }
        if (nentries < 0 || static_cast<std::uint64_t>(nentries) > slots || slots > limits_.max_items) {
            return fail(errc::limit_exceeded, "reading " + where + " (" + std::to_string(nentries) + " entries of " +
                                                  std::to_string(slots) + " slots)");
        }
        auto items = TRIAGE_TRY(entries(keys + d.keys_indices + index_bytes, static_cast<std::size_t>(nentries),
                                        entry_size, key_at, values_address == 0, where));
        if (values_address == 0) return items;
        // The values' header (if any) and the values, in one read.
        std::vector<std::byte> values(d.values_array + items.size() * 8);
        if (!values.empty()) TRIAGE_TRY(memory::read_exact(*mem_, values_address, values));
        std::size_t count = items.size();
        if (d.values_array != 0) count = std::min(count, std::size_t{load_unaligned<std::uint8_t>(values, 0)});
        std::vector<dict_item> out;
        for (std::size_t i = 0; i < count; ++i) {
            const auto value = load_unaligned<std::uint64_t>(values, d.values_array + i * 8);
            if (items[i].key != 0 && value != 0) out.push_back({items[i].key, value});
        }
        return out;
    }

    // `count` entries of `entry_size` bytes at `address`, the key at key_at
    // and the value after it. with_values: keep only entries with a value;
    // else every entry, by index (the values are elsewhere).
    [[nodiscard]] result<std::vector<dict_item>> entries(std::uint64_t address, std::size_t count, std::size_t entry_size,
                                                         std::size_t key_at, bool with_values, const std::string& where) {
        std::vector<std::byte> bytes(count * entry_size);
        if (!bytes.empty()) {
            auto read = memory::read_exact(*mem_, address, bytes);
            if (!read) return fail(std::move(read.error()).within("reading " + where));
        }
        std::vector<dict_item> out;
        out.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            const std::size_t at = i * entry_size + key_at;
            dict_item item{load_unaligned<std::uint64_t>(bytes, at), load_unaligned<std::uint64_t>(bytes, at + 8)};
            if (with_values && (item.key == 0 || item.value == 0)) continue;
            out.push_back(item);
        }
        return out;
    }

    M* mem_;
    layout layout_;
    object_limits limits_;
    std::unordered_map<std::uint64_t, type_info> types_;
    std::unordered_map<std::string, std::uint64_t> matched_keys_;  // name → the key object that matched it
};

} // namespace triage::cpython
