// triage/unwind/module_set.hpp — the code objects of one process (live or a
// core) reported once to libdwfl, for many unwinds and symbol look-ups.
//
// Offers:
//  - `module_set::build(objects, pid, options)`: a Dwfl holding every
//    object of `objects` (elf::mapped_objects(pid) for a live
//    process; elf::group_mapped_objects(core.maps(), 0) for a core), each
//    opened the way elf::open_mapped opens it (for a live process through
//    /proc/PID/map_files, so a deleted or replaced binary still gives its
//    own CFI and symbols) and reported at its load bias
//    (dwfl_report_elf(..., base = load_bias, add_p_vaddr = true): base is
//    then the bias itself, runtime = file address + base; with add_p_vaddr
//    false it would be the address of the first PT_LOAD instead; ET_EXEC
//    ignores it). Objects that cannot be opened or reported are listed in
//    `skipped()` with the reason, not an error: a stack through them ends
//    there or falls back to frame pointers. Every object is reported, not
//    only those with an executable mapping: a core's mappings do not say
//    so reliably (in a core by gdb's gcore, core_file::maps() shows libc's
//    text as not executable). The Dwfl is attached once to triage's thread
//    callbacks (unwind/detail/thread_callbacks.hpp), so that libdwfl reads
//    registers and memory only from what each unwind gives it, never from
//    the process.
//    Known gap: the vDSO has no file and is not reported; a thread
//    interrupted inside it is unwound by its frame pointer only.
//  - `module_set::of_process(pid, options)`: the same for a live process's
//    current mappings.
//  - Debug files: `options.find_debug_file`, a hook given each object whose
//    DWARF (.debug_frame, lines, or the .symtab of a stripped file) is first
//    needed; it returns the path of the separate debug file, or
//    std::nullopt to let elfutils search the standard way
//    (dwfl_standard_find_debuginfo: /usr/lib/debug/.build-id/xx/yyyy.debug,
//    then .gnu_debuglink next to the file, in .debug/ and in
//    /usr/lib/debug; debuginfod when DEBUGINFOD_URLS is set). What libdwfl
//    loads (CFI, symbol tables, line tables, debug files) stays cached in
//    the set: build it once, unwind and symbolise with it many times.
//    `options.line_cache_directory` also keeps each line table across runs
//    (elf::line_cache: saved after the first read, loaded by the next run).
//  - `objects()`, `skipped()`, `object_at(address)`, `pid()`, and
//    `handle()`, the Dwfl for libdwfl queries this module does not wrap
//    (do not attach another thread state to it).
// Errors: build: errc::not_found when no object could be reported (nothing
// to unwind with: the message names the first reason), errc::system when
// libdwfl cannot start or attach; of_process adds read_maps' errors
// (no_such_process).
// Thread-safe: no; one thread at a time per set (libdwfl fills its caches
// lazily), distinct sets are independent. Signal-safe: no.
// Target process: reads /proc/PID/maps (of_process) and opens its mapped
// files; nothing is attached, stopped or read from its memory.
//
//   auto modules = TRIAGE_TRY(triage::unwind::module_set::of_process(pid));
//   auto core = TRIAGE_TRY(triage::coredump::core_file::open("core.1234"));
//   auto dead = TRIAGE_TRY(triage::unwind::module_set::build(
//       triage::elf::group_mapped_objects(core.maps(), 0), core.process()->pid));
//   for (const auto& s : modules.skipped()) std::puts(s.reason.message().c_str());
#pragma once

#include <elfutils/libdwfl.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/error.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/line_cache.hpp"
#include "triage/elf/line_table.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/unwind/detail/symbol_index.hpp"
#include "triage/unwind/native_frame.hpp"

namespace triage::unwind {

// The separate debug file of an object, or std::nullopt for elfutils' own search.
using debug_file_hook = std::function<std::optional<std::string>(const elf::mapped_object&)>;

struct module_set_options {
    debug_file_hook find_debug_file;
    // Where line tables are kept across runs, by build-id (elf/line_cache.hpp); "": not kept.
    std::string line_cache_directory;
};

struct skipped_object {
    elf::mapped_object object;
    error reason;
};

namespace detail {
// What a module_set owns, at a fixed address: libdwfl keeps a pointer to it
// in every module (for the debug-file hook).
struct module_state {
    module_state() = default;
    module_state(const module_state&) = delete;
    module_state& operator=(const module_state&) = delete;
    ~module_state() {
        if (dwfl != nullptr) ::dwfl_end(dwfl);
    }

    Dwfl* dwfl = nullptr;
    pid_t pid = 0;
    debug_file_hook find_debug_file;
    elf::line_cache line_cache;
    std::vector<elf::mapped_object> objects;  // reported, by address
    std::vector<skipped_object> skipped;
    // symbolize's caches: each module's sorted symbols, built at its first
    // look-up (libdwfl scans the whole table per look-up), and each pc
    // looked up (a pc recurs in many threads' stacks).
    std::unordered_map<Dwfl_Module*, symbol_index> symbol_indexes;
    std::unordered_map<std::uint64_t, native_symbol> symbols;
    // Each module's line table read by elf::line_table (only .debug_line
    // decompressed); std::nullopt: none read, ask libdw.
    std::unordered_map<Dwfl_Module*, std::optional<elf::line_table>> line_tables;

    [[nodiscard]] const elf::mapped_object* object_at(std::uint64_t address) const noexcept {
        auto after = std::upper_bound(objects.begin(), objects.end(), address,
                                      [](std::uint64_t a, const elf::mapped_object& o) { return a < o.low; });
        if (after == objects.begin()) return nullptr;
        const elf::mapped_object& candidate = *std::prev(after);
        return candidate.contains(address) ? &candidate : nullptr;
    }
};

// The Dwfl_Callbacks::find_debuginfo of every module_set.
TRIAGE_DECL int find_debuginfo(Dwfl_Module* module, void** userdata, const char* module_name, Dwarf_Addr base,
                               const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                               char** debuginfo_file_name);

[[nodiscard]] TRIAGE_DECL std::string dwfl_message(std::string_view what);
} // namespace detail

class module_set {
public:
    [[nodiscard]] TRIAGE_DECL static result<module_set> build(std::vector<elf::mapped_object> objects, pid_t pid,
                                                              module_set_options options = {});
    [[nodiscard]] TRIAGE_DECL static result<module_set> of_process(pid_t pid, module_set_options options = {});

    [[nodiscard]] const std::vector<elf::mapped_object>& objects() const noexcept { return state_->objects; }
    [[nodiscard]] const std::vector<skipped_object>& skipped() const noexcept { return state_->skipped; }
    [[nodiscard]] const elf::mapped_object* object_at(std::uint64_t address) const noexcept {
        return state_->object_at(address);
    }
    [[nodiscard]] pid_t pid() const noexcept { return state_->pid; }
    [[nodiscard]] Dwfl* handle() const noexcept { return state_->dwfl; }
    // For unwind/ itself (symbolize's caches); not a stable interface.
    [[nodiscard]] detail::module_state& state() noexcept { return *state_; }

private:
    explicit module_set(std::unique_ptr<detail::module_state> state) noexcept : state_{std::move(state)} {}

    std::unique_ptr<detail::module_state> state_;
};

} // namespace triage::unwind

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/unwind/impl/module_set.ipp"
#endif
