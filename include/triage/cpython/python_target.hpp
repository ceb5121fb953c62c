// triage/cpython/python_target.hpp — everything a stack walk needs about a
// target's interpreter, as a plain value (open_python.hpp finds it).
//
// Offers: `python_target{image, version, layout, layout_source, runtime}`:
// the interpreter object, its version, the layout the walk reads it with
// (and where that came from: "layouts/v3_11.hpp" or "_Py_DebugOffsets
// (3.14 format)"), and where its runtime is; `chosen_layout`.
// Thread-safe and signal-safe: values. Target process: none.
//
//   auto target = TRIAGE_TRY(triage::cpython::open_python(mem, image));
//   fmt::print("Python {} read through {}\n", target.version.text(), target.layout_source);
#pragma once

#include <string>

#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/runtime_roots.hpp"
#include "triage/cpython/version.hpp"

namespace triage::cpython {

struct python_target {
    interpreter_image image;
    python_version version;
    cpython::layout layout{};
    std::string layout_source;  // "layouts/v3_11.hpp" or "_Py_DebugOffsets (3.14 format)"
    located_runtime runtime;
};

struct chosen_layout {
    layout value{};
    std::string source;
};

} // namespace triage::cpython
