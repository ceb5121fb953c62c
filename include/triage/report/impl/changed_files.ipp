// triage/report/impl/changed_files.ipp — the definitions of
// triage/report/changed_files.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/report/changed_files.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL changed_files_report changed_files(std::span<const elf::mapped_object> objects) {
    changed_files_report out;
    for (const auto& object : objects) {
        if (!object.executable()) continue;
        ++out.checked;
        auto match = elf::compare_with_disk(object);
        if (!match) {
            out.unchecked.push_back({object.path, std::move(match.error())});
            continue;
        }
        const bool differs = *match == elf::disk_match::different_build_id || *match == elf::disk_match::missing_on_disk ||
                             *match == elf::disk_match::replaced_no_build_id;
        if (differs || object.deleted) out.changed.push_back({object.path, *match, object.deleted});
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL result<changed_files_report> changed_files(pid_t pid) {
    auto objects = TRIAGE_TRY(elf::mapped_objects(pid));
    return changed_files(objects);
}

} // namespace triage::report
