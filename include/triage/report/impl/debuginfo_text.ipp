// triage/report/impl/debuginfo_text.ipp — the definitions of
// triage/report/debuginfo_text.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <fmt/core.h>

#include "triage/base/escape.hpp"
#include "triage/report/debuginfo_text.hpp"

namespace triage::report {

namespace detail::debuginfo_text {
[[nodiscard]] inline std::string source(const std::string& file, elf::debug_way way) {
    if (file.empty()) return "none";
    if (way == elf::debug_way::embedded) return "in the object itself";
    return fmt::format("{} ({})", escape_controls(file), elf::to_string(way));
}
} // namespace detail::debuginfo_text

[[nodiscard]] TRIAGE_DECL std::string to_text(const debuginfo_report& report, bool verbose) {
    namespace d = detail::debuginfo_text;
    std::string out;
    if (report.core.empty()) out += fmt::format("process {}: {}\n", report.pid, escape_controls(report.command));
    else out += fmt::format("core {} (process {}: {})\n", escape_controls(report.core), report.pid, escape_controls(report.command));
    out += report.summary.line + "\n";
    for (const auto& row : report.objects) {
        out += fmt::format("\n{}{}\n", escape_controls(row.path), row.deleted ? " (deleted)" : "");
        if (row.build_id.empty()) out += "  running    no build-id";
        else out += fmt::format("  running    build-id {} (from {})", row.build_id, row.build_id_from);
        if (row.on_disk == "replaced on disk") {
            out += row.disk_build_id.empty() ? "; replaced on disk (the file there has no build-id)"
                                             : "; replaced on disk: the file there has build-id " + row.disk_build_id;
        } else if (row.on_disk != "same") {
            out += "; " + row.on_disk;
        }
        out += '\n';
        if (!row.error.empty()) {
            out += "  error      " + escape_controls(row.error) + '\n';
        } else {
            out += "  symbols    " + d::source(row.debug.symbols, row.debug.symbols_from) +
                   (row.debug.symbols.empty() ? " (only exported names, .dynsym)" : "") + '\n';
            out += "  DWARF      " +
                   (!row.debug.dwarf.empty() && row.debug.dwarf == row.debug.symbols ? std::string{"the same file"}
                                                                                      : d::source(row.debug.dwarf, row.debug.dwarf_from)) +
                   '\n';
            if (!row.debug.alternate.empty()) out += "  dwz        " + escape_controls(row.debug.alternate) + '\n';
            if (row.debug.alternate_missing) out += "  dwz        its alternate file was not found: DWARF incomplete\n";
        }
        if (row.package)
            out += fmt::format("  package    {} {}\n", row.package->name, row.package->version);
        if (!row.install.empty()) out += "  install    " + row.install + '\n';
        for (const auto& a : row.debug.attempts) {
            const bool interesting = !a.used && a.outcome != "no such file" && a.way != elf::debug_way::embedded;
            if (!verbose && !interesting) continue;
            out += fmt::format("  tried      {} {}: {}\n", elf::to_string(a.way), escape_controls(a.path), a.outcome);
        }
    }
    return out;
}

} // namespace triage::report
