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

#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/elf/file.hpp"

namespace triage::cpython {

[[nodiscard]] inline bool is_interpreter(const elf::file& file) {
    for (std::string_view name : {symbol_runtime, std::string_view("Py_Version"), symbol_interp_head,
                                  std::string_view("PyEval_EvalFrameEx"), std::string_view("_PyEval_EvalFrameDefault")}) {
        if (auto s = file.find_symbol(name); s && s->defined() && s->value != 0) return true;
    }
    return false;
}

[[nodiscard]] inline interpreter_image inspect_interpreter(const elf::file& file, std::uint64_t load_bias,
                                                           std::string path) {
    interpreter_image image;
    image.path = std::move(path);
    image.shared_library = file.type() == ET_DYN && interpreter_file_version(image.path).has_value() &&
                           image.path.find("libpython") != std::string::npos;
    constexpr std::array names{symbol_runtime,
                               std::string_view("Py_Version"),
                               symbol_interp_head,
                               symbol_thread_state_current,
                               symbol_gil_locked,
                               symbol_gil_last_holder,
                               symbol_py2_ucs2_marker,
                               symbol_py2_ucs4_marker};
    for (std::string_view name : names) {
        if (auto s = file.find_symbol(name); s && s->defined() && s->value != 0) {
            image.symbols.emplace(std::string(name), s->value + load_bias);
        }
    }
    if (auto s = file.section(section_runtime)) {
        image.py_runtime_section = address_range{s->address + load_bias, s->address + load_bias + s->size};
    }
    for (std::string_view name : {section_runtime, std::string_view(".data"), std::string_view(".bss")}) {
        if (auto s = file.section(name); s && s->size != 0) {
            image.writable.push_back({s->address + load_bias, s->address + load_bias + s->size});
        }
    }
    if (!image.symbol("Py_Version")) {
        if (auto rodata = file.section_data(".rodata")) {
            image.version_string = find_version_string(*rodata, interpreter_file_version(image.path));
        }
    }
    return image;
}

} // namespace triage::cpython
