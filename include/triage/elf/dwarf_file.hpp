// triage/elf/dwarf_file.hpp — a file's DWARF opened with libdw, and a walk
// over the DIEs at unit level of every unit: what the DWARF readers of elf/
// (dwarf_types.hpp, function_prototypes.hpp) start from.
//
// Offers:
//  - `open_dwarf(path)` → `dwarf_file` {fd, dwarf}: libdw's handle on a
//    binary or library with debug info, or a separate debug file;
//    compressed sections and dwz alternate files are libdw's to handle.
//  - `for_each_unit_die(file, visit)`: visit(Dwarf_Die&) for each DIE at
//    unit level of every unit (partial units included), in order, until
//    visit returns false.
// Errors: errno codes opening the file; errc::not_found when it has no
// DWARF or no unit (hint: install the debug package); errc::malformed when
// libdw rejects a unit.
// Thread-safe: one dwarf_file per thread (libdw caches lazily). Signal-safe:
// no. Target process: none touched (reads files only).
//
//   auto dwarf = TRIAGE_TRY(triage::elf::open_dwarf(path));
//   TRIAGE_TRY(triage::elf::for_each_unit_die(dwarf, [&](Dwarf_Die& die) { ...; return true; }));
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage::elf {

struct dwarf_file {
    struct closer {
        void operator()(Dwarf* d) const noexcept { ::dwarf_end(d); }
    };
    std::string path;
    unique_fd fd;
    std::unique_ptr<Dwarf, closer> dwarf;
};

namespace detail {
inline constexpr const char* debug_info_hint =
    "use a build with debug info or its separate debug file (a -dbg/-dbgsym package)";
} // namespace detail

[[nodiscard]] inline result<dwarf_file> open_dwarf(const std::string& path) {
    unique_fd fd = TRIAGE_TRY(open_file(path));
    Dwarf* dwarf = ::dwarf_begin(fd.get(), DWARF_C_READ);
    if (dwarf == nullptr) {
        return fail(errc::not_found, "reading DWARF of " + path + " (" + ::dwarf_errmsg(-1) + ")",
                    detail::debug_info_hint);
    }
    return dwarf_file{path, std::move(fd), std::unique_ptr<Dwarf, dwarf_file::closer>{dwarf}};
}

template <class Visit>
[[nodiscard]] result<void> for_each_unit_die(const dwarf_file& file, Visit visit) {
    Dwarf_CU* cu = nullptr;
    Dwarf_CU* next = nullptr;
    Dwarf_Half version = 0;
    std::uint8_t unit_type = 0;
    Dwarf_Die unit_die;
    bool any_unit = false;
    int rc = 0;
    while ((rc = ::dwarf_get_units(file.dwarf.get(), cu, &next, &version, &unit_type, &unit_die, nullptr)) == 0) {
        cu = next;
        any_unit = true;
        Dwarf_Die child;
        if (::dwarf_child(&unit_die, &child) != 0) continue;
        do {
            if (!visit(child)) return {};
        } while (::dwarf_siblingof(&child, &child) == 0);
    }
    if (rc < 0) return fail(errc::malformed, "reading DWARF units of " + file.path + " (" + ::dwarf_errmsg(-1) + ")");
    if (!any_unit) return fail(errc::not_found, "reading DWARF of " + file.path + " (no debug info)", detail::debug_info_hint);
    return {};
}

} // namespace triage::elf
