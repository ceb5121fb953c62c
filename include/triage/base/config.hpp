// triage/base/config.hpp — how triage's non-template functions are compiled.
//
// Header-only (the default): every header defines its functions `inline`,
// and a program needs nothing but the include path.
//
// Separate compilation: define TRIAGE_SEPARATE_COMPILATION in every
// translation unit of the program (the CMake target triage::compiled does,
// and builds the one translation unit, src/triage.cpp, that defines them).
// Headers then only declare those functions, so a program's own files
// neither parse their bodies nor generate their code again; templates
// (the stack walker over any memory source, the views) stay in the headers.
//
// TRIAGE_DECL marks such a function: `inline` header-only, nothing compiled.
#pragma once

#if defined(TRIAGE_SEPARATE_COMPILATION)
#define TRIAGE_DECL
#else
#define TRIAGE_DECL inline
#endif
