// report/pprof.hpp: profiles written as gzip-compressed
// perftools.profiles.Profile messages, read back by independent readers:
// gzip, and protoc decoding with pprof's own profile.proto (Debian's
// golang-github-google-pprof-dev); the whole profile (every stack, leaf
// first, its count and thread) resolved from protoc's text and compared with
// the ticks it was built from. The wire encoder against the byte sequences
// of protobuf's encoding documentation.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "support/failure_text.hpp"
#include "support/oracle_text.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "triage/report/detail/protobuf_writer.hpp"
#include "triage/report/pprof.hpp"
#include "triage/report/profile.hpp"

using triage::test_support::failure_text;

namespace pprof_test {

namespace cpython = triage::cpython;
namespace report = triage::report;
using triage::test_support::run_command;
using triage::test_support::scratch_dir;
using triage::test_support::shell_output;

const std::string proto_dir = "/usr/share/gocode/src/github.com/google/pprof/proto";

// Space-separated hex: "08 96 01".
std::string hex_bytes(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        if (!out.empty()) out += ' ';
        out += digits[b >> 4];
        out += digits[b & 0xF];
    }
    return out;
}

std::string read_whole(const std::string& path) {
    std::ifstream in{path, std::ios::binary};
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The oracles are part of CI (.ci/deps): missing, the test fails saying so.
void require_oracles() {
    const auto found = run_command({"/bin/sh", "-c", "command -v protoc && command -v gzip && test -r " + proto_dir +
                                                         "/profile.proto"});
    REQUIRE_MESSAGE(found.exit_code == 0, "these tests need protoc (Debian: protobuf-compiler), gzip and "
                                              << proto_dir << "/profile.proto (Debian: golang-github-google-pprof-dev)");
}

// protoc's text format, parsed: `name: value` and `name { ... }`, in order.
struct text_message {
    std::vector<std::pair<std::string, std::string>> scalars;
    std::vector<std::pair<std::string, text_message>> messages;

    [[nodiscard]] std::vector<std::string> all(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& [n, v] : scalars)
            if (n == name) out.push_back(v);
        return out;
    }
    // A scalar field's number; proto3 leaves out zeros.
    [[nodiscard]] std::int64_t number(std::string_view name) const {
        const auto values = all(name);
        REQUIRE_MESSAGE(values.size() <= 1, "field " << name << " repeated");
        return values.empty() ? 0 : std::stoll(values.front());
    }
    [[nodiscard]] std::vector<const text_message*> children(std::string_view name) const {
        std::vector<const text_message*> out;
        for (const auto& [n, m] : messages)
            if (n == name) out.push_back(&m);
        return out;
    }
};

text_message parse_text(const std::vector<std::string_view>& lines, std::size_t& at) {
    text_message m;
    while (at < lines.size()) {
        std::string_view line = lines[at++];
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        if (line == "}") return m;
        if (line.ends_with(" {")) {
            std::string name{line.substr(0, line.size() - 2)};
            m.messages.emplace_back(std::move(name), parse_text(lines, at));
            continue;
        }
        const auto colon = line.find(": ");
        REQUIRE_MESSAGE(colon != std::string_view::npos, "not protoc's text format: " << std::string{line});
        m.scalars.emplace_back(std::string{line.substr(0, colon)}, std::string{line.substr(colon + 2)});
    }
    return m;
}

// A string as protoc prints it ("a\033\303\251"): C escapes and octal bytes.
std::string unquote(std::string_view quoted) {
    REQUIRE_MESSAGE((quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"'),
                    "not a quoted string: " << std::string{quoted});
    quoted = quoted.substr(1, quoted.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < quoted.size(); ++i) {
        if (quoted[i] != '\\') {
            out += quoted[i];
            continue;
        }
        const char e = quoted.at(++i);
        if (e >= '0' && e <= '7') {
            unsigned value = 0;
            std::size_t digits = 0;
            for (; digits < 3 && i < quoted.size() && quoted[i] >= '0' && quoted[i] <= '7'; ++digits, ++i)
                value = value * 8 + static_cast<unsigned>(quoted[i] - '0');
            --i;
            out += static_cast<char>(value);
        } else if (e == 'x') {
            out += static_cast<char>(std::stoi(std::string{quoted.substr(i + 1, 2)}, nullptr, 16));
            i += 2;
        } else {
            switch (e) {
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            default: out += e;  // \" \' \\ and others
            }
        }
    }
    return out;
}

struct frame {
    std::string function, file;
    std::int64_t line = 0;
    friend auto operator<=>(const frame&, const frame&) = default;
};

// A sample as protoc decoded it, its ids resolved.
struct sample {
    std::string thread;                 // the "thread" label; "" none
    std::optional<std::int64_t> tid;    // the "thread_id" label
    std::vector<frame> frames;          // leaf first
    std::int64_t count = 0, nanoseconds = 0;
    friend auto operator<=>(const sample&, const sample&) = default;
};

struct decoded_profile {
    text_message root;
    std::vector<std::string> strings;
    std::vector<std::pair<std::string, std::string>> sample_types;
    std::pair<std::string, std::string> period_type;
    std::size_t functions = 0, locations = 0;
    std::vector<sample> samples;  // sorted

    [[nodiscard]] std::string string(std::int64_t index) const {
        REQUIRE_MESSAGE((index >= 0 && static_cast<std::size_t>(index) < strings.size()),
                        "string index " << index << " outside the table of " << strings.size());
        return strings[static_cast<std::size_t>(index)];
    }
    [[nodiscard]] std::pair<std::string, std::string> value_type(const text_message& m) const {
        return {string(m.number("type")), string(m.number("unit"))};
    }
};

// protoc's decoding of a message (uncompressed); its errors in the exception.
std::string protoc_text(const std::string& raw_file) {
    return shell_output("protoc --decode=perftools.profiles.Profile --proto_path=" + proto_dir + " profile.proto < " +
                        raw_file);
}

// `gz` (what to_pprof wrote) checked by gzip, decompressed by it, decoded
// by protoc, and its ids resolved; the decompressed bytes must be
// `message` (to_pprof_message's).
decoded_profile decode(const std::string& gz, const std::string& message) {
    require_oracles();
    scratch_dir dir{"pprof"};
    const std::string file = dir / "profile.pb.gz";
    std::ofstream{file, std::ios::binary} << gz;
    CHECK(run_command({"gzip", "-t", file}).exit_code == 0);
    CHECK(hex_bytes(gz.substr(0, 3)) == "1f 8b 08");  // gzip magic, deflate
    shell_output("gzip -dc " + file + " > " + dir / "profile.pb");
    CHECK(read_whole(dir / "profile.pb") == message);

    decoded_profile p;
    const std::string text = protoc_text(dir / "profile.pb");
    const std::vector<std::string_view> lines = triage::test_support::split_lines(text);
    std::size_t at = 0;
    p.root = parse_text(lines, at);
    REQUIRE(at == lines.size());
    for (const std::string& s : p.root.all("string_table")) p.strings.push_back(unquote(s));
    REQUIRE(!p.strings.empty());
    CHECK(p.strings.front() == "");
    CHECK(std::set<std::string>(p.strings.begin(), p.strings.end()).size() == p.strings.size());
    for (const text_message* t : p.root.children("sample_type")) p.sample_types.push_back(p.value_type(*t));
    const auto period_types = p.root.children("period_type");
    REQUIRE(period_types.size() == 1);
    p.period_type = p.value_type(*period_types.front());
    CHECK(p.root.children("mapping").empty());

    std::map<std::int64_t, std::pair<std::string, std::string>> functions;  // id → name, file
    for (const text_message* f : p.root.children("function")) {
        const std::int64_t id = f->number("id");
        CHECK(id >= 1);
        CHECK(f->number("system_name") == f->number("name"));
        CHECK_MESSAGE(functions.emplace(id, std::pair{p.string(f->number("name")), p.string(f->number("filename"))})
                          .second,
                      "function id " << id << " twice");
    }
    std::map<std::int64_t, frame> locations;
    for (const text_message* l : p.root.children("location")) {
        const std::int64_t id = l->number("id");
        CHECK(id >= 1);
        const auto lines_of = l->children("line");
        REQUIRE(lines_of.size() == 1);
        const auto function = functions.find(lines_of.front()->number("function_id"));
        REQUIRE(function != functions.end());
        CHECK_MESSAGE(
            locations.emplace(id, frame{function->second.first, function->second.second, lines_of.front()->number("line")})
                .second,
            "location id " << id << " twice");
    }
    p.functions = functions.size();
    p.locations = locations.size();
    for (const text_message* s : p.root.children("sample")) {
        sample out;
        for (const std::string& id : s->all("location_id")) {
            const auto l = locations.find(std::stoll(id));
            REQUIRE(l != locations.end());
            out.frames.push_back(l->second);
        }
        const auto values = s->all("value");
        REQUIRE(values.size() == p.sample_types.size());
        REQUIRE(values.size() == 2);
        out.count = std::stoll(values[0]);
        out.nanoseconds = std::stoll(values[1]);
        for (const text_message* label : s->children("label")) {
            const std::string key = p.string(label->number("key"));
            if (key == "thread") {
                out.thread = p.string(label->number("str"));
            } else {
                REQUIRE(key == "thread_id");
                out.tid = label->number("num");
            }
        }
        p.samples.push_back(std::move(out));
    }
    std::sort(p.samples.begin(), p.samples.end());
    return p;
}

struct written {
    std::string gz, message;
};

written write(const report::profile& p, const report::pprof_options& o) {
    auto gz = report::to_pprof(p, o);
    REQUIRE_MESSAGE(gz, failure_text(gz));
    auto message = report::to_pprof_message(p, o);
    REQUIRE_MESSAGE(message, failure_text(message));
    return {std::move(*gz), std::move(*message)};
}

report::pprof_options every_10ms() {
    report::pprof_options o;
    o.period = std::chrono::milliseconds{10};
    o.start = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000} + std::chrono::nanoseconds{123}};
    o.duration = std::chrono::milliseconds{100};
    return o;
}

cpython::python_frame python_frame(std::string function, std::string file, int line) {
    cpython::python_frame f;
    f.function = std::move(function), f.file = std::move(file), f.line = line;
    return f;
}

cpython::python_thread python_thread(std::uint64_t ident, std::optional<pid_t> tid,
                                     std::vector<cpython::python_frame> frames_innermost_first) {
    cpython::python_thread t;
    t.python_ident = ident, t.tid = tid, t.frames = std::move(frames_innermost_first);
    return t;
}

cpython::thread_sample on(const cpython::python_thread& t, std::string_view name, bool on_cpu = true) {
    cpython::thread_sample s;
    s.thread = &t, s.tid = t.tid, s.name = name, s.on_cpu = on_cpu;
    return s;
}

void add_tick(report::profile& p, std::uint64_t index, const std::vector<cpython::thread_sample>& threads) {
    p.add(cpython::sampling_tick{index, std::chrono::milliseconds{10 * index}, threads});
}

report::profile_options options_of(bool idle, bool by_thread, bool lines) {
    report::profile_options o;
    o.idle = idle, o.by_thread = by_thread, o.lines = lines;
    return o;
}

sample expected(std::string thread, std::optional<std::int64_t> tid, std::vector<frame> frames, std::int64_t count) {
    return sample{std::move(thread), tid, std::move(frames), count, count * 10'000'000};
}

TEST_CASE("protobuf_writer: the byte sequences of protobuf's encoding documentation") {
    using triage::report::detail::protobuf_writer;
    const auto varint = [](std::uint64_t v) {
        protobuf_writer w;
        w.varint(v);
        CHECK(w.size() == triage::report::detail::varint_size(v));
        return hex_bytes(w.bytes());
    };
    CHECK(varint(0) == "00");
    CHECK(varint(1) == "01");
    CHECK(varint(127) == "7f");
    CHECK(varint(128) == "80 01");
    CHECK(varint(150) == "96 01");
    CHECK(varint(300) == "ac 02");
    CHECK(varint(0xFFFF'FFFF'FFFF'FFFFULL) == "ff ff ff ff ff ff ff ff ff 01");

    protobuf_writer test1;  // message Test1 { int32 a = 1; }, a = 150
    test1.varint_field(1, 150);
    CHECK(hex_bytes(test1.bytes()) == "08 96 01");

    protobuf_writer test2;  // message Test2 { string b = 2; }, b = "testing"
    test2.bytes_field(2, "testing");
    CHECK(hex_bytes(test2.bytes()) == "12 07 74 65 73 74 69 6e 67");

    protobuf_writer test3;  // message Test3 { Test1 c = 3; }
    test3.message_field(3, test1);
    CHECK(hex_bytes(test3.bytes()) == "1a 03 08 96 01");

    protobuf_writer negative;  // int64 -2: ten bytes of two's complement
    negative.int64_field(1, -2);
    CHECK(hex_bytes(negative.bytes()) == "08 fe ff ff ff ff ff ff ff ff 01");

    protobuf_writer packed;  // message Test5 { repeated int32 f = 6 [packed=true]; }, f = [3, 270, 86942]
    const std::uint64_t values[] = {3, 270, 86942};
    packed.packed_varint_field(6, values);
    CHECK(hex_bytes(packed.bytes()) == "32 06 03 8e 02 9e a7 05");
    packed.clear();
    packed.packed_varint_field(6, {});
    CHECK(packed.bytes().empty());

    protobuf_writer big_field;  // field 16 needs a two-byte key: (16 << 3) | 0 = 128
    big_field.varint_field(16, 1);
    CHECK(hex_bytes(big_field.bytes()) == "80 01 01");
}

TEST_CASE("to_pprof: protoc decodes every stack leaf first with its count, thread, period and sample types") {
    const auto module = python_frame("<module>", "a.py", 40), main_call = python_frame("main", "a.py", 30);
    const auto main_a = python_thread(1, 100, {python_frame("work", "a.py", 12), main_call, module});
    const auto main_b = python_thread(1, 100, {python_frame("work", "a.py", 14), main_call, module});
    const auto worker = python_thread(2, 101, {python_frame("wait", "threading.py", 320), python_frame("run", "b.py", 5)});
    const auto old = python_thread(7, std::nullopt, {python_frame("loop", "c.py", 1)});
    report::profile apart{options_of(false, true, true)};
    report::profile together{options_of(true, false, false)};
    for (std::uint64_t k = 0; k < 10; ++k) {
        // main: 7 ticks in work() at line 12, 3 at line 14; worker: 10; old: on a CPU every other tick.
        const std::vector<cpython::thread_sample> threads{on(k < 7 ? main_a : main_b, "MainThread"), on(worker, "worker"),
                                                          on(old, "old", k % 2 == 0)};
        add_tick(apart, k, threads);
        add_tick(together, k, threads);
    }

    const auto [gz, message] = write(apart, every_10ms());
    const decoded_profile p = decode(gz, message);
    using pair = std::pair<std::string, std::string>;
    CHECK(p.sample_types == std::vector<pair>{{"samples", "count"}, {"cpu", "nanoseconds"}});
    CHECK(p.period_type == pair{"cpu", "nanoseconds"});
    CHECK(p.root.number("period") == 10'000'000);
    CHECK(p.root.number("time_nanos") == 1'700'000'000'000'000'123);
    CHECK(p.root.number("duration_nanos") == 100'000'000);
    CHECK(p.functions == 6);  // work, main, <module> (a.py), wait, run, loop
    CHECK(p.locations == 7);  // work at two lines
    std::vector<sample> want{
        expected("100 MainThread", 100, {{"work", "a.py", 12}, {"main", "a.py", 30}, {"<module>", "a.py", 40}}, 7),
        expected("100 MainThread", 100, {{"work", "a.py", 14}, {"main", "a.py", 30}, {"<module>", "a.py", 40}}, 3),
        expected("101 worker", 101, {{"wait", "threading.py", 320}, {"run", "b.py", 5}}, 10),
        expected("ident 7 old", std::nullopt, {{"loop", "c.py", 1}}, 5),
    };
    std::sort(want.begin(), want.end());
    CHECK(p.samples == want);

    // All threads as one, idle kept, no lines: wall time, no labels, no line numbers.
    const auto [gz2, message2] = write(together, every_10ms());
    const decoded_profile q = decode(gz2, message2);
    CHECK(q.sample_types == std::vector<pair>{{"samples", "count"}, {"wall", "nanoseconds"}});
    CHECK(q.period_type == pair{"wall", "nanoseconds"});
    CHECK(q.locations == 6);
    std::vector<sample> want2{
        expected("", std::nullopt, {{"work", "a.py", 0}, {"main", "a.py", 0}, {"<module>", "a.py", 0}}, 10),
        expected("", std::nullopt, {{"wait", "threading.py", 0}, {"run", "b.py", 0}}, 10),
        expected("", std::nullopt, {{"loop", "c.py", 0}}, 10),
    };
    std::sort(want2.begin(), want2.end());
    CHECK(q.samples == want2);
}

TEST_CASE("to_pprof: an empty profile, and one without start or duration, are valid messages") {
    const report::profile empty{{}};
    report::pprof_options o;
    o.period = std::chrono::microseconds{2500};
    const auto [gz, message] = write(empty, o);
    const decoded_profile p = decode(gz, message);
    CHECK(p.samples.empty());
    CHECK(p.functions == 0);
    CHECK(p.locations == 0);
    CHECK(p.strings == std::vector<std::string>{"", "samples", "count", "cpu", "nanoseconds"});
    CHECK(p.root.number("period") == 2'500'000);
    CHECK(p.root.all("time_nanos").empty());
    CHECK(p.root.all("duration_nanos").empty());
}

TEST_CASE("to_pprof: hostile names decode: invalid UTF-8 replaced byte by byte, controls kept, a 1 MiB name whole") {
    const std::string huge = std::string(1 << 20, 'x') + "\xff";
    const auto hostile = python_thread(
        1, 5,
        {python_frame("\xff\xfe" "bad", "\x80.py", 1), python_frame("ctl\x1b]0;t\x07\n", "a;b.py", 2),
         python_frame("\xc0\xaf", "s.py", 3), python_frame("\xed\xa0\x80", "s.py", 4),
         python_frame("\xc3\xa9t\xc3\xa9", "s.py", 5), python_frame("\xff", "t.py", 6), python_frame("\xfe", "t.py", 7),
         python_frame(huge, "h.py", 8)});
    report::profile p{options_of(false, true, true)};
    add_tick(p, 0, {on(hostile, "\xff\x1b")});
    const auto [gz, message] = write(p, every_10ms());
    const decoded_profile d = decode(gz, message);
    const std::string fffd = "\xef\xbf\xbd";
    const std::vector<sample> want{expected("5 " + fffd + "\x1b", 5,
                                            {{fffd + fffd + "bad", fffd + ".py", 1},
                                             {"ctl\x1b]0;t\x07\n", "a;b.py", 2},
                                             {fffd + fffd, "s.py", 3},
                                             {fffd + fffd + fffd, "s.py", 4},
                                             {"\xc3\xa9t\xc3\xa9", "s.py", 5},
                                             {fffd, "t.py", 6},
                                             {fffd, "t.py", 7},
                                             {std::string(1 << 20, 'x') + fffd, "h.py", 8}},
                                            1)};
    CHECK(d.samples == want);
    CHECK(d.functions == 8);  // "\xff" and "\xfe" stay two functions that print alike

    // The oracle is strict: protoc refuses a string table that is not UTF-8.
    triage::report::detail::protobuf_writer bad;
    bad.bytes_field(6, "");
    bad.bytes_field(6, "\xff");
    scratch_dir dir{"pprof-strict"};
    std::ofstream{dir / "bad.pb", std::ios::binary} << bad.bytes();
    try {
        (void)protoc_text(dir / "bad.pb");
        FAIL("protoc accepted a string table that is not UTF-8");
    } catch (const std::runtime_error& refused) {
        CHECK(std::string_view{refused.what()}.find("invalid UTF-8") != std::string_view::npos);
    }
}

TEST_CASE("to_pprof: 3000 distinct stacks over 4 threads round-trip exactly") {
    constexpr std::uint64_t stacks = 3000;
    std::vector<cpython::python_thread> threads;
    threads.reserve(stacks);
    std::map<std::pair<std::string, std::string>, int> functions;
    std::vector<sample> want;
    for (std::uint64_t k = 0; k < stacks; ++k) {
        std::vector<cpython::python_frame> frames{python_frame("leaf_" + std::to_string(k), "leaf.py", int(k % 97) + 1)};
        for (std::uint64_t j = 0; j < k % 20; ++j) {
            frames.push_back(python_frame("f" + std::to_string((k * 7 + j) % 300), "m" + std::to_string(j % 13) + ".py",
                                          int(j) + 1));
        }
        const auto tid = static_cast<pid_t>(1000 + k % 4);
        threads.push_back(python_thread(k % 4, tid, frames));
        const auto count = static_cast<std::int64_t>(1 + k % 5);
        sample s = expected(std::to_string(tid) + " t" + std::to_string(k % 4), tid, {}, count);
        for (const auto& f : frames) {
            s.frames.push_back({f.function, f.file, *f.line});
            functions.emplace(std::pair{f.function, f.file}, 0);
        }
        want.push_back(std::move(s));
    }
    report::profile p{options_of(false, true, true)};
    std::uint64_t tick = 0;
    for (std::uint64_t k = 0; k < stacks; ++k) {
        const std::string name = "t" + std::to_string(k % 4);
        for (std::uint64_t r = 0; r < 1 + k % 5; ++r) add_tick(p, tick++, {on(threads[k], name)});
    }
    REQUIRE(p.stacks().size() == stacks);
    const auto [gz, message] = write(p, every_10ms());
    const decoded_profile d = decode(gz, message);
    std::sort(want.begin(), want.end());
    CHECK(d.samples.size() == stacks);
    CHECK(d.samples == want);
    CHECK(d.functions == functions.size());
    CHECK(gz.size() < message.size() / 2);  // compressed
}

TEST_CASE("to_pprof: a period that is not positive, a negative duration, and nanoseconds past int64 are refused") {
    const auto t = python_thread(1, 9, {python_frame("f", "f.py", 1)});
    report::profile p{{}};
    add_tick(p, 0, {on(t, "")});
    report::pprof_options o = every_10ms();
    o.period = std::chrono::nanoseconds{0};
    auto r = report::to_pprof(p, o);
    REQUIRE(!r);
    CHECK(r.error().code == triage::errc::invalid_argument);
    CHECK(r.error().message().find("period") != std::string::npos);
    o = every_10ms();
    o.duration = std::chrono::nanoseconds{-1};
    r = report::to_pprof(p, o);
    REQUIRE(!r);
    CHECK(r.error().code == triage::errc::invalid_argument);

    // One sample of the largest period fits; two do not.
    o = every_10ms();
    o.period = std::chrono::nanoseconds::max();
    CHECK(report::to_pprof_message(p, o).has_value());
    add_tick(p, 1, {on(t, "")});
    r = report::to_pprof_message(p, o);
    REQUIRE(!r);
    CHECK(r.error().code == triage::errc::limit_exceeded);
}

} // namespace pprof_test
