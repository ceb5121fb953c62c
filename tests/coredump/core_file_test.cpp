// Reading cores that are not there: a directory (or a FIFO) given as a core
// or an executable is refused by name.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>

#include "support/scratch_dir.hpp"
#include "triage/coredump/core_file.hpp"
#include "triage/elf/file.hpp"

using namespace triage;
using namespace triage::coredump;

TEST_CASE("a directory given as a core or an executable is refused by name") {
    test_support::scratch_dir dir{"coredump-core-file"};
    auto core = core_file::open(dir.path());
    REQUIRE(!core);
    CHECK(core.error().message().find("it is a directory") != std::string::npos);
    auto exe = elf::file::open(dir.path());
    REQUIRE(!exe);
    CHECK(exe.error().message().find("it is a directory") != std::string::npos);
    const std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto pipe = core_file::open(fifo);  // would wait for a writer if opened
    REQUIRE(!pipe);
    CHECK(pipe.error().message().find("it is a FIFO") != std::string::npos);
}
