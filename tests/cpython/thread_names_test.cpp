// Python thread names (threading.Thread.name) on every interpreter of the
// machine: pyenv's, Debian's python3.11 and the lab's python3.14 and
// python3.15. The oracle is the victim itself (tests/victims/
// py_named_threads.py writes threading.enumerate()'s idents and names):
// the library's thread_namer, triage-pystack live (text and JSON) and from
// our core must give each thread threading knows its name, and none to a
// thread threading never saw. A second call on an unchanged process reads
// only threading._active itself (four reads), so a sampler can name
// every sample; a read of _active that a resize tears (its header names
// another table after the read than before) is read again.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cpython/python_victim.hpp"
#include "support/failure_text.hpp"
#include "triage/cpython/live_python.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/cpython/thread_names.hpp"
#include "triage/memory/memory_source.hpp"

using triage::test_support::failure_text;

namespace {

using namespace triage::testing;

// What the victim wrote: threading's idents and names, and the ident of the
// thread threading never saw.
struct oracle {
    std::map<std::uint64_t, std::string> names;
    std::uint64_t raw_ident = 0;
};

oracle read_oracle(const std::string& path) {
    oracle out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.find('\t');
        REQUIRE(tab != std::string::npos);
        if (line.starts_with("raw\t")) {
            out.raw_ident = std::stoull(line.substr(tab + 1));
        } else {
            out.names[std::stoull(line.substr(0, tab))] = line.substr(tab + 1);
        }
    }
    return out;
}

// A memory source that counts the reads made through it.
template <class M>
struct read_counter {
    M* inner;
    std::size_t reads = 0;
    triage::result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) {
        ++reads;
        return inner->read(address, into);
    }
    triage::result<void> read_batch(std::span<triage::memory::read_request> requests) {
        ++reads;
        return inner->read_batch(requests);
    }
};

// A memory source on which a dict's header names another table (`stale`,
// which holds no table, as a freed one may not) the first `times` times it
// is read: the dict resized by a running thread while it is read.
template <class M>
struct resized_while_read {
    M* inner;
    std::uint64_t dict;
    std::size_t table_at;  // the layout's offset of the dict's table pointer
    std::uint64_t stale;
    int times;
    triage::result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) {
        auto got = inner->read(address, into);
        if (got && address == dict && *got >= table_at + 8 && times > 0) {
            --times;
            std::memcpy(into.data() + table_at, &stale, 8);
        }
        return got;
    }
    triage::result<void> read_batch(std::span<triage::memory::read_request> requests) { return inner->read_batch(requests); }
};

// Every Python thread of a triage-pystack --json document has the name the
// oracle gives it (null for threads threading does not know); returns how
// many were named.
std::size_t check_report_names(const nlohmann::json& doc, const oracle& expected) {
    std::size_t named = 0;
    for (const auto& t : doc["threads"]) {
        const auto ident = t["python_ident"].get<std::uint64_t>();
        CAPTURE(ident);
        auto it = expected.names.find(ident);
        if (it == expected.names.end()) {
            CHECK(t["python_name"].is_null());
        } else {
            REQUIRE(t["python_name"].is_string());
            CHECK(t["python_name"].get<std::string>() == it->second);
            ++named;
        }
    }
    return named;
}

} // namespace

TEST_CASE("thread names: every interpreter, live through the library and triage-pystack, and from a core") {
    const auto pythons = machine_interpreters();
    REQUIRE(pythons.size() >= (std::getenv("TRIAGE_TEST_PYTHONS") ? 1u : 10u));  // the whole matrix, unless narrowed
    for (const auto& python : pythons) {
        CAPTURE(python.label);
        scratch_dir dir;
        const std::string oracle_path = dir.path() + "/oracle";
        python_process victim(python, {victim_script("py_named_threads.py"), oracle_path});
        REQUIRE(victim.wait_for_file(oracle_path));
        const oracle expected = read_oracle(oracle_path);
        // main, 2 (+3 non-ASCII on 3.x) + 20 named, renamed, with-dict, subclass, the dummy thread
        REQUIRE(expected.names.size() == (python.major == 2 ? 27u : 30u));
        REQUIRE(expected.raw_ident != 0);

        {  // the library: named once, then a warm call reads only threading._active
            auto py = triage::cpython::open_live_python(victim.pid());
            REQUIRE_MESSAGE(py, failure_text(py));
            auto snapshot = triage::cpython::make_walker(py->memory, py->target).snapshot();
            REQUIRE_MESSAGE(snapshot, failure_text(snapshot));
            REQUIRE(snapshot->threads.size() == expected.names.size() + 1);  // + the raw thread
            read_counter<triage::memory::live_process> counted{&py->memory};
            triage::cpython::thread_namer namer{counted, py->target.layout};
            for (int round = 0; round < 2; ++round) {
                CAPTURE(round);
                for (auto& t : snapshot->threads) t.python_name.clear();
                counted.reads = 0;
                const std::size_t named = namer.name_threads(*snapshot);
                INFO((namer.last_failure() ? namer.last_failure()->message() : std::string("no failure")));
                CHECK(named == expected.names.size());
                for (const auto& t : snapshot->threads) {
                    CAPTURE(t.python_ident);
                    auto it = expected.names.find(t.python_ident);
                    CHECK(t.python_name == (it == expected.names.end() ? std::string() : it->second));
                }
                if (round == 1) CHECK(counted.reads <= 4);
            }

            // threading._active read while a resize tears it: read again, never garbage.
            triage::cpython::object_reader<triage::memory::live_process> direct{py->memory, py->target.layout};
            const auto& l = py->target.layout;
            const auto modules = triage::memory::read_object<std::uint64_t>(py->memory, snapshot->threads[0].interpreter + l.interpreter.modules);
            REQUIRE_MESSAGE(modules, failure_text(modules));
            auto globals = direct.module_dict(*modules, "threading");
            REQUIRE_MESSAGE(globals, failure_text(globals));
            auto active = direct.find(direct.dict_items(*globals).value(), "_active");
            REQUIRE_MESSAGE(active, failure_text(active));
            auto truth = direct.dict_items(*active);
            REQUIRE_MESSAGE(truth, failure_text(truth));
            CHECK(truth->size() == expected.names.size());
            for (int torn = 1; torn <= 4; ++torn) {
                CAPTURE(torn);
                resized_while_read<triage::memory::live_process> resized{&py->memory, *active, l.dict.keys, 0, torn};
                triage::cpython::object_reader<decltype(resized)> objects{resized, l};
                auto read = objects.changing_dict_items(*active);
                if (torn < 4) {  // the header changed after a read: read again
                    REQUIRE_MESSAGE(read, failure_text(read));
                    CHECK(*read == *truth);
                } else {  // a stale table at each of the four reads: an error, not its bytes
                    CHECK(!read);
                }
                resized.times = 1;
                auto once = objects.dict_items(*active);  // what a single read gives
                CHECK((!once || *once != *truth));
            }
        }

        {  // triage-pystack: JSON and text, live and from our core
            auto live = run_pystack(std::to_string(victim.pid()) + " --json --cpu-window 0");
            INFO(live.err);
            REQUIRE(live.exit_code == 0);
            CHECK(check_report_names(nlohmann::json::parse(live.out), expected) == expected.names.size());

            auto text = run_pystack(std::to_string(victim.pid()) + " --cpu-window 0");
            REQUIRE(text.exit_code == 0);
            CHECK(text.out.find("\"request-7\"") != std::string::npos);
            CHECK(text.out.find("\"after-rename\"") != std::string::npos);

            const std::string core = dir.path() + "/core";
            auto dumped = run_tool(std::string(TRIAGE_EXAMPLE_DIR) + "/triage-gcore", std::to_string(victim.pid()) + " -o " + core);
            INFO(dumped.err);
            REQUIRE(dumped.exit_code == 0);
            auto from_core = run_pystack("--core " + core + " --json");
            INFO(from_core.err);
            REQUIRE(from_core.exit_code == 0);
            CHECK(check_report_names(nlohmann::json::parse(from_core.out), expected) == expected.names.size());
        }
    }
}
