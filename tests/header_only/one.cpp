// The header-only mode, checked from a build in the compiled mode: this file
// and two.cpp each include every public header with triage's function
// bodies inline (TRIAGE_SEPARATE_COMPILATION is not defined for this
// program). A header that defines a function without `inline`
// (TRIAGE_DECL) makes the link fail with a multiple definition; the run
// checks that both files see one and the same inline function.
#include "triage/triage.hpp"

using ticks_function = long (*)() noexcept;
ticks_function ticks_function_in_two();

int main() {
    ticks_function here = &triage::procfs::clock_ticks_per_second;
    return here == ticks_function_in_two() && here() > 0 ? 0 : 1;
}
