// triage/cpython/impl/stack_walker.ipp — the definitions of
// triage/cpython/stack_walker.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/unaligned.hpp"
#include "triage/cpython/stack_walker.hpp"

namespace triage::cpython::detail::walker {

[[nodiscard]] TRIAGE_DECL std::uint64_t pointer(std::span<const std::byte> bytes, byte_offset at) {
    return load_unaligned<std::uint64_t>(bytes, at);
}

} // namespace triage::cpython::detail::walker
