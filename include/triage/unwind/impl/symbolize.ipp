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
#include <span>

#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/line_table.hpp"
#include "triage/unwind/symbolize.hpp"

namespace triage::unwind::detail {

[[nodiscard]] TRIAGE_DECL std::string demangled(const char* name) {
    if (std::strncmp(name, "_Z", 2) != 0) return name;
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out{abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free};
    return status == 0 && out ? std::string{out.get()} : std::string{name};
}

// The line table of `module`'s object, or of the debug file libdwfl found
// for it (looking up its symbols did); nullptr when neither has one we can
// read: then libdw answers (and finds the debug file itself if need be).
[[nodiscard]] TRIAGE_DECL const elf::line_table* line_table_of(module_state& state, Dwfl_Module* module) {
    auto known = state.line_tables.find(module);
    if (known == state.line_tables.end()) {
        const char* main_file = nullptr;
        const char* debug_file = nullptr;
        (void)::dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, &main_file, &debug_file);
        const unsigned char* id = nullptr;
        GElf_Addr id_address = 0;
        const int id_size = ::dwfl_module_build_id(module, &id, &id_address);
        const std::string build_id =
            id_size > 0 ? elf::build_id_hex(std::as_bytes(std::span{id, static_cast<std::size_t>(id_size)})) : "";
        auto table = state.line_cache.table_for(build_id, [&]() -> result<elf::line_table> {
            for (const char* path : {main_file, debug_file}) {
                if (path == nullptr) continue;
                auto file = elf::file::open(path);
                if (!file) continue;
                auto read = elf::line_table::read(*file);
                if (read || read.error().code != errc::not_found) return read;  // unreadable: libdw's call
            }
            return fail(errc::not_found, "a line table");
        });
        known = state.line_tables.emplace(module, table ? std::optional{std::move(*table)} : std::nullopt).first;
    }
    return known->second ? &*known->second : nullptr;
}

// What `at` is, its offset from its function's start.
[[nodiscard]] TRIAGE_DECL native_symbol symbol_at(module_state& state, std::uint64_t at) {
    native_symbol out;
    Dwfl_Module* module = ::dwfl_addrmodule(state.dwfl, at);
    if (module == nullptr) return out;
    if (const elf::mapped_object* mapped = state.object_at(at)) {
        out.object = mapped->path;
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
    const elf::mapped_object* object = state.object_at(at);
    if (const elf::line_table* lines = object != nullptr ? line_table_of(state, module) : nullptr) {
        if (auto row = lines->find(object->file_address(at))) {
            out.file = row->file;
            out.line = row->line;
        }
    } else if (Dwfl_Line* line = ::dwfl_module_getsrc(module, at)) {
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
