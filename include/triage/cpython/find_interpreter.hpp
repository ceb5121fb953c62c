// triage/cpython/find_interpreter.hpp — which of a process's mapped objects
// is its Python interpreter.
//
// Offers: `find_interpreter(objects)` → the `interpreter_image` of the first
// object that defines the interpreter (interpreter_elf.hpp's is_interpreter),
// looking first at files named libpython*, then python*, then every other
// executable object. Each file is opened as the process mapped it
// (elf::open_mapped), so a binary replaced on disk is still read correctly.
// Works the same for a live process (elf::mapped_objects(pid)) and for the
// mapped objects of a core file.
// Errors: errc::not_found ("finding a Python interpreter among the N objects
// mapped ...") when none defines one: the process is not Python (or embeds
// a static interpreter stripped of even its dynamic symbols).
// Thread-safe: yes. Signal-safe: no. Target process: none touched (reads
// files, /proc/PID/map_files).
//
//   auto objects = TRIAGE_TRY(triage::elf::mapped_objects(pid));
//   auto image = TRIAGE_TRY(triage::cpython::find_interpreter(objects));
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/cpython/interpreter_elf.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/elf/mapped_object.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<interpreter_image> find_interpreter(std::span<const elf::mapped_object> objects);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/find_interpreter.ipp"
#endif
