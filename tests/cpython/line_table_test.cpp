// Line tables of every interpreter on the machine, checked against CPython's
// own answers: tests/cpython/dump_line_tables.py prints each sample code
// object's raw table with PyCode_Addr2Line (the C function, via ctypes) for
// every offset, plus dis.findlinestarts (<= 3.9), co_lines() (3.10+) and
// co_positions() (3.11+). Our decoders must agree with all of them.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/interpreters.hpp"
#include "support/oracle_text.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/linetable_310.hpp"
#include "triage/cpython/lnotab.hpp"
#include "triage/cpython/location_table.hpp"

using namespace triage;
using namespace triage::cpython;

namespace {

// "a:b:c" → {a, b, c}
std::vector<long> fields(std::string_view item) {
    std::vector<long> out;
    while (!item.empty()) {
        auto field = next_token(item, ':');
        out.push_back(parse_signed<long>(field).value());
    }
    return out;
}

std::optional<int> as_line(long line) { return line < 0 ? std::nullopt : std::optional<int>(int(line)); }

std::string show(const result<std::optional<int>>& r) {
    if (!r) return "error: " + r.error().message();
    return *r ? std::to_string(**r) : "none";
}

struct code_record {
    std::string path;
    int first_line = 0;
    std::string kind;
    std::vector<std::byte> table;
    std::vector<std::string> lines;  // the record's oracle lines, "addr2line ...", ...
};

struct tally {
    long checks = 0;
    std::vector<std::string> mismatches;
    // `what` builds the message, only for a mismatch.
    template <class Describe>
    void expect(bool ok, const code_record& code, Describe what) {
        ++checks;
        if (!ok && mismatches.size() < 20) mismatches.push_back(code.path + ": " + what());
    }
};

void check_record(const code_record& code, int minor, int major, tally& t) {
    const auto deltas = (major == 2 || minor < 6) ? lnotab_line_deltas::unsigned_bytes : lnotab_line_deltas::signed_bytes;
    auto line_at = [&](long offset) -> result<std::optional<int>> {
        if (code.kind == "lnotab") return TRIAGE_TRY(line_for_lnotab(code.table, code.first_line, offset, deltas));
        if (code.kind == "linetable") return line_for_linetable_310(code.table, code.first_line, offset);
        return line_for_location_table(code.table, code.first_line, offset);
    };
    for (const auto& line : code.lines) {
        std::istringstream in(line);
        std::string tag, item;
        in >> tag;
        long index = 0;
        while (in >> item) {
            auto f = fields(item);
            if (tag == "addr2line" || tag == "linestarts") {
                auto got = line_at(f[0]);
                auto want = as_line(f[1]);
                t.expect(got && *got == want, code, [&] {
                    return tag + " offset " + std::to_string(f[0]) + ": want " + std::to_string(f[1]) + ", got " + show(got);
                });
            } else if (tag == "lines") {
                for (long unit = f[0] / 2; unit < f[1] / 2; ++unit) {
                    auto got = line_at(unit);
                    t.expect(got && *got == as_line(f[2]), code, [&] {
                        return "co_lines unit " + std::to_string(unit) + ": want " + std::to_string(f[2]) + ", got " +
                               show(got);
                    });
                }
            } else if (tag == "positions") {
                auto got = position_for_location_table(code.table, code.first_line, index);
                std::optional<source_position> want;
                if (f[0] >= 0) want = source_position{int(f[0]), int(f[1]), as_line(f[2]), as_line(f[3])};
                t.expect(got && *got == want, code, [&] {
                    std::string seen = !got   ? got.error().message()
                                       : !*got ? "none"
                                               : std::to_string((*got)->line) + ":" + std::to_string((*got)->end_line) +
                                                     ":" + std::to_string((*got)->column.value_or(-1)) + ":" +
                                                     std::to_string((*got)->end_column.value_or(-1));
                    return "co_positions unit " + std::to_string(index) + ": want " + item + ", got " + seen;
                });
                ++index;
            }
        }
    }
}

} // namespace

TEST_CASE("line tables of every interpreter decode as CPython decodes them") {
    const auto interpreters = test_support::machine_interpreters();
    REQUIRE_MESSAGE(!interpreters.empty(), "no Python interpreter found (pyenv versions or /usr/bin/python3.11)");
    const std::string script = test_support::source_path("tests/cpython/dump_line_tables.py");
    std::vector<std::string> covered;
    std::vector<std::string> kinds_seen;
    for (const auto& python : interpreters) {
        CAPTURE(python.path);
        auto output = test_support::run_python(python, {script});
        REQUIRE_MESSAGE(output.exit_code == 0, "running " << python.path << " " << script << ": " << output.err);
        std::istringstream in(output.out);
        std::string line;
        int major = 0, minor = 0;
        std::vector<code_record> records;
        while (std::getline(in, line)) {
            std::istringstream words(line);
            std::string tag;
            words >> tag;
            if (tag == "python") {
                std::string version;
                words >> version;
                std::string_view rest = version;
                major = int(parse_unsigned<unsigned>(next_token(rest, '.')).value());
                minor = int(parse_unsigned<unsigned>(next_token(rest, '.')).value());
            } else if (tag == "code") {
                code_record r;
                std::string hex_text;
                words >> r.path >> r.first_line >> r.kind >> hex_text;
                r.table = test_support::bytes_from_hex(hex_text);
                records.push_back(std::move(r));
            } else if (tag != "end") {
                REQUIRE(!records.empty());
                records.back().lines.push_back(line);
            }
        }
        REQUIRE(major != 0);
        tally t;
        bool far_seen = false;
        for (const auto& r : records) {
            check_record(r, minor, major, t);
            far_seen = far_seen || (r.path == "far/far" && r.first_line == 70001);
            if (std::find(kinds_seen.begin(), kinds_seen.end(), r.kind) == kinds_seen.end()) kinds_seen.push_back(r.kind);
        }
        std::string first_mismatches;
        for (const auto& m : t.mismatches) first_mismatches += "\n  " + m;
        CHECK_MESSAGE(t.mismatches.empty(), python.label << ": mismatches (first 20):" << first_mismatches);
        CHECK(far_seen);
        CHECK(records.size() >= 15);
        CHECK(t.checks > 1000);
        if (t.mismatches.empty() && far_seen) {
            covered.push_back(python.label + " (" + std::to_string(records.size()) + " code objects, " +
                              std::to_string(t.checks) + " offsets)");
        }
    }
    std::string list;
    for (const auto& c : covered) list += "\n  " + c;
    MESSAGE("line tables covered " << covered.size() << " of " << interpreters.size() << " interpreters:" << list);
    CHECK(covered.size() == interpreters.size());
    std::sort(kinds_seen.begin(), kinds_seen.end());
    INFO("table kinds seen: " << kinds_seen.size());
}

TEST_CASE("lnotab: 2.7 reads line increments unsigned, 3.6+ signed") {
    // (0,+1) (4,+200 or -56) (6,+1): the second pair's 0xc8 is 200 unsigned, -56 signed.
    const std::array table{std::byte{0}, std::byte{1}, std::byte{4}, std::byte{0xc8}, std::byte{6}, std::byte{1}};
    CHECK(line_for_lnotab(table, 100, -1, lnotab_line_deltas::signed_bytes).value() == 100);
    CHECK(line_for_lnotab(table, 100, 0, lnotab_line_deltas::signed_bytes).value() == 101);
    CHECK(line_for_lnotab(table, 100, 3, lnotab_line_deltas::signed_bytes).value() == 101);
    CHECK(line_for_lnotab(table, 100, 4, lnotab_line_deltas::signed_bytes).value() == 45);
    CHECK(line_for_lnotab(table, 100, 4, lnotab_line_deltas::unsigned_bytes).value() == 301);
    CHECK(line_for_lnotab(table, 100, 10, lnotab_line_deltas::unsigned_bytes).value() == 302);
    CHECK(line_for_lnotab(table, 100, 1'000'000, lnotab_line_deltas::unsigned_bytes).value() == 302);
    // An odd trailing byte is ignored, as CPython ignores it.
    CHECK(line_for_lnotab(std::span(table).first(5), 100, 100, lnotab_line_deltas::signed_bytes).value() == 45);
    CHECK(line_for_lnotab({}, 7, 0, lnotab_line_deltas::signed_bytes).value() == 7);
}

TEST_CASE("lnotab: a table that drives the line out of int range is malformed") {
    std::vector<std::byte> table(2 * 20'000'000);
    for (std::size_t i = 1; i < table.size(); i += 2) table[i] = std::byte{127};
    auto r = line_for_lnotab(table, 0, 1, lnotab_line_deltas::signed_bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::malformed);
}

TEST_CASE("3.10 linetable: no-line entries, empty ranges, the end, and malformed tables") {
    // 4 bytes line+2, 0 bytes line+1 (a pure line step), 6 bytes no line, 2 bytes line+3.
    const std::array table{std::byte{4}, std::byte{2},    std::byte{0}, std::byte{1},
                           std::byte{6}, std::byte{0x80}, std::byte{2}, std::byte{3}};
    CHECK(line_for_linetable_310(table, 10, -1).value() == 10);
    CHECK(line_for_linetable_310(table, 10, 0).value() == 12);
    CHECK(line_for_linetable_310(table, 10, 1).value() == 12);
    CHECK(line_for_linetable_310(table, 10, 2).value() == std::nullopt);
    CHECK(line_for_linetable_310(table, 10, 4).value() == std::nullopt);
    CHECK(line_for_linetable_310(table, 10, 5).value() == 16);
    CHECK(line_for_linetable_310(table, 10, 6).value() == std::nullopt);
    CHECK(line_for_linetable_310(table, 10, std::numeric_limits<std::int64_t>::max()).value() == std::nullopt);
    CHECK(line_for_linetable_310({}, 10, 0).value() == std::nullopt);
    auto odd = line_for_linetable_310(std::span(table).first(3), 10, 0);
    REQUIRE_FALSE(odd);
    CHECK(odd.error().code == errc::malformed);
    CHECK(odd.error().message().find("odd length 3") != std::string::npos);
}

TEST_CASE("3.11+ location table: every entry form, hand-assembled") {
    // Entries (code units in brackets):
    //  long form [1]: line +5, end line +2, column 3, end column 7 (stored +1)
    //  short form code 2 [2]: column 2*8+1 = 17, end column 17+4
    //  one-line form code 11 [1]: line +1, columns 30..40
    //  no columns code 13 [3]: line -2 (signed varint 5 = -(5>>1))
    //  no location [8]
    //  no columns code 13 [1]: line +100 (varint 200: 0x48 0x03)
    const std::array table{
        std::byte{0x80 | (14 << 3) | 0}, std::byte{10}, std::byte{2}, std::byte{4}, std::byte{8},
        std::byte{0x80 | (2 << 3) | 1},  std::byte{0x14},
        std::byte{0x80 | (11 << 3) | 0}, std::byte{30}, std::byte{40},
        std::byte{0x80 | (13 << 3) | 2}, std::byte{5},
        std::byte{0x80 | (15 << 3) | 7},
        std::byte{0x80 | (13 << 3) | 0}, std::byte{0x48}, std::byte{0x03},
    };
    auto pos = [&](std::int64_t i) { return position_for_location_table(table, 50, i).value(); };
    CHECK(pos(-1) == source_position{50, 50, std::nullopt, std::nullopt});
    CHECK(pos(0) == source_position{55, 57, 3, 7});
    CHECK(pos(1) == source_position{55, 55, 17, 21});
    CHECK(pos(2) == source_position{55, 55, 17, 21});
    CHECK(pos(3) == source_position{56, 56, 30, 40});
    CHECK(pos(4) == source_position{54, 54, std::nullopt, std::nullopt});
    CHECK(pos(6) == source_position{54, 54, std::nullopt, std::nullopt});
    CHECK(pos(7) == std::nullopt);
    CHECK(pos(14) == std::nullopt);
    CHECK(pos(15) == source_position{154, 154, std::nullopt, std::nullopt});
    CHECK(pos(16) == std::nullopt);
    CHECK(line_for_location_table(table, 50, 3).value() == 56);
    CHECK(line_for_location_table(table, 50, 10).value() == std::nullopt);
    CHECK(line_for_location_table(table, 50, 15).value() == 154);
}

TEST_CASE("3.11+ location table: malformed tables are errors, not guesses") {
    auto code_of = [](auto r) { return r ? std::optional<errc>() : std::optional<errc>(r.error().code); };
    // Does not start with an entry byte.
    const std::array no_entry{std::byte{0x10}, std::byte{0x80}};
    CHECK(code_of(line_for_location_table(no_entry, 1, 0)) == errc::malformed);
    // A long-form varint that runs off the end.
    const std::array cut_varint{std::byte{0x80 | (14 << 3)}, std::byte{0x41}};
    CHECK(code_of(line_for_location_table(cut_varint, 1, 0)) == errc::malformed);
    // A varint of seven chunks.
    const std::array long_varint{std::byte{0x80 | (13 << 3)}, std::byte{0x7f}, std::byte{0x7f}, std::byte{0x7f},
                                 std::byte{0x7f},             std::byte{0x7f}, std::byte{0x7f}, std::byte{0x01}};
    CHECK(code_of(line_for_location_table(long_varint, 1, 0)) == errc::malformed);
    // One-line form whose column bytes are missing: the line is known, the position is not.
    const std::array cut_columns{std::byte{0x80 | (10 << 3)}, std::byte{4}};
    CHECK(line_for_location_table(cut_columns, 1, 0).value() == 1);
    CHECK(code_of(position_for_location_table(cut_columns, 1, 0)) == errc::malformed);
    // A line that leaves int range.
    const std::array huge{std::byte{0x80 | (13 << 3)}, std::byte{0x7e}, std::byte{0x7f}, std::byte{0x7f},
                          std::byte{0x7f},             std::byte{0x7f}, std::byte{0x3f}};
    CHECK(code_of(line_for_location_table(huge, std::numeric_limits<int>::max() - 5, 0)) == errc::malformed);
    CHECK(line_for_location_table({}, 1, 0).value() == std::nullopt);
}
