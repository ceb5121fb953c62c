// elf::function_prototypes against two oracles: gdb's `whatis` of the
// Python C API functions Debian's python3.11 defines (read from
// python3.11-dbg's debug file, found by build-id), and, for the C library
// functions a program only declares (gdb cannot see declarations), the C
// standard's prototypes, from the DWARF of our own victim built with -g.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/failure_text.hpp"
#include "support/run_command.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/function_prototypes.hpp"

using triage::test_support::failure_text;

namespace {

using triage::elf::argument_kind;

std::string without_spaces(std::string text) {
    std::erase(text, ' ');
    return text;
}

// Debian's python3.11 debug file (python3.11-dbg), by the interpreter's build-id; "" when absent.
std::string python_debug_file() {
    auto exe = triage::elf::file::open("/usr/bin/python3.11");
    if (!exe) return {};
    auto id = exe->build_id();
    if (!id || id->size() < 2) return {};
    const std::string hex = triage::elf::build_id_hex(*id);
    const std::string path = "/usr/lib/debug/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
    return std::filesystem::exists(path) ? path : std::string{};
}

} // namespace

TEST_CASE("prototypes of python3.11's own functions are what gdb says they are") {
    const std::string debug = python_debug_file();
    REQUIRE_MESSAGE(!debug.empty(), "python3.11-dbg is not installed (.ci/deps installs it)");
    // Python C API functions the interpreter defines and exports.
    const std::string symbols = triage::test_support::command_output({"nm", "-D", "--defined-only", "/usr/bin/python3.11"});
    std::set<std::string, std::less<>> names;
    std::istringstream lines{symbols};
    for (std::string address, kind, name; lines >> address >> kind >> name && names.size() < 60;) {
        if (kind == "T" && (name.starts_with("PyObject_") || name.starts_with("PyArg_") || name.starts_with("PyUnicode_")))
            names.insert(name);
    }
    REQUIRE(names.size() >= 40);
    auto prototypes = triage::elf::function_prototypes(debug, names);
    REQUIRE_MESSAGE(prototypes, failure_text(prototypes));

    std::vector<std::string> gdb{"gdb", "-batch", "-nx"};
    for (const auto& name : names) {
        gdb.push_back("-ex");
        gdb.push_back("whatis " + name);
    }
    gdb.push_back(debug);
    const std::string said = triage::test_support::command_output(gdb);
    std::istringstream answers{said};
    std::size_t compared = 0;
    auto name = names.begin();
    for (std::string line; std::getline(answers, line) && name != names.end(); ++name) {
        CAPTURE(*name);
        CAPTURE(line);
        REQUIRE(line.starts_with("type = "));
        // "type = RET (A, B, ...)": compare the parameters, unless a function pointer makes them ambiguous.
        const auto open = line.find('(');
        if (open == std::string::npos || line.find('(', open + 1) != std::string::npos) continue;
        const std::string inside = line.substr(open + 1, line.rfind(')') - open - 1);
        std::vector<std::string> expected;
        bool variadic = false;
        std::istringstream parts{inside};
        for (std::string part; std::getline(parts, part, ',');) {
            part = part.substr(part.find_first_not_of(' '));
            if (part == "...") variadic = true;
            else if (part != "void") expected.push_back(without_spaces(part));
        }
        REQUIRE(prototypes->contains(*name));
        const auto& p = prototypes->at(*name);
        std::vector<std::string> got;
        for (const auto& parameter : p.parameters) got.push_back(without_spaces(parameter.type));
        std::string got_text, expected_text;
        for (const auto& t : got) got_text += t + ",";
        for (const auto& t : expected) expected_text += t + ",";
        CHECK(got_text == expected_text);
        CHECK(p.variadic == variadic);
        // Definitions carry their parameters' names.
        CHECK(std::ranges::all_of(p.parameters, [](const auto& parameter) { return !parameter.name.empty(); }));
        ++compared;
    }
    CHECK(compared >= 30);
    MESSAGE("compared the prototypes of " << compared << " functions with gdb's");

    const auto& parse = prototypes->at("PyArg_ParseTupleAndKeywords");
    REQUIRE(parse.parameters.size() == 4);
    CHECK(parse.parameters[2].kind == argument_kind::c_string);  // const char *format
    CHECK(parse.parameters[2].name == "format");
    CHECK(parse.parameters[0].kind == argument_kind::pointer);  // PyObject *
    CHECK(parse.variadic);
}

TEST_CASE("prototypes of the C library functions a program calls come from its declarations") {
    const std::string victim = triage::test_support::victim_path("plt_calls_classic");
    auto prototypes = triage::elf::function_prototypes(victim, {"memset", "strchr", "strlen", "malloc", "printf", "absent"});
    REQUIRE_MESSAGE(prototypes, failure_text(prototypes));
    CHECK_FALSE(prototypes->contains("absent"));
    REQUIRE(prototypes->contains("memset"));
    const auto& memset = prototypes->at("memset").parameters;
    REQUIRE(memset.size() == 3);
    CHECK(memset[0].kind == argument_kind::pointer);
    CHECK(memset[1].type == "int");
    CHECK(memset[1].kind == argument_kind::signed_integer);
    CHECK(memset[1].size == 4);
    CHECK(memset[2].type == "size_t");
    CHECK(memset[2].kind == argument_kind::unsigned_integer);
    CHECK(memset[2].size == 8);
    const auto& strchr = prototypes->at("strchr").parameters;
    REQUIRE(strchr.size() == 2);
    CHECK(strchr[0].type == "const char *");
    CHECK(strchr[0].kind == argument_kind::c_string);
    CHECK(strchr[0].size == 8);
    CHECK(strchr[1].kind == argument_kind::signed_integer);
    CHECK(prototypes->at("strlen").parameters.size() == 1);
    CHECK(prototypes->at("malloc").parameters.at(0).kind == argument_kind::unsigned_integer);
    CHECK(prototypes->at("printf").variadic);
    CHECK(prototypes->at("printf").parameters.at(0).kind == argument_kind::c_string);
}

TEST_CASE("function_prototypes: a file without DWARF is not_found, with what to install") {
    auto none = triage::elf::function_prototypes("/usr/bin/python3.11", {"strchr"});  // stripped
    REQUIRE_FALSE(none);
    CHECK(none.error().code == triage::errc::not_found);
    CHECK(none.error().message().find("debug") != std::string::npos);
    auto missing = triage::elf::function_prototypes("/nonexistent/file", {"strchr"});
    REQUIRE_FALSE(missing);
}
