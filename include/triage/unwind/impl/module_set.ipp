// triage/unwind/impl/module_set.ipp — the definitions of
// triage/unwind/module_set.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <fcntl.h>

#include <cstdlib>
#include <cstring>

#include "triage/unwind/detail/thread_callbacks.hpp"
#include "triage/unwind/module_set.hpp"

namespace triage::unwind::detail {

TRIAGE_DECL int find_debuginfo(Dwfl_Module* module, void** userdata, const char* module_name, Dwarf_Addr base,
                               const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                               char** debuginfo_file_name) {
    const auto* state = static_cast<const module_state*>(*userdata);
    if (state != nullptr && state->find_debug_file) {
        if (const elf::mapped_object* object = state->object_at(base)) {
            std::optional<std::string> path;
            try {
                path = state->find_debug_file(*object);
            } catch (...) {
                path.reset();  // a failing hook is a hook that found nothing: never throw through libdwfl
            }
            if (path) {
                const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                    *debuginfo_file_name = ::strdup(path->c_str());
                    return fd;
                }
            }
        }
    }
    return ::dwfl_standard_find_debuginfo(module, userdata, module_name, base, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
}

[[nodiscard]] TRIAGE_DECL std::string dwfl_message(std::string_view what) {
    const int code = ::dwfl_errno();
    const char* text = ::dwfl_errmsg(code);
    std::string out{what};
    if (code != 0 && text != nullptr) {
        out += " (libdwfl: ";
        out += text;
        out += ')';
    }
    return out;
}

} // namespace triage::unwind::detail

namespace triage::unwind {

[[nodiscard]] TRIAGE_DECL result<module_set> module_set::build(std::vector<elf::mapped_object> objects, pid_t pid,
                                                               module_set_options options) {
    static const Dwfl_Callbacks callbacks{
        .find_elf = ::dwfl_build_id_find_elf,
        .find_debuginfo = detail::find_debuginfo,
        .section_address = ::dwfl_offline_section_address,
        .debuginfo_path = nullptr,
    };
    auto state = std::make_unique<detail::module_state>();
    state->pid = pid;
    state->find_debug_file = std::move(options.find_debug_file);
    state->line_cache = elf::line_cache{std::move(options.line_cache_directory)};
    state->dwfl = ::dwfl_begin(&callbacks);
    if (state->dwfl == nullptr) return fail(errc::system, detail::dwfl_message("starting libdwfl"));

    std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.low < b.low; });
    ::dwfl_report_begin(state->dwfl);
    for (elf::mapped_object& object : objects) {
        // open_mapped picks the path that holds the very file mapped
        // (map_files, or the path when its inode is the mapped one).
        auto file = elf::open_mapped(object);
        if (!file) {
            state->skipped.push_back({std::move(object), std::move(file.error())});
            continue;
        }
        Dwfl_Module* module = ::dwfl_report_elf(state->dwfl, object.path.c_str(), file->name().c_str(), -1,
                                                object.load_bias, true);
        if (module == nullptr) {
            error reason{errc::malformed, 0, detail::dwfl_message("reporting " + object.path + " to libdwfl"), {}};
            state->skipped.push_back({std::move(object), std::move(reason)});
            continue;
        }
        void** userdata = nullptr;
        (void)::dwfl_module_info(module, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
        if (userdata != nullptr) *userdata = state.get();
        state->objects.push_back(std::move(object));
    }
    if (::dwfl_report_end(state->dwfl, nullptr, nullptr) != 0)
        return fail(errc::system, detail::dwfl_message("ending the report of modules"));
    if (state->objects.empty()) {
        std::string why = state->skipped.empty() ? "no ELF object among the mappings"
                                                 : state->skipped.front().reason.message();
        return fail(errc::not_found, "finding the code objects of process " + std::to_string(pid) + ": " + why);
    }
    if (!::dwfl_attach_state(state->dwfl, nullptr, pid, &detail::thread_callbacks(), nullptr))
        return fail(errc::system, detail::dwfl_message("attaching the thread callbacks to libdwfl"));
    return module_set{std::move(state)};
}

[[nodiscard]] TRIAGE_DECL result<module_set> module_set::of_process(pid_t pid, module_set_options options) {
    auto objects = TRIAGE_TRY(elf::mapped_objects(pid));
    return build(std::move(objects), pid, std::move(options));
}

} // namespace triage::unwind
