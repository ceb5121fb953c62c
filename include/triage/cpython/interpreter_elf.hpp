// triage/cpython/interpreter_elf.hpp — recognising the ELF object that holds
// a Python interpreter, and filling an `interpreter_image` from it.
//
// Offers:
//  - `is_interpreter(file)`: the object defines the interpreter (not merely
//    links to it): it defines `_PyRuntime`, `Py_Version`, `interp_head` or
//    `PyEval_EvalFrameEx`/`_PyEval_EvalFrameDefault` itself.
//  - `inspect_interpreter(file, load_bias, path)`: the image: relocated
//    addresses of the symbols runtime_locator.hpp and version.hpp use, the
//    .PyRuntime section, .data/.bss (for the fallback scan) and, when the
//    object does not export Py_Version, the PY_VERSION string from .rodata.
// The file should be the one the process has mapped (elf::open_mapped reads
// it through /proc/PID/map_files even when it was replaced on disk).
// Errors: none from is_interpreter; inspect_interpreter passes on
// errc::malformed from a broken .rodata only as "no version string".
// Thread-safe: no (elf::file is not). Signal-safe: no.
// Target process: none touched (reads the file).
//
//   auto file = TRIAGE_TRY(triage::elf::file::open(path));
//   if (triage::cpython::is_interpreter(file)) {
//       auto image = triage::cpython::inspect_interpreter(file, load_bias, path);
//   }
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "triage/base/config.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/elf/file.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL bool is_interpreter(const elf::file& file);

[[nodiscard]] TRIAGE_DECL interpreter_image inspect_interpreter(const elf::file& file, std::uint64_t load_bias,
                                                                std::string path);

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/interpreter_elf.ipp"
#endif
