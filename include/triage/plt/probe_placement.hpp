// triage/plt/probe_placement.hpp — where to count the calls of one call
// site of a process's mapped object: at its stub, or, for a call that has
// no stub (-fno-plt), at the function its GOT slot points to now.
//
// Offers: `placed_probe{point, object, at_function, runtime_address}` and
// `place_probe(mem, objects, caller, caller_file, site)`:
//  - a site with a stub: the stub's file offset in the caller's file
//    (through the caller's readable_path, the very inode it mapped);
//    counts the calls this object makes through it; `slot` is the GOT
//    slot the stub jumps through, in the process (what an int3 backend
//    emulates the jump with);
//  - a got_only site: reads the slot from the target (memory source `mem`),
//    finds the mapped object holding that address and the file offset there;
//    `at_function` is true, and the count is then every call of that
//    function in the process, from any caller: the report must say so.
// Errors: errc::bad_address (the slot cannot be read); errc::not_found (the
// slot points into no mapped object, or into none of its file's segments:
// not resolved, or JIT code); the file errors of opening the object that
// holds the function.
// Thread-safe: yes (values only). Signal-safe: no.
// Target process: reads one word of its memory for a got_only site.
//
//   auto placed = TRIAGE_TRY(triage::plt::place_probe(mem, objects, python, python_file, site));
//   if (placed.at_function) fmt::print("{}: counted at its definition in {}\n", site.function, placed.object);
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/memory/memory_source.hpp"
#include "triage/plt/call_sites.hpp"
#include "triage/plt/uprobe_counter.hpp"

namespace triage::plt {

struct placed_probe {
    probe_point point;
    std::string object;                 // the path of the object probed (as the process maps it)
    bool at_function = false;           // counted at the function, for every caller (a got_only site)
    std::uint64_t runtime_address = 0;  // where the probed instruction is in the process
    std::uint64_t slot = 0;  // a stub: the GOT slot it jumps through, in the process; 0 at a function
};

template <memory::memory_source M>
[[nodiscard]] result<placed_probe> place_probe(M& mem, std::span<const elf::mapped_object> objects,
                                               const elf::mapped_object& caller, const elf::file& caller_file,
                                               const call_site& site) {
    const std::string where = "placing a probe for " + site.function + " of " + caller.path;
    if (site.kind != stub_kind::got_only) {
        auto offset = file_offset(caller_file.load_segments(), site.stub);
        if (!offset) return fail(errc::not_found, where, "its stub lies in no loaded segment of the file");
        return placed_probe{{caller.readable_path, *offset}, caller.path, false, site.stub + caller.load_bias,
                            site.got + caller.load_bias};
    }
    const std::uint64_t slot = site.got + caller.load_bias;
    const auto target = TRIAGE_TRY(memory::read_object<std::uint64_t>(mem, slot));
    for (const elf::mapped_object& o : objects) {
        if (!o.contains(target) || !o.executable()) continue;
        auto file = elf::file::open(o.readable_path);
        if (!file) return fail(std::move(file.error()).within(where));
        auto offset = file_offset(file->load_segments(), target - o.load_bias);
        if (!offset) break;
        return placed_probe{{o.readable_path, *offset}, o.path, true, target};
    }
    return fail(errc::not_found, where + " (its GOT slot holds " + hex(target) + ")",
                "the slot points into no mapped file: not resolved yet, or generated code");
}

} // namespace triage::plt
