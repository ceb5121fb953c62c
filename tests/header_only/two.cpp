// The second translation unit of the header-only link check (one.cpp).
#include "triage/triage.hpp"

using ticks_function = long (*)() noexcept;
ticks_function ticks_function_in_two() { return &triage::procfs::clock_ticks_per_second; }
