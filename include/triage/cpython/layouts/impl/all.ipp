// triage/cpython/layouts/impl/all.ipp — the definitions of
// triage/cpython/layouts/all.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/layouts/all.hpp"

namespace triage::cpython::layouts {

[[nodiscard]] TRIAGE_DECL std::optional<layout> find_layout(int major, int minor) {
    std::optional<layout> found;
    boost::hana::for_each(known_layouts, [&]<class Entry>(Entry) {
        if (Entry::major == major && Entry::minor == minor) found = Entry::value;
    });
    return found;
}

} // namespace triage::cpython::layouts
