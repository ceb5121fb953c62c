// triage/cpython/layouts/all.hpp — every CPython layout triage knows, as a
// compile-time list, and the one place that maps a version to its layout.
//
// Offers:
//  - `layout_constant<L>`: a type standing for one layout constant, so code
//    can be instantiated per layout (`decltype(entry)::value` is a constant
//    expression): static members `major`, `minor`, `value`.
//  - `known_layouts`: a boost::hana tuple of layout_constant, oldest first:
//    2.7, 3.6 … 3.13. A walker instantiated per layout, or a test run for
//    every layout, iterates it with hana::for_each.
//  - `find_layout(major, minor)`: the layout of a version, or std::nullopt
//    when triage has none (3.0–3.5, 3.14+: those, like every 3.13+, are read
//    from the target's own _Py_DebugOffsets, triage/cpython/debug_offsets.hpp).
//    2.7 gives the UCS4 build; see layouts::v2_7_ucs2.
// Errors: none. Thread-safe and signal-safe: constants only.
// Target process: none touched.
//
//   auto l = triage::cpython::layouts::find_layout(3, 11);
//   if (!l) return triage::fail(triage::errc::unsupported, "reading Python 3.11 stacks");
//   std::uint32_t next = l->thread.next;
#pragma once

#include <cstdint>
#include <optional>

#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>

#include "triage/base/config.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/layouts/v2_7.hpp"
#include "triage/cpython/layouts/v3_10.hpp"
#include "triage/cpython/layouts/v3_11.hpp"
#include "triage/cpython/layouts/v3_12.hpp"
#include "triage/cpython/layouts/v3_13.hpp"
#include "triage/cpython/layouts/v3_6.hpp"
#include "triage/cpython/layouts/v3_7.hpp"
#include "triage/cpython/layouts/v3_8.hpp"
#include "triage/cpython/layouts/v3_9.hpp"

namespace triage::cpython::layouts {

// One entry of `known_layouts`: the layout L as a type.
template <const layout& L>
struct layout_constant {
    static constexpr const layout& value = L;
    static constexpr int major = L.major;
    static constexpr int minor = L.minor;
};

inline constexpr auto known_layouts =
    boost::hana::make_tuple(layout_constant<v2_7>{}, layout_constant<v3_6>{}, layout_constant<v3_7>{},
                            layout_constant<v3_8>{}, layout_constant<v3_9>{}, layout_constant<v3_10>{},
                            layout_constant<v3_11>{}, layout_constant<v3_12>{}, layout_constant<v3_13>{});

[[nodiscard]] TRIAGE_DECL std::optional<layout> find_layout(int major, int minor);

} // namespace triage::cpython::layouts

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/layouts/impl/all.ipp"
#endif
