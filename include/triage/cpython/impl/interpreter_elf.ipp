// triage/cpython/impl/interpreter_elf.ipp — the definitions of
// triage/cpython/interpreter_elf.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/interpreter_elf.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL bool is_interpreter(const elf::file& file) {
    for (std::string_view name : {symbol_runtime, std::string_view("Py_Version"), symbol_interp_head,
                                  std::string_view("PyEval_EvalFrameEx"), std::string_view("_PyEval_EvalFrameDefault")}) {
        if (auto s = file.find_symbol(name); s && s->defined() && s->value != 0) return true;
    }
    return false;
}

[[nodiscard]] TRIAGE_DECL interpreter_image inspect_interpreter(const elf::file& file, std::uint64_t load_bias,
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
