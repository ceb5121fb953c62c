// cpython::frame_locals (and python_repr) against every interpreter on the
// machine: a victim (tests/victims/py_locals.py) parks a thread in a
// closure whose frame holds arguments and locals of every kind and writes
// its own repr() of each; the locals we read from the live process and from
// a core written of it must be exactly those variables, of the victim's
// kinds and types, with the victim's repr for every value short enough to
// be shown whole, and a prefix of it (with the length, digit or bit count
// the victim gives) for the rest. Module frames give no locals. Then
// synthetic memory full of garbage: counts out of range, bad pointers,
// containers that contain themselves: every value is "<unreadable>" or
// bounded, and a code object past the limits is refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "cpython/victim_core.hpp"
#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "triage/base/read_file.hpp"
#include "triage/cpython/core_target.hpp"
#include "triage/cpython/frame_locals.hpp"
#include "triage/cpython/layouts/all.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/python_repr.hpp"
#include "triage/memory/buffer_source.hpp"

using triage::test_support::failure_text;

namespace frame_locals_test {

using namespace triage;
using namespace triage::testing;

// Values whose repr we cut (longer than repr_limits allow, or nested
// deeper), or show as <Type at 0x…>: compared by prefix, length and id.
bool shown_in_part(const std::string& name) {
    for (const char* cut : {"long_int", "huge", "long_str", "nested", "long_list", "point", "closure"}) {
        if (name == cut) return true;
    }
    return false;
}

// The number in "(len N)", "(N digits)" or "(N bits)" at the end of a repr, or nothing.
std::optional<std::uint64_t> count_at_end(const std::string& text, std::string_view unit) {
    const std::string tail = std::string(unit) + ")";
    if (!text.ends_with(tail)) return std::nullopt;
    const std::size_t open = text.rfind('(');
    if (open == std::string::npos) return std::nullopt;
    std::string number = text.substr(open + 1, text.size() - tail.size() - open - 1);
    if (number.starts_with("len ")) number = number.substr(4);
    return std::stoull(number);
}

void check_value(const cpython::frame_local& ours, const nlohmann::json& expected) {
    const std::string name = expected["name"];
    const std::string python_repr = expected["repr"];
    INFO(name << ": ours " << ours.repr << " (" << ours.type << "), python's " << python_repr << " ("
              << expected["type"].get<std::string>() << ")");
    CHECK(ours.type == expected["type"].get<std::string>());
    CHECK(cpython::kind_name(ours.kind) == expected["kind"].get<std::string>());
    if (!shown_in_part(name)) {
        CHECK(ours.repr == python_repr);
        return;
    }
    if (name == "point" || name == "closure") {
        CHECK(ours.repr == "<" + ours.type + " at " + expected["id"].get<std::string>() + ">");
        return;
    }
    const std::size_t cut = ours.repr.find("\u2026");
    REQUIRE_MESSAGE(cut != std::string::npos, "shown whole, but it is longer than the limits");
    const std::string shown = ours.repr.substr(0, cut);
    if (name == "huge") {  // past max_int_digits: hex digits and the bit count
        CHECK(expected["hex"].get<std::string>().starts_with(shown));
        CHECK(shown.size() > 10);
        CHECK(count_at_end(ours.repr, " bits") == expected["bits"].get<std::uint64_t>());
        return;
    }
    CHECK(python_repr.starts_with(shown));
    CHECK(shown.size() > 5);
    if (name == "long_int") {
        CHECK(count_at_end(ours.repr, " digits") == expected["digits"].get<std::uint64_t>());
    } else if (name != "nested") {  // nested: the cut is inside, the outer list is whole
        CHECK(count_at_end(ours.repr, "") == expected["len"].get<std::uint64_t>());
    }
}

// Our locals of the parked frame against the victim's oracle: the same
// variables (the unbound `later`, the deleted `values` and `kinds`, the
// comprehension's hidden `name` are not among them), in slot order with the
// parameters first.
void check_against_oracle(const std::vector<cpython::frame_local>& ours, const nlohmann::json& oracle) {
    std::vector<std::string> our_names;
    for (const auto& local : ours) our_names.push_back(local.name);
    std::vector<std::string> python_names;
    for (const auto& entry : oracle) python_names.push_back(entry["name"]);
    std::vector<std::string> sorted_ours = our_names, sorted_python = python_names;
    std::ranges::sort(sorted_ours);
    std::ranges::sort(sorted_python);
    auto joined = [](const std::vector<std::string>& names) {
        std::string out;
        for (const auto& n : names) out += n + " ";
        return out;
    };
    CHECK_MESSAGE(sorted_ours == sorted_python, "ours: " << joined(sorted_ours) << "\npython's: " << joined(sorted_python));
    std::size_t arguments = 0;
    for (const auto& entry : oracle) arguments += entry["kind"] == "arg" ? 1 : 0;
    for (std::size_t i = 0; i < arguments && i < ours.size(); ++i) {
        CHECK(ours[i].name == python_names[i]);  // the parameters, in order
    }
    for (const auto& entry : oracle) {
        auto found = std::ranges::find(ours, entry["name"].get<std::string>(), &cpython::frame_local::name);
        if (found != ours.end()) check_value(*found, entry);
    }
}

const cpython::python_frame* frame_named(const cpython::stack_snapshot& snapshot, std::string_view name) {
    for (const auto& t : snapshot.threads) {
        for (const auto& f : t.frames) {
            if (f.name == name) return &f;
        }
    }
    return nullptr;
}

// The locals of `parked` and of the main thread's module frame, read
// through `mem` (a live process or a core).
struct parked_and_module {
    std::vector<cpython::frame_local> parked;
    std::vector<cpython::frame_local> module;
};

template <class M>
parked_and_module locals_of(M& mem, const cpython::python_target& target) {
    auto snapshot = cpython::make_walker(mem, target).snapshot();
    REQUIRE_MESSAGE(snapshot, failure_text(snapshot));
    const cpython::python_frame* parked = frame_named(*snapshot, "parked");
    const cpython::python_frame* module = frame_named(*snapshot, "<module>");
    REQUIRE_MESSAGE(parked != nullptr, "no frame of parked()");
    REQUIRE_MESSAGE(module != nullptr, "no module frame");
    cpython::locals_reader<M> reader{mem, target.layout};
    auto from_parked = reader.read(*parked);
    REQUIRE_MESSAGE(from_parked, failure_text(from_parked));
    auto from_module = cpython::frame_locals(mem, target, *module);
    REQUIRE_MESSAGE(from_module, failure_text(from_module));
    return {std::move(*from_parked), std::move(*from_module)};
}

void check_locals_on(const python_interpreter& python) {
    INFO("interpreter: " << python.label);
    scratch_dir dir;
    const std::string ready = dir.path() + "/ready";
    const std::string oracle_path = dir.path() + "/oracle.json";
    python_process victim{python, {victim_script("py_locals.py"), ready, oracle_path}};
    REQUIRE(victim.wait_for_file(ready));
    auto oracle_text = read_file(oracle_path);
    REQUIRE(oracle_text);
    const auto oracle = nlohmann::json::parse(*oracle_text);

    auto live = cpython::open_live_python(victim.pid());
    REQUIRE_MESSAGE(live, failure_text(live));
    const auto from_live = locals_of(live->memory, live->target);
    {
        INFO("live, read through " << live->target.layout_source);
        check_against_oracle(from_live.parked, oracle);
        CHECK(from_live.module.empty());
    }

    const std::string core_path = dir.path() + "/locals.core";
    write_core(victim.pid(), core_path);
    auto core = cpython::open_python_core(core_path, std::nullopt);
    REQUIRE_MESSAGE(core, failure_text(core));
    auto target = cpython::open_python(core->core, core->image);
    REQUIRE_MESSAGE(target, failure_text(target));
    const auto from_core = locals_of(core->core, *target);
    {
        INFO("core, read through " << target->layout_source);
        check_against_oracle(from_core.parked, oracle);
        CHECK(from_core.module.empty());
        CHECK(from_core.parked == from_live.parked);
    }
    CHECK_MESSAGE(victim.running(), "the victim should be alive and not stopped; State: " << victim.state());
    MESSAGE(python.label << ": " << from_live.parked.size() << " locals of parked() match its repr() live and in a core");
}

// ---- synthetic memory: objects laid out by a layout, with garbage in them
class fake_target {
public:
    explicit fake_target(const cpython::layout& l) : layout_{l}, bytes_(1u << 16) { memory_.add_region(base, bytes_); }

    static constexpr std::uint64_t base = 0x10'0000;

    [[nodiscard]] memory::buffer_source& memory() { return memory_; }

    // `size` zeroed bytes, 16-byte aligned.
    std::uint64_t allocate(std::size_t size) {
        const std::uint64_t at = next_;
        next_ += (size + 15) & ~std::size_t{15};
        REQUIRE(next_ <= base + bytes_.size());
        return at;
    }

    template <class T>
    void put(std::uint64_t address, T value) {
        std::memcpy(bytes_.data() + (address - base), &value, sizeof value);
    }

    // A type object named `name` (not a heap type).
    std::uint64_t type(const std::string& name) {
        if (auto it = types_.find(name); it != types_.end()) return it->second;
        const std::uint64_t text = allocate(name.size() + 1);
        std::memcpy(bytes_.data() + (text - base), name.data(), name.size());
        const std::uint64_t t = allocate(1024);
        put<std::uint64_t>(t + layout_.object.tp_name, text);
        return types_[name] = t;
    }

    std::uint64_t object(const std::string& type_name, std::size_t size) {
        const std::uint64_t o = allocate(size);
        put<std::uint64_t>(o + layout_.object.ob_type, type(type_name));
        return o;
    }

    // A compact ASCII str (3.12+ layouts).
    std::uint64_t str(const std::string& text) {
        const auto& u = layout_.unicode;
        const std::uint64_t s = object("str", u.ascii_data + text.size() + 1);
        put<std::int64_t>(s + u.length, static_cast<std::int64_t>(text.size()));
        put<std::uint32_t>(s + u.state, (1u << u.kind_shift) | (1u << u.compact_bit) | (1u << u.ascii_bit));
        std::memcpy(bytes_.data() + (s + u.ascii_data - base), text.data(), text.size());
        return s;
    }

    std::uint64_t tuple(const std::vector<std::uint64_t>& items, std::int64_t claimed_size) {
        const std::uint64_t t = object("tuple", layout_.builtins.tuple_items + 8 * items.size());
        put<std::int64_t>(t + layout_.object.ob_size, claimed_size);
        for (std::size_t i = 0; i < items.size(); ++i) put<std::uint64_t>(t + layout_.builtins.tuple_items + 8 * i, items[i]);
        return t;
    }

    std::uint64_t list(std::uint64_t items, std::int64_t claimed_size) {
        const std::uint64_t l = object("list", layout_.builtins.list_items + 16);
        put<std::int64_t>(l + layout_.object.ob_size, claimed_size);
        put<std::uint64_t>(l + layout_.builtins.list_items, items);
        return l;
    }

    std::uint64_t small_int(std::uint32_t value) {  // 3.12+: lv_tag
        const std::uint64_t n = object("int", layout_.integer.digits + 8);
        put<std::uint64_t>(n + layout_.integer.size, value == 0 ? 1 : std::uint64_t{1} << 3);
        put<std::uint32_t>(n + layout_.integer.digits, value);
        return n;
    }

    std::uint64_t kinds(const std::vector<std::uint8_t>& values) {
        const std::uint64_t b = object("bytes", layout_.bytes.ob_sval + values.size() + 1);
        put<std::int64_t>(b + layout_.bytes.ob_size, static_cast<std::int64_t>(values.size()));
        std::memcpy(bytes_.data() + (b + layout_.bytes.ob_sval - base), values.data(), values.size());
        return b;
    }

    // A code object (CO_OPTIMIZED unless told) with `arguments` positional parameters.
    std::uint64_t code(std::uint64_t names, std::uint64_t kind_bytes, std::int32_t arguments, bool optimized = true) {
        const auto& c = layout_.variables;
        const std::uint64_t at = object("code", layout_.code.size);
        put<std::int32_t>(at + layout_.code.flags, optimized ? 1 : 0);
        put<std::int32_t>(at + c.argcount, arguments);
        put<std::int32_t>(at + c.kwonlyargcount, 0);
        put<std::uint64_t>(at + c.localsplusnames, names);
        put<std::uint64_t>(at + c.localspluskinds, kind_bytes);
        return at;
    }

    // An interpreter frame whose localsplus slots hold `slots`.
    std::uint64_t frame(const std::vector<std::uint64_t>& slots) {
        const std::uint64_t f = allocate(layout_.interpreter_frame.localsplus + 8 * slots.size());
        for (std::size_t i = 0; i < slots.size(); ++i) put<std::uint64_t>(f + layout_.interpreter_frame.localsplus + 8 * i, slots[i]);
        return f;
    }

private:
    cpython::layout layout_;
    std::vector<std::byte> bytes_;
    memory::buffer_source memory_;
    std::uint64_t next_ = base;
    std::map<std::string, std::uint64_t> types_;
};

cpython::python_frame fake_frame(std::uint64_t address, std::uint64_t code) {
    cpython::python_frame f;
    f.function = "fake";
    f.name = "fake";
    f.address = address;
    f.code = code;
    return f;
}

std::map<std::string, cpython::frame_local> by_name(const std::vector<cpython::frame_local>& locals) {
    std::map<std::string, cpython::frame_local> out;
    for (const auto& local : locals) out[local.name] = local;
    return out;
}

} // namespace frame_locals_test

TEST_CASE("frame_locals reads every kind of local of a parked frame, live and from a core, on every interpreter") {
    const auto all = triage::testing::machine_interpreters();
    REQUIRE(!all.empty());
    std::size_t covered = 0;
    for (const auto& python : all) {
        frame_locals_test::check_locals_on(python);
        ++covered;
    }
    if (const std::string note = triage::test_support::lab_note(); !note.empty()) MESSAGE(note);
    MESSAGE("frame locals covered " << covered << " interpreters");
    CHECK(covered == all.size());
}

TEST_CASE("frame locals over garbage memory: unreadable values, bounded output, refused counts") {
    namespace cp = triage::cpython;
    using frame_locals_test::by_name;
    using frame_locals_test::fake_frame;
    using frame_locals_test::fake_target;
    // 3.12's layout, and the same with 3.14's tagged _PyStackRef slots.
    cp::layout tagged = cp::layouts::v3_12;
    tagged.interpreter_frame.executable_tag_bits = 3;
    for (const cp::layout& l : {cp::layouts::v3_12, tagged}) {
        const bool stackrefs = l.interpreter_frame.executable_tag_bits != 0;
        CAPTURE(stackrefs);
        fake_target fake{l};
        // A list that contains itself, one that claims 2^39 items at a garbage
        // item array, a list whose item pointers are garbage, a cell holding 7.
        const std::uint64_t self_items = fake.allocate(8);
        const std::uint64_t cyclic = fake.list(self_items, 1);
        fake.put<std::uint64_t>(self_items, cyclic);
        const std::uint64_t garbage_items = fake.allocate(64);
        for (int i = 0; i < 8; ++i) fake.put<std::uint64_t>(garbage_items + 8 * i, 0xdead'beef'0013 + i);
        const std::uint64_t huge = fake.list(garbage_items, std::int64_t{1} << 39);
        const std::uint64_t negative = fake.list(garbage_items, -5);
        const std::uint64_t cell = fake.object("cell", 32);
        fake.put<std::uint64_t>(cell + l.builtins.cell_ref, fake.small_int(7));
        const std::uint64_t empty_cell = fake.object("cell", 32);
        // An int of 2^30 digits (its top digits are past the memory), a str of 2^50 chars.
        const std::uint64_t big_int = fake.object("int", 64);
        fake.put<std::uint64_t>(big_int + l.integer.size, (std::uint64_t{1} << 30) << 3);
        const std::uint64_t long_str = fake.str("abc");
        fake.put<std::int64_t>(long_str + l.unicode.length, std::int64_t{1} << 50);

        const std::vector<std::string> names{"cyclic", "garbage", "huge", "negative", "bad_type", "unbound", "shared",
                                             "empty", "big_int", "long_str", "tagged"};
        std::vector<std::uint64_t> name_objects;
        for (const auto& n : names) name_objects.push_back(fake.str(n));
        const std::uint64_t bad_type = fake.allocate(32);
        fake.put<std::uint64_t>(bad_type + l.object.ob_type, 0x7);  // not a pointer
        const std::uint64_t unbound = stackrefs ? 1 : 0;
        const std::uint64_t tagged_int = stackrefs ? (std::uint64_t{5} << 2) | 3 : 0;
        std::vector<std::uint8_t> kind_bytes(names.size(), cp::co_fast_local);
        kind_bytes[6] = kind_bytes[7] = cp::co_fast_cell;
        const std::uint64_t code = fake.code(fake.tuple(name_objects, static_cast<std::int64_t>(names.size())),
                                             fake.kinds(kind_bytes), 2);
        const std::uint64_t frame = fake.frame({cyclic, 0x11, huge, negative, bad_type, unbound, cell, empty_cell,
                                                big_int, long_str, tagged_int});

        auto locals = cp::frame_locals(fake.memory(), l, fake_frame(frame, code));
        REQUIRE_MESSAGE(locals, failure_text(locals));
        auto found = by_name(*locals);
        CHECK(found["cyclic"].repr == "[[...]]");
        CHECK(found["cyclic"].kind == cp::local_kind::argument);
        CHECK(found["garbage"].repr == "<unreadable>");
        CHECK(found["garbage"].type.empty());
        CHECK(found["garbage"].kind == cp::local_kind::argument);
        CHECK(found["huge"].repr.ends_with("(len 549755813888)"));
        CHECK(found["huge"].repr.find("<unreadable>") != std::string::npos);
        CHECK(found["huge"].repr.size() < 200);
        CHECK(found["negative"].repr == "<unreadable>");
        CHECK(found["negative"].type == "list");
        CHECK(found["bad_type"].repr == "<unreadable>");
        CHECK_FALSE(found.contains("unbound"));
        CHECK(found["shared"].repr == "7");
        CHECK(found["shared"].kind == cp::local_kind::cell);
        CHECK_FALSE(found.contains("empty"));
        CHECK(found["big_int"].repr == "<unreadable>");
        CHECK(found["long_str"].repr.starts_with("'abc"));
        CHECK(found["long_str"].repr.ends_with("(len 1125899906842624)"));
        if (stackrefs) {
            CHECK(found["tagged"].repr == "5");
            CHECK(found["tagged"].type == "int");
        } else {
            CHECK_FALSE(found.contains("tagged"));
        }

        // Counts past the limits refuse the frame; a frame without CO_OPTIMIZED has no locals.
        const std::uint64_t too_many = fake.code(fake.tuple(name_objects, 1'000'000'000), fake.kinds(kind_bytes), 2);
        auto refused = cp::frame_locals(fake.memory(), l, fake_frame(frame, too_many));
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code == triage::errc::limit_exceeded);
        const std::uint64_t mismatched = fake.code(fake.tuple(name_objects, static_cast<std::int64_t>(names.size())),
                                                   fake.kinds({cp::co_fast_local}), 2);
        auto inconsistent = cp::frame_locals(fake.memory(), l, fake_frame(frame, mismatched));
        REQUIRE_FALSE(inconsistent);
        CHECK(inconsistent.error().code == triage::errc::inconsistent);
        const std::uint64_t module = fake.code(0x11, 0x11, 0, false);
        auto module_locals = cp::frame_locals(fake.memory(), l, fake_frame(frame, module));
        REQUIRE(module_locals);
        CHECK(module_locals->empty());
        auto no_frame = cp::frame_locals(fake.memory(), l, fake_frame(0, code));
        REQUIRE_FALSE(no_frame);
        CHECK(no_frame.error().code == triage::errc::invalid_argument);
    }
}

TEST_CASE("float_repr prints as Python's repr does") {
    namespace cp = triage::cpython;
    // Python 3: repr(x) for each.
    CHECK(cp::float_repr(1.0) == "1.0");
    CHECK(cp::float_repr(-0.0) == "-0.0");
    CHECK(cp::float_repr(0.1) == "0.1");
    CHECK(cp::float_repr(1e16) == "1e+16");
    CHECK(cp::float_repr(1e15) == "1000000000000000.0");
    CHECK(cp::float_repr(0.0001) == "0.0001");
    CHECK(cp::float_repr(1e-05) == "1e-05");
    CHECK(cp::float_repr(1.5e-07) == "1.5e-07");
    CHECK(cp::float_repr(123456789012345678.0) == "1.2345678901234568e+17");
    CHECK(cp::float_repr(std::numeric_limits<double>::infinity()) == "inf");
    CHECK(cp::float_repr(-std::numeric_limits<double>::infinity()) == "-inf");
    CHECK(cp::float_repr(std::numeric_limits<double>::quiet_NaN()) == "nan");
    CHECK(cp::float_repr(5e-324) == "5e-324");
    CHECK(cp::float_repr(1.7976931348623157e308) == "1.7976931348623157e+308");
}
