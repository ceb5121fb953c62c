// triage/unwind/impl/symbolize.ipp — the definitions of
// triage/unwind/symbolize.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <cxxabi.h>
#include <elfutils/libdwfl.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "triage/unwind/symbolize.hpp"

namespace triage::unwind::detail {

[[nodiscard]] TRIAGE_DECL std::string demangled(const char* name) {
    if (std::strncmp(name, "_Z", 2) != 0) return name;
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out{abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free};
    return status == 0 && out ? std::string{out.get()} : std::string{name};
}

} // namespace triage::unwind::detail

namespace triage::unwind {

[[nodiscard]] TRIAGE_DECL native_symbol symbolize(module_set& modules, const native_frame& frame) {
    native_symbol out;
    const std::uint64_t at = frame.lookup_pc();
    Dwfl_Module* module = ::dwfl_addrmodule(modules.handle(), at);
    if (module == nullptr) return out;
    if (const elf::mapped_object* object = modules.object_at(at)) {
        out.object = object->path;
    } else if (const char* name =
                   ::dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr)) {
        out.object = name;
    }
    GElf_Off offset = 0;
    GElf_Sym symbol{};
    if (const char* name = ::dwfl_module_addrinfo(module, at, &offset, &symbol, nullptr, nullptr, nullptr)) {
        out.function = detail::demangled(name);
        out.offset = offset + (frame.pc - at);
    }
    if (Dwfl_Line* line = ::dwfl_module_getsrc(module, at)) {
        int number = 0;
        if (const char* file = ::dwfl_lineinfo(line, nullptr, &number, nullptr, nullptr, nullptr)) {
            out.file = file;
            out.line = number;
        }
    }
    return out;
}

} // namespace triage::unwind
