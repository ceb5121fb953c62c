// elf::line_cache on real files: a table stored by build-id loads back
// answering as the table read from the DWARF; table_for reads once and then
// loads; a missing, truncated or foreign cache file is read again and
// replaced; a build-id that is not hex names no file; a cache that cannot be
// written costs only time; the default directory follows TRIAGE_CACHE_DIR,
// XDG_CACHE_HOME and HOME.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "elf/debug_program.hpp"
#include "support/failure_text.hpp"
#include "support/scratch_dir.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/line_cache.hpp"

using triage::test_support::failure_text;

namespace elf = triage::elf;
using triage::test_support::scratch_dir;

namespace {

// Sets an environment variable (or unsets it: nullopt) for a scope.
class scoped_env {
public:
    scoped_env(const char* name, std::optional<std::string> value) : name_{name} {
        if (const char* old = ::getenv(name)) old_ = old;
        if (value) ::setenv(name, value->c_str(), 1);
        else ::unsetenv(name);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;
    ~scoped_env() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

struct cached_program {
    std::string path;
    std::string build_id;
};

cached_program line_cache_program(const scratch_dir& dir) {
    const std::string path = triage::elf_testing::build_debug_program(dir, dir / "cached", 7);
    auto f = elf::file::open(path);
    REQUIRE(f);
    auto id = f->build_id();
    REQUIRE(id);
    return {path, elf::build_id_hex(*id)};
}

triage::result<elf::line_table> read_lines(const std::string& path) {
    auto f = elf::file::open(path);
    if (!f) return triage::fail(std::move(f.error()));
    return elf::line_table::read(*f);
}

} // namespace

TEST_CASE("line_cache: stored by build-id, loaded back answering as the DWARF; table_for reads once") {
    scratch_dir dir{"line-cache"};
    const auto program = line_cache_program(dir);
    const elf::line_cache cache{dir / "a/b/lines"};  // parents created
    auto missing = cache.load(program.build_id);
    REQUIRE(!missing);
    CHECK(missing.error().code == triage::errc::not_found);

    int reads = 0;
    auto read = [&] {
        ++reads;
        return read_lines(program.path);
    };
    auto first = cache.table_for(program.build_id, read);
    REQUIRE_MESSAGE(first, failure_text(first));
    CHECK(reads == 1);
    const std::string file = cache.directory() + "/" + program.build_id + ".lines";
    REQUIRE(std::filesystem::is_regular_file(file));
    CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    auto second = cache.table_for(program.build_id, read);
    REQUIRE(second);
    CHECK(reads == 1);
    CHECK(second->serialize() == first->serialize());
    CHECK(second->row_count() > 0);
    // No temporary left behind.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(cache.directory())) ++entries;
    CHECK(entries == 1);

    // Truncated, or another file altogether: read again, and replaced.
    std::filesystem::resize_file(file, 40);
    CHECK(cache.load(program.build_id).error().code == triage::errc::malformed);
    auto again = cache.table_for(program.build_id, read);
    REQUIRE(again);
    CHECK(reads == 2);
    CHECK(cache.load(program.build_id).has_value());
    std::ofstream{file, std::ios::trunc} << "not a table";
    REQUIRE(cache.table_for(program.build_id, read));
    CHECK(reads == 3);
    CHECK(cache.load(program.build_id).has_value());
}

TEST_CASE("line_cache: a build-id that is not hex names no file; a disabled or unwritable cache only reads") {
    scratch_dir dir{"line-cache"};
    const auto program = line_cache_program(dir);
    const elf::line_cache cache{dir / "lines"};
    auto table = read_lines(program.path);
    REQUIRE(table);
    for (const char* bad : {"../x", "ABCD", "", "12/34"}) {
        CAPTURE(bad);
        CHECK(cache.store(bad, *table).error().code == triage::errc::invalid_argument);
        CHECK(cache.load(bad).error().code == triage::errc::invalid_argument);
    }
    CHECK(!std::filesystem::exists(dir / "lines"));

    int reads = 0;
    auto read = [&] {
        ++reads;
        return read_lines(program.path);
    };
    const elf::line_cache disabled{};
    CHECK(!disabled.enabled());
    REQUIRE(disabled.table_for(program.build_id, read));
    REQUIRE(disabled.table_for(program.build_id, read));
    CHECK(reads == 2);

    std::ofstream{dir / "a-file"} << "x";
    const elf::line_cache unwritable{dir / "a-file/lines"};
    auto stored = unwritable.store(program.build_id, *table);
    REQUIRE(!stored);
    CHECK(stored.error().message().find("a-file") != std::string::npos);
    REQUIRE(unwritable.table_for(program.build_id, read));
    CHECK(reads == 3);

    // A read that fails is returned as it is, and nothing is stored.
    auto none = cache.table_for(program.build_id, [] { return read_lines("/nonexistent"); });
    CHECK(!none);
    CHECK(!std::filesystem::exists(dir / "lines"));
}

TEST_CASE("default_line_cache_directory: TRIAGE_CACHE_DIR, else XDG_CACHE_HOME, else HOME; set and empty: none") {
    {
        scoped_env own{"TRIAGE_CACHE_DIR", "/x/cache"};
        scoped_env xdg{"XDG_CACHE_HOME", "/y"};
        CHECK(elf::default_line_cache_directory() == "/x/cache/lines");
    }
    {
        scoped_env own{"TRIAGE_CACHE_DIR", ""};
        CHECK(elf::default_line_cache_directory().empty());
    }
    {
        scoped_env own{"TRIAGE_CACHE_DIR", std::nullopt};
        scoped_env xdg{"XDG_CACHE_HOME", "/y"};
        CHECK(elf::default_line_cache_directory() == "/y/triage/lines");
    }
    {
        scoped_env own{"TRIAGE_CACHE_DIR", std::nullopt};
        scoped_env xdg{"XDG_CACHE_HOME", "relative"};  // not absolute: ignored, as the XDG spec says
        scoped_env home{"HOME", "/home/z"};
        CHECK(elf::default_line_cache_directory() == "/home/z/.cache/triage/lines");
    }
    {
        scoped_env own{"TRIAGE_CACHE_DIR", std::nullopt};
        scoped_env xdg{"XDG_CACHE_HOME", std::nullopt};
        scoped_env home{"HOME", std::nullopt};
        CHECK(elf::default_line_cache_directory().empty());
    }
}
