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

// What `at` is, its offset from its function's start.
[[nodiscard]] TRIAGE_DECL native_symbol symbol_at(module_state& state, std::uint64_t at) {
    native_symbol out;
    Dwfl_Module* module = ::dwfl_addrmodule(state.dwfl, at);
    if (module == nullptr) return out;
    if (const elf::mapped_object* object = state.object_at(at)) {
        out.object = object->path;
    } else if (const char* name =
                   ::dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr)) {
        out.object = name;
    }
    auto index = state.symbol_indexes.find(module);
    if (index == state.symbol_indexes.end()) index = state.symbol_indexes.emplace(module, symbol_index::of(module)).first;
    if (auto indexed = index->second.find(at)) {
        out.function = demangled(indexed->name);
        out.offset = at - indexed->start;
    } else {
        GElf_Off offset = 0;
        GElf_Sym symbol{};
        if (const char* name = ::dwfl_module_addrinfo(module, at, &offset, &symbol, nullptr, nullptr, nullptr)) {
            out.function = demangled(name);
            out.offset = offset;
        }
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

} // namespace triage::unwind::detail

namespace triage::unwind {

[[nodiscard]] TRIAGE_DECL native_symbol symbolize(module_set& modules, const native_frame& frame) {
    const std::uint64_t at = frame.lookup_pc();
    detail::module_state& state = modules.state();
    auto known = state.symbols.find(at);
    if (known == state.symbols.end()) known = state.symbols.emplace(at, detail::symbol_at(state, at)).first;
    native_symbol out = known->second;
    if (!out.function.empty()) out.offset += frame.pc - at;
    return out;
}

} // namespace triage::unwind
