// triage/plt/probe_plan.hpp — which library calls of a process to count,
// and where: every call site of its mapped objects that a filter selects,
// each placed (plt/probe_placement.hpp), the same instruction never twice.
//
// Offers:
//  - `call_filter{functions, objects}`: `functions` are fnmatch(3) patterns
//    on the imported function's name, each optionally `NAME@OBJECT`
//    (ltrace's spelling: `strchr@libpython2.7.so.1.0`, `mem*@libc.so*`),
//    OBJECT matching the calling object's file name or path; `objects` are
//    patterns the calling object's file name or path must match. Empty:
//    every function; every object but the dynamic loader.
//  - `plan_probes(mem, objects, filter)` → `probe_plan`: the probes, sorted by
//    caller then function, and what was skipped and why (an object that
//    cannot be opened, a call through a GOT slot that is not resolved, an
//    object with no call sites at all: a Go binary, a static one without
//    ifuncs), so that a count of zero is never silent.
// What counts as a call site (plt/call_sites.hpp): every stub. A `got_only`
// site is a call only in an object that has no stubs (built -fno-plt); in
// an object with stubs it is a function whose address is taken, probed only
// when a pattern of `functions` names it. A got_only probe sits at the
// function itself and counts every caller in the process: such probes are
// merged when several objects resolve to the same function, with `caller`
// empty, and the report must say "every caller".
// Errors: none; an object or a site that cannot be used is listed as skipped.
// Thread-safe: yes (values only). Signal-safe: no.
// Target process: reads its GOT slots for got_only sites (memory source
// `mem`); opens its mapped files through /proc/PID/map_files.
//
//   auto objects = TRIAGE_TRY(triage::elf::mapped_objects(pid));
//   auto plan = triage::plt::plan_probes(mem, objects, {.functions = {"strchr", "mem*"}});
//   for (const auto& p : plan.probes) fmt::print("{} from {}\n", p.function, p.caller);
#pragma once

#include <fnmatch.h>

#include <algorithm>
#include <cstddef>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "triage/base/path.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/memory_source.hpp"
#include "triage/plt/call_sites.hpp"
#include "triage/plt/probe_placement.hpp"

namespace triage::plt {

struct call_filter {
    std::vector<std::string> functions;  // FUNCTION or FUNCTION@OBJECT patterns; empty: all
    std::vector<std::string> objects;    // calling-object patterns; empty: all but the dynamic loader
};

struct planned_probe {
    std::string function;
    std::string caller;  // the calling object's path; empty for a probe at the function (every caller)
    stub_kind kind = stub_kind::plt;
    placed_probe placed;
};

struct skipped_object {
    std::string object;
    std::string function;  // empty when the whole object was skipped
    std::string reason;
};

struct probe_plan {
    std::vector<planned_probe> probes;
    std::vector<skipped_object> skipped;
    std::size_t objects_searched = 0;
};

namespace detail {

// `pattern` matches the object's file name or its whole path.
[[nodiscard]] inline bool object_matches(const std::string& pattern, const std::string& path) {
    return ::fnmatch(pattern.c_str(), path.c_str(), 0) == 0 ||
           ::fnmatch(pattern.c_str(), std::string{file_name(path)}.c_str(), 0) == 0;
}

[[nodiscard]] inline bool is_dynamic_loader(const std::string& path) {
    const std::string name{file_name(path)};
    return name.starts_with("ld-linux") || name.starts_with("ld64.so") || name.starts_with("ld-") ||
           name.starts_with("ld.so");
}

// Which patterns of `functions` select `function` called from `caller`:
// 0 none, 1 a pattern with wildcards, 2 an exact name.
[[nodiscard]] inline int function_selected(const std::vector<std::string>& functions, const std::string& function,
                                           const std::string& caller) {
    if (functions.empty()) return 1;
    int best = 0;
    for (const std::string& p : functions) {
        const auto at = p.rfind('@');
        const std::string name = at == std::string::npos || at == 0 ? p : p.substr(0, at);
        if (at != std::string::npos && at != 0 && !object_matches(p.substr(at + 1), caller)) continue;
        if (::fnmatch(name.c_str(), function.c_str(), 0) != 0) continue;
        best = std::max(best, name.find_first_of("*?[") == std::string::npos ? 2 : 1);
    }
    return best;
}

} // namespace detail

template <memory::memory_source M>
[[nodiscard]] probe_plan plan_probes(M& mem, std::span<const elf::mapped_object> objects, const call_filter& filter) {
    probe_plan plan;
    std::set<std::pair<std::string, std::uint64_t>> at_function;  // the probe points placed at a function
    for (const elf::mapped_object& object : objects) {
        if (!object.executable()) continue;
        if (filter.objects.empty() ? detail::is_dynamic_loader(object.path)
                                   : std::ranges::none_of(filter.objects, [&](const std::string& p) {
                                         return detail::object_matches(p, object.path);
                                     })) {
            continue;
        }
        ++plan.objects_searched;
        auto file = elf::open_mapped(object);
        if (!file) {
            plan.skipped.push_back({object.path, {}, file.error().message()});
            continue;
        }
        auto sites = call_sites(*file);
        if (!sites) {
            plan.skipped.push_back({object.path, {}, sites.error().message()});
            continue;
        }
        if (sites->empty()) {
            plan.skipped.push_back({object.path, {}, "no PLT stubs and no GOT calls: it calls no shared library "
                                                     "(a static or Go binary)"});
            continue;
        }
        const bool has_stubs = std::ranges::any_of(*sites, [](const call_site& s) { return s.kind != stub_kind::got_only; });
        for (const call_site& site : *sites) {
            const int selected = detail::function_selected(filter.functions, site.function, object.path);
            if (selected == 0) continue;
            // In an object with stubs, a slot without one holds an address taken, not a call.
            if (site.kind == stub_kind::got_only && has_stubs && selected < 2) continue;
            auto placed = place_probe(mem, objects, object, *file, site);
            if (!placed) {
                plan.skipped.push_back({object.path, site.function, placed.error().message()});
                continue;
            }
            if (placed->at_function) {
                if (!at_function.emplace(placed->point.path, placed->point.offset).second) continue;
                plan.probes.push_back({site.function, {}, site.kind, std::move(*placed)});
            } else {
                plan.probes.push_back({site.function, object.path, site.kind, std::move(*placed)});
            }
        }
    }
    std::ranges::stable_sort(plan.probes, [](const planned_probe& a, const planned_probe& b) {
        return std::tie(a.caller, a.function) < std::tie(b.caller, b.function);
    });
    return plan;
}

} // namespace triage::plt
