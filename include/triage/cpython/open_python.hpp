// triage/cpython/open_python.hpp — a target's interpreter opened for a
// stack walk, found from its memory and its interpreter object.
//
// Offers:
//  - `layout_for(mem, image, version)`: for 3.13 and later, the layout the
//    target publishes in its own _Py_DebugOffsets (debug_offsets.hpp; the
//    source says which format: "_Py_DebugOffsets (3.14 format)"); else the
//    layout header of the version (2.7: the UCS2 or UCS4 build, told by the
//    exported PyUnicodeUCS2_* / PyUnicodeUCS4_* functions); a 3.13 whose
//    runtime cannot be found by symbol or section falls back to its header.
//  - `open_python(mem, image)`: detect_version → layout_for →
//    locate_runtime, in one call → `python_target` (python_target.hpp).
//  - `make_walker(mem, target)`: a stack_walker over `mem` for the target.
// Errors: errc::unsupported ("Python 3.5 is not supported ...") for a
// version without a layout; read_debug_offsets' errors for 3.13+ (an
// unknown format); the errors of detect_version and
// locate_runtime.
// Thread-safe: yes. Signal-safe: no. Target process: reads only.
//
//   auto target = TRIAGE_TRY(triage::cpython::open_python(mem, image));
//   auto walker = triage::cpython::make_walker(mem, target);
//   auto snapshot = TRIAGE_TRY(walker.snapshot());
#pragma once

#include <string>
#include <utility>

#include "triage/base/result.hpp"
#include "triage/cpython/debug_offsets.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/all.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/runtime_locator.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/cpython/version.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

template <memory::memory_source M>
[[nodiscard]] result<chosen_layout> layout_for(M& mem, const interpreter_image& image, const python_version& version) {
    const std::string name = "layouts/v" + std::to_string(version.major) + "_" + std::to_string(version.minor) + ".hpp";
    if (version.major == 2 && version.minor == 7 && image.symbol(symbol_py2_ucs2_marker)) {
        return chosen_layout{layouts::v2_7_ucs2, name + " (UCS2 build)"};
    }
    if (version.major == 3 && version.minor >= 13) {
        if (auto runtime = runtime_address(image)) {
            auto published = read_debug_offsets(mem, *runtime);
            if (published) {
                return chosen_layout{published->value,
                                     "_Py_DebugOffsets (" + std::string(published->format->name) + " format)"};
            }
            return fail(std::move(published.error()).within("reading the layout Python " + version.text() + " publishes"));
        }
    }
    if (auto known = layouts::find_layout(version.major, version.minor)) return chosen_layout{*known, name};
    return fail(errc::unsupported, "reading the stacks of Python " + version.text(),
                "triage supports CPython 2.7 and 3.6 to 3.12, and 3.13 and later through the _Py_DebugOffsets "
                "they publish");
}

template <memory::memory_source M>
[[nodiscard]] result<python_target> open_python(M& mem, interpreter_image image) {
    python_target target;
    target.version = TRIAGE_TRY(detect_version(mem, image));
    auto chosen = TRIAGE_TRY(layout_for(mem, image, target.version));
    target.layout = chosen.value;
    target.layout_source = std::move(chosen.source);
    target.runtime = TRIAGE_TRY(locate_runtime(mem, image, target.layout));
    target.image = std::move(image);
    return target;
}

template <memory::memory_source M>
[[nodiscard]] stack_walker<M> make_walker(M& mem, const python_target& target, walk_limits limits = {}) {
    return stack_walker<M>(mem, target.layout, target.runtime.roots, limits);
}

} // namespace triage::cpython
