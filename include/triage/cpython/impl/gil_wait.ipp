// triage/cpython/impl/gil_wait.ipp — the definitions of
// triage/cpython/gil_wait.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/cpython/gil_wait.hpp"

namespace triage::cpython {

[[nodiscard]] TRIAGE_DECL std::optional<address_range> gil_wait_range(const layout& l, std::uint64_t gil) noexcept {
    namespace g = detail::gil_wait;
    if (gil == 0 || !has(l.gil.locked)) return std::nullopt;
    const std::uint64_t begin = gil + l.gil.locked + g::locks_from_locked;
    return address_range{begin, begin + g::locks_size};
}

[[nodiscard]] TRIAGE_DECL bool waits_for_gil(const procfs::syscall_info& syscall, const address_range& range) noexcept {
    return syscall.kind == procfs::syscall_kind::in_syscall && syscall.number == detail::gil_wait::futex_syscall &&
           range.contains(syscall.arguments[0]);
}

} // namespace triage::cpython
