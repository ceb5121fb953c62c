// triage/cpython/gc_objects.hpp — every object CPython's cyclic garbage
// collector tracks, read from outside: how to find the objects no root
// names (all the greenlets of a process, greenlets.hpp).
//
// Offers:
//  - `gc_lists_of(layout)`: where an interpreter state keeps its
//    generations' lists (3.11–3.15, GIL builds; nullopt for the others).
//  - `for_each_gc_object(mem, layout, interpreter, visit, max_objects)`:
//    calls `visit(object, type)` (addresses) for every object on the three
//    generations' lists and the permanent one (gc.freeze()), list by list,
//    in list order; returns how many it visited.
//  - `subtype_test{mem, layout, types}`: whether a type is one of `types`
//    or a subclass of one (tp_base chains, at most 64 deep; each verdict
//    remembered).
//  - `find_gc_instances(cached, layout, interpreter, types, max_found)`:
//    the objects whose type is one of `types` or a subclass of one (how
//    greenlets.hpp and asyncio_tasks.hpp find theirs), the walk made again
//    when a list changed under it.
// How: each list is a ring of PyGC_Head {_gc_next, _gc_prev} (16 bytes,
// right before the object) starting at its head inside the interpreter
// state; one 32-byte read per object gives the next link, the back link
// and the object's type. Put a memory::caching_source in front of a live
// process: neighbouring objects share pages (≈1 read per page instead of
// per object).
// Bounds: at most `max_objects` in all; every link must be a plausible
// address and point back at the node before it (`_gc_prev`, flag bits
// masked), so a list read while it changes (a running target) or garbage
// ends the walk with an error instead of wandering.
// Errors: unsupported (version or free-threaded build: no such lists);
// inconsistent (the collector was running: its lists are being re-linked,
// read again; a link that does not point back, a bad pointer);
// limit_exceeded (more than max_objects); bad_address from the source.
// Where the numbers come from: the DWARF of 3.11.2 (Debian), 3.11.7,
// 3.12.1, 3.13.0 (pyenv), 3.14.10 and 3.15.2 (Debian unstable):
// PyInterpreterState.gc, _gc_runtime_state.generations, .permanent_generation
// and .collecting; greenlets_test.cpp counts the objects the walk finds
// against the victim's own gc.get_objects().
// Thread-safe: as the memory source. Signal-safe: no. Target: reads only.
//
//   triage::memory::caching_source cached{py.memory, 4096};
//   auto n = TRIAGE_TRY(triage::cpython::for_each_gc_object(cached, layout, interp,
//       [&](std::uint64_t object, std::uint64_t type) { if (type == wanted) found.push_back(object); }));
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/memory/caching_source.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

// Offsets from an interpreter state (PyInterpreterState *) of its GC state.
struct gc_lists {
    byte_offset gc;           // PyInterpreterState.gc
    byte_offset generations;  // _gc_runtime_state.generations[3] (24 bytes each; the head first)
    byte_offset permanent;    // _gc_runtime_state.permanent_generation
    byte_offset collecting;   // _gc_runtime_state.collecting (int: non-zero while a collection runs)
};

[[nodiscard]] constexpr std::optional<gc_lists> gc_lists_of(const layout& l) noexcept {
    if (l.free_threaded || l.major != 3) return std::nullopt;
    switch (l.minor) {
    case 11: return gc_lists{648, 24, 104, 200};
    case 12: return gc_lists{112, 24, 104, 200};
    case 13: return gc_lists{7400, 24, 104, 200};
    case 14: return gc_lists{7408, 24, 96, 192};
    case 15: return gc_lists{7400, 8, 80, 112};
    default: return std::nullopt;
    }
}

template <memory::memory_source M, class Visit>
[[nodiscard]] result<std::uint64_t> for_each_gc_object(M& mem, const layout& l, std::uint64_t interpreter,
                                                       Visit&& visit, std::uint64_t max_objects = 50'000'000) {
    const auto lists = gc_lists_of(l);
    if (!lists || l.object.ob_type != 8) {
        return fail(errc::unsupported, "walking the garbage collector's lists: not known for Python " +
                                           std::to_string(l.major) + "." + std::to_string(l.minor) +
                                           (l.free_threaded ? " (free-threaded)" : ""));
    }
    const std::uint64_t gc = interpreter + lists->gc;
    const auto collecting = TRIAGE_TRY(memory::read_object<std::int32_t>(mem, gc + lists->collecting));
    if (collecting != 0) {
        return fail(errc::inconsistent, "walking the garbage collector's lists: a collection was running (read again)");
    }
    constexpr std::uint64_t flag_bits = 3;  // _gc_prev's low bits are flags; _gc_next's bit 0 only mid-collection
    const auto plausible = [](std::uint64_t a) { return a >= 4096 && a < (std::uint64_t{1} << 47) && a % 8 == 0; };
    const std::array<std::uint64_t, 4> heads{gc + lists->generations, gc + lists->generations + 24,
                                             gc + lists->generations + 48, gc + lists->permanent};
    std::uint64_t visited = 0;
    for (const std::uint64_t head : heads) {
        std::uint64_t before = head;
        std::uint64_t node = TRIAGE_TRY(memory::read_object<std::uint64_t>(mem, head));
        while (node != head) {
            if (!plausible(node)) {
                return fail(errc::inconsistent, "walking the garbage collector's lists: bad link " + hex(node) +
                                                    " after " + hex(before));
            }
            if (visited == max_objects) {
                return fail(errc::limit_exceeded, "walking the garbage collector's lists (more than " +
                                                      std::to_string(max_objects) + " objects)");
            }
            // _gc_next, _gc_prev, then the object: ob_refcnt, ob_type.
            std::array<std::uint64_t, 4> words{};
            TRIAGE_TRY(memory::read_exact(mem, node, std::as_writable_bytes(std::span{words})));
            if ((words[1] & ~flag_bits) != before) {
                return fail(errc::inconsistent, "walking the garbage collector's lists: the object at " + hex(node + 16) +
                                                    " does not link back (the list changed under the read?)");
            }
            ++visited;
            visit(node + 16, words[3]);
            before = node;
            node = words[0];
        }
    }
    return visited;
}

// Whether a type is one of `types` or a subclass of one: its tp_base chain,
// at most 64 deep, meets one of them. Each type's verdict is remembered (a
// type read while it changes may be judged wrong, and stays so).
template <memory::memory_source M>
class subtype_test {
public:
    subtype_test(M& mem, const layout& l, std::span<const std::uint64_t> types)
        : mem_{&mem}, tp_base_{l.object.tp_flags + 88}, types_{types.begin(), types.end()} {}  // 11 pointers after tp_flags

    [[nodiscard]] bool operator()(std::uint64_t type) {
        if (auto it = verdicts_.find(type); it != verdicts_.end()) return it->second;
        bool yes = false;
        std::uint64_t t = type;
        for (int depth = 0; depth < 64 && t != 0 && !yes; ++depth) {
            yes = std::ranges::find(types_, t) != types_.end();
            auto base = memory::read_object<std::uint64_t>(*mem_, t + tp_base_);
            if (!base) break;
            t = *base;
        }
        verdicts_.emplace(type, yes);
        return yes;
    }

private:
    M* mem_;
    std::uint64_t tp_base_;
    std::vector<std::uint64_t> types_;
    std::unordered_map<std::uint64_t, bool> verdicts_;
};

// The tracked objects whose type is one of `types` or a subclass of one
// (subtype_test), at most `max_found` of them, and how
// many objects the walk visited. A walk that meets a list changing under it
// (a running target) is made again, twice at most, through a fresh cache.
struct gc_instances {
    std::vector<std::uint64_t> objects;
    std::uint64_t objects_scanned = 0;
};

template <memory::memory_source M>
[[nodiscard]] result<gc_instances> find_gc_instances(memory::caching_source<M>& cached, const layout& l,
                                                     std::uint64_t interpreter, std::span<const std::uint64_t> types,
                                                     std::size_t max_found, std::uint64_t max_objects = 50'000'000) {
    subtype_test wanted{cached, l, types};
    result<std::uint64_t> walked = fail(errc::inconsistent, "not walked");
    gc_instances found;
    for (int attempt = 0; attempt < 3 && !walked; ++attempt) {
        found.objects.clear();
        cached.invalidate();
        walked = for_each_gc_object(
            cached, l, interpreter,
            [&](std::uint64_t object, std::uint64_t type) {
                if (found.objects.size() < max_found && wanted(type)) found.objects.push_back(object);
            },
            max_objects);
        if (!walked && walked.error().code != errc::inconsistent) break;
    }
    if (!walked) return fail(std::move(walked.error()));
    found.objects_scanned = *walked;
    return found;
}

} // namespace triage::cpython
