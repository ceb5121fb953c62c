// triage/unwind/impl/stack_copy.ipp — the definitions of
// triage/unwind/stack_copy.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/procfs/task_ids.hpp"
#include "triage/unwind/stack_copy.hpp"

namespace triage::unwind {

[[nodiscard]] TRIAGE_DECL memory::address_range stack_range(std::uint64_t rsp, std::span<const procfs::mapping> maps,
                                                            const stack_copy_options& options) noexcept {
    for (const procfs::mapping& m : maps) {
        if (!m.contains(rsp)) continue;
        const std::uint64_t start = rsp - m.start > options.red_zone ? rsp - options.red_zone : m.start;
        const std::uint64_t end = m.end - start > options.max_stack_bytes ? start + options.max_stack_bytes : m.end;
        return {start, end - start};
    }
    return {};
}

[[nodiscard]] TRIAGE_DECL result<stack_copy_preparation> prepare_stack_copy(pid_t pid, const stack_copy_options& options) {
    stack_copy_preparation out;
    out.maps = TRIAGE_TRY(procfs::read_maps(pid));
    const auto threads = TRIAGE_TRY(procfs::task_ids(pid));
    out.storage = TRIAGE_TRY(memory::snapshot::reserve(threads.size() * options.reserve_per_thread));
    return out;
}

} // namespace triage::unwind

namespace triage::unwind::detail {

[[nodiscard]] TRIAGE_DECL std::vector<memory::address_range> merged(std::vector<memory::address_range> ranges) {
    std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) { return a.address < b.address; });
    std::vector<memory::address_range> out;
    for (const auto& r : ranges) {
        if (!out.empty() && r.address <= out.back().address + out.back().size) {
            const std::uint64_t end = std::max(out.back().address + out.back().size, r.address + r.size);
            out.back().size = end - out.back().address;
        } else {
            out.push_back(r);
        }
    }
    return out;
}

} // namespace triage::unwind::detail
