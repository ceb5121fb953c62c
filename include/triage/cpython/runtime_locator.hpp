// triage/cpython/runtime_locator.hpp — where a target's interpreter states
// are: the roots a stack walk starts from.
//
// Offers:
//  - `located_runtime{roots, runtime, method}`: the walker's `runtime_roots`,
//    the address of _PyRuntime (0 on 2.7/3.6), and how it was found.
//  - `validate_head(mem, layout, head)`: accepts the address of a
//    PyInterpreterState pointer only when it leads to an interpreter whose
//    `next` is null or a pointer and whose thread states (at least one, at
//    most 64 checked) all point back to it, each `prev` (3.x) pointing to
//    the one before.
//  - `locate_runtime(mem, image, layout)`, trying in order:
//      1. `_PyRuntime` by symbol, then the `.PyRuntime` section (3.7+);
//      2. `interp_head` (2.7, 3.6; a static, found in .symtab);
//      3. the `_Py_DebugOffsets` cookie "xdebugpy" that starts _PyRuntime
//         (3.13+), searched for in the object's data and bss;
//      4. a scan of the object's data and bss for a pointer that validates
//         (on 3.7+ only where runtime.interpreters.head == .main, which is
//         true of a process without sub-interpreters and of most with them).
//    Every candidate is validated; the GIL roots follow from the layout
//    (_PyRuntime offsets on 3.7–3.11; `_PyThreadState_Current`,
//    `gil_locked`, `gil_last_holder` symbols on 2.7/3.6; through the
//    interpreter on 3.12+, which the walker does itself).
// Errors: errc::not_found ("finding the Python runtime in PATH") with a
// hint when no candidate validates; no_such_process from the memory source.
// Thread-safe: yes. Signal-safe: no. Target process: reads only (the
// fallback scan reads the interpreter's data and bss once, a few MiB).
//
//   auto located = TRIAGE_TRY(triage::cpython::locate_runtime(mem, image, layout));
//   triage::cpython::stack_walker walker{mem, layout, located.roots};
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/interpreter_image.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/runtime_roots.hpp"
#include "triage/cpython/version.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

namespace detail::locator {

inline constexpr std::size_t max_threads_checked = 64;
inline constexpr std::size_t max_candidates = 65536;
inline constexpr std::uint64_t max_scan_bytes = std::uint64_t{64} << 20;

[[nodiscard]] constexpr bool plausible(std::uint64_t a) noexcept {
    return a >= 0x1000 && a < (std::uint64_t{1} << 47) && a % 8 == 0;
}

} // namespace detail::locator

// True when `head` (the address of a PyInterpreterState *) leads to an
// interpreter whose thread states point back to it.
template <memory::memory_source M>
[[nodiscard]] bool validate_head(M& mem, const layout& l, std::uint64_t head) {
    namespace d = detail::locator;
    auto interp = memory::read_object<std::uint64_t>(mem, head);
    if (!interp || !d::plausible(*interp) || !has(l.interpreter.threads_head)) return false;
    auto tstate = memory::read_object<std::uint64_t>(mem, *interp + l.interpreter.threads_head);
    if (!tstate || !d::plausible(*tstate)) return false;
    auto next_interp = memory::read_object<std::uint64_t>(mem, *interp + l.interpreter.next);
    if (!next_interp || (*next_interp != 0 && !d::plausible(*next_interp))) return false;
    std::uint64_t t = *tstate;
    std::uint64_t previous = 0;
    for (std::size_t k = 0; t != 0 && k < d::max_threads_checked; ++k) {
        if (!d::plausible(t)) return false;
        auto back = memory::read_object<std::uint64_t>(mem, t + l.thread.interp);
        if (!back || *back != *interp) return false;
        if (has(l.thread.prev)) {  // 3.x: a doubly linked list
            auto prev = memory::read_object<std::uint64_t>(mem, t + l.thread.prev);
            if (!prev || *prev != previous) return false;
        }
        auto next = memory::read_object<std::uint64_t>(mem, t + l.thread.next);
        if (!next || *next == t) return false;
        previous = t;
        t = *next;
    }
    return true;
}

namespace detail::locator {

// The roots once the head of the interpreter list is known.
[[nodiscard]] TRIAGE_DECL located_runtime roots_for(const layout& l, const interpreter_image& image, std::uint64_t runtime,
                                                    std::uint64_t head, std::string method);

} // namespace detail::locator

template <memory::memory_source M>
[[nodiscard]] result<located_runtime> locate_runtime(M& mem, const interpreter_image& image, const layout& l) {
    namespace d = detail::locator;
    const bool has_runtime = l.runtime.interpreters_from == interpreter_root::runtime;
    auto accept_runtime = [&](std::uint64_t runtime) {
        return validate_head(mem, l, runtime + l.runtime.interpreters_head);
    };
    if (has_runtime) {
        if (auto at = image.symbol(symbol_runtime); at && accept_runtime(*at)) {
            return d::roots_for(l, image, *at, *at + l.runtime.interpreters_head, "_PyRuntime symbol");
        }
        if (image.py_runtime_section && accept_runtime(image.py_runtime_section->low)) {
            std::uint64_t at = image.py_runtime_section->low;
            return d::roots_for(l, image, at, at + l.runtime.interpreters_head, ".PyRuntime section");
        }
    } else if (auto at = image.symbol(symbol_interp_head); at && validate_head(mem, l, *at)) {
        return d::roots_for(l, image, 0, *at, "interp_head symbol");
    }
    // Scans: read data and bss once, look for the cookie (3.13+) or for a
    // pointer that validates.
    std::size_t candidates = 0;
    for (const address_range& range : image.writable) {
        if (range.size() == 0 || range.size() > d::max_scan_bytes) continue;
        std::vector<std::byte> bytes(range.size());
        auto n = mem.read(range.low, bytes);
        if (!n) continue;
        bytes.resize(*n / 8 * 8);
        if (has_runtime) {
            for (std::size_t at = 0; at + debug_offsets_cookie.size() <= bytes.size(); at += 8) {
                if (std::memcmp(bytes.data() + at, debug_offsets_cookie.data(), debug_offsets_cookie.size()) == 0 &&
                    accept_runtime(range.low + at)) {
                    return d::roots_for(l, image, range.low + at, range.low + at + l.runtime.interpreters_head,
                                        "_Py_DebugOffsets cookie");
                }
            }
        }
        for (std::size_t at = 0; at + 16 <= bytes.size() && candidates < d::max_candidates; at += 8) {
            std::uint64_t value = 0;
            std::uint64_t following = 0;
            std::memcpy(&value, bytes.data() + at, 8);
            std::memcpy(&following, bytes.data() + at + 8, 8);
            // 3.11+ embed the main interpreter in _PyRuntime: the head may
            // point into the range, but never at itself.
            if (!d::plausible(value) || value == range.low + at) continue;
            if (has_runtime && (following != value || range.low + at < l.runtime.interpreters_head)) continue;
            ++candidates;
            if (!validate_head(mem, l, range.low + at)) continue;
            std::uint64_t runtime = has_runtime ? range.low + at - l.runtime.interpreters_head : 0;
            return d::roots_for(l, image, runtime, range.low + at, "scan of data and bss");
        }
    }
    return fail(errc::not_found, "finding the Python runtime in " + image.path,
                "no _PyRuntime/interp_head symbol, .PyRuntime section or valid interpreter pointer in its data; "
                "the process may not have initialised Python yet");
}

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/runtime_locator.ipp"
#endif
