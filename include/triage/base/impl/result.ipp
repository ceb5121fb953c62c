// triage/base/impl/result.ipp — the definitions of
// triage/base/result.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/result.hpp"

namespace triage {

[[nodiscard]] TRIAGE_DECL std::unexpected<error> fail(errc code, std::string context, std::string hint) {
    return std::unexpected(error{code, 0, std::move(context), std::move(hint)});
}

[[nodiscard]] TRIAGE_DECL std::unexpected<error> fail(error e) { return std::unexpected(std::move(e)); }

[[nodiscard]] TRIAGE_DECL std::unexpected<error> fail_errno(int e, std::string context, std::string hint) {
    return std::unexpected(error::from_errno(e, std::move(context), std::move(hint)));
}

} // namespace triage
