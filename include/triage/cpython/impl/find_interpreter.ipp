// triage/cpython/impl/find_interpreter.ipp — the definitions of
// triage/cpython/find_interpreter.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/path.hpp"
#include "triage/cpython/find_interpreter.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL result<interpreter_image> find_interpreter(std::span<const elf::mapped_object> objects) {
    std::vector<const elf::mapped_object*> order;
    for (std::string_view prefix : {"libpython", "python"}) {
        for (const auto& o : objects) {
            if (file_name(o.path).starts_with(prefix)) order.push_back(&o);
        }
    }
    for (const auto& o : objects) {
        std::string_view name = file_name(o.path);
        if (!name.starts_with("libpython") && !name.starts_with("python") && o.executable()) order.push_back(&o);
    }
    for (const elf::mapped_object* o : order) {
        auto file = elf::open_mapped(*o);
        if (!file || !is_interpreter(*file)) continue;
        return inspect_interpreter(*file, o->load_bias, o->path);
    }
    return fail(errc::not_found,
                "finding a Python interpreter among the " + std::to_string(objects.size()) + " mapped objects",
                "no libpython and no object defining _PyRuntime, Py_Version or interp_head: not a CPython process?");
}

} // namespace triage::cpython
