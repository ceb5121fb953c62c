// triage/cpython/impl/native_stacks.ipp — the definitions of
// triage/cpython/native_stacks.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include "triage/cpython/native_stacks.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/debug_file_locator.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/procfs/comm.hpp"

namespace triage::cpython {

namespace detail {
[[nodiscard]] TRIAGE_DECL thread_stack& thread_for(python_stacks_report& report, pid_t tid) {
    auto it = std::find_if(report.threads.begin(), report.threads.end(),
                           [&](const thread_stack& t) { return t.tid && *t.tid == tid; });
    if (it != report.threads.end()) return *it;
    thread_stack& added = report.threads.emplace_back();
    added.tid = tid;
    if (report.source != stacks_source::core)
        if (auto name = procfs::read_comm(report.pid, tid)) added.name = std::string{name->view()};
    return added;
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL unwind::debug_file_hook debug_file_locator_hook(std::string root) {
    return [root = std::move(root)](const elf::mapped_object& object) -> std::optional<std::string> {
        elf::locator_options options;
        options.root = root;
        options.debuginfod = false;
        elf::debugged_object wanted{object.path, object.readable_path, {}};
        if (auto mapped = elf::open_mapped(object))
            if (auto id = mapped->build_id()) wanted.build_id = std::move(*id);
        auto where = elf::locate_debug_info(wanted, options);
        if (!where) return std::nullopt;
        // A separate file: the one with DWARF, else the one with .symtab.
        if (!where->dwarf.empty() && where->dwarf_from != elf::debug_way::embedded) return where->dwarf;
        if (!where->symbols.empty() && where->symbols_from != elf::debug_way::embedded) return where->symbols;
        return std::nullopt;
    };
}

} // namespace triage::cpython
