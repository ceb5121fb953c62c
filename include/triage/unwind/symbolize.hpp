// triage/unwind/symbolize.hpp — a native frame in words: object,
// function+offset, and source file:line where DWARF is present.
//
// Offers `symbolize(modules, frame)` → native_symbol. Looks up
// frame.lookup_pc() (pc - 1 for a return address, so that a call that is
// the last instruction of a function, or of a line, is not credited to the
// next one), the offset is from the real pc. The function comes from the
// object's .symtab, else .dynsym, else the .symtab of its debug file
// (loaded through the module set's debug-file hook or elfutils' standard
// search); C++ names are demangled. file:line come from the DWARF line
// table of the object or its debug file, read by elf::line_table (only
// .debug_line decompressed: libdw decompresses every .debug_* section of a
// file first, 25 MB and ~170 ms for python3.11's), else by libdw
// (dwfl_module_getsrc); empty/0 when there is none. The function is the one dwfl_module_addrinfo names, found
// in O(log n) through unwind/detail/symbol_index.hpp where that is sure to
// agree. What is looked up stays cached in the module set: each module's
// sorted symbols, each pc's answer, and libdwfl's line tables.
// Errors: none: what is not known is left empty (a pc in no object gives
// an empty native_symbol).
// Thread-safe: as module_set (one thread at a time per set). Signal-safe:
// no. Target process: none (reads the mapped files and debug files).
//
//   for (const auto& frame : stack.frames) {
//       auto s = triage::unwind::symbolize(modules, frame);
//       std::printf("%s+%#llx %s:%d (%s)\n", s.function.c_str(), (unsigned long long)s.offset,
//                   s.file.c_str(), s.line, s.object.c_str());
//   }
#pragma once

#include <string>

#include "triage/base/config.hpp"
#include "triage/unwind/module_set.hpp"
#include "triage/unwind/native_frame.hpp"

namespace triage::unwind {

namespace detail {
// `name` demangled when it is a C++ (Itanium ABI) name, else as it is.
[[nodiscard]] TRIAGE_DECL std::string demangled(const char* name);
[[nodiscard]] TRIAGE_DECL const elf::line_table* line_table_of(module_state& state, Dwfl_Module* module);
[[nodiscard]] TRIAGE_DECL native_symbol symbol_at(module_state& state, std::uint64_t at);
} // namespace detail

[[nodiscard]] TRIAGE_DECL native_symbol symbolize(module_set& modules, const native_frame& frame);

} // namespace triage::unwind

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/unwind/impl/symbolize.ipp"
#endif
