// The doctest runner shared by every test_<module> executable.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <stdlib.h>

// The examples the tests run keep no line tables across runs
// (elf/line_cache.hpp) unless a test gives them a cache: each test sees what
// a first run sees, whatever ran before it.
static const int no_line_cache = ::setenv("TRIAGE_CACHE_DIR", "", 0);
