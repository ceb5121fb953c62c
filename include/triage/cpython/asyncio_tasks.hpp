// triage/cpython/asyncio_tasks.hpp — every pending asyncio task of a
// process (3.7–3.15, live or core): its name, state, loop and thread, the
// chain of coroutines it is suspended in, and which tasks it awaits.
//
// Offers:
//  - `task_state`, `asyncio_task`, `asyncio_census`: plain values
//    (asyncio_census.hpp).
//  - `read_asyncio_tasks(mem, layout, roots, snapshot, options)`: the
//    census of the tasks of the interpreters `snapshot` saw.
// Where the tasks are found, per version (CPython's Lib/asyncio/tasks.py
// and Modules/_asynciomodule.c; docs/design/issue13-notes.md §3):
//  - 3.7–3.11: the registry every Task joins when it is created,
//    `asyncio.tasks._all_tasks` (a WeakSet: its `data` set of weakrefs);
//  - 3.12, 3.13: `_scheduled_tasks` (WeakSet) and `_eager_tasks` (a set:
//    tasks started eagerly that have not yet suspended);
//  - 3.14, 3.15: the C tasks are kept in per-thread intrusive lists whose
//    heads are in CPython's private thread state, so they are found the
//    way greenlets are: among the objects the cyclic GC tracks
//    (gc_objects.hpp), every instance of asyncio.Task (the C task) or of
//    a subclass.
//  Only C tasks (`_asyncio.Task` and its subclasses) are read: a registry's
//  other entries are left out (subtype_test). What it misses: pure-Python
//  tasks (asyncio.tasks._PyTask: all of them when CPython was built
//  without `_asyncio`, an unsupported error); task-like objects that are
//  not Task instances (a custom task factory's own futures); on 3.7–3.13,
//  a task that registered with another registry than asyncio's.
//  Done tasks are left out (a WeakSet keeps them while they are referenced).
// What is read of a task (TaskObj, per version): its state (pending), name
// (3.12+ may keep the int N of "Task-N"), loop, coroutine and the future it
// waits on (`_fut_waiter`). Its coroutine chain: from the task's coroutine,
// each suspended coroutine's (or generator's) frame, then the object on top
// of its value stack, which is what it awaits (`cr_await`: f_stacktop[-1]
// 3.7–3.9, f_valuestack[f_stackdepth-1] 3.10, localsplus[stacktop-1]
// 3.11–3.13, stackpointer[-1] 3.14, stackpointer[-2] 3.15), followed while
// that is a coroutine or a generator: at most `max_chain` deep, at most
// `max_frames` frames over all tasks (past it a task's `failure` says so). A running
// task's coroutine is executing: its frames are its thread's stack.
// Which tasks a task awaits: the future it waits on when that is a task, the
// children of a gather() it waits on (`_children`), and on 3.14+ the
// `awaited_by` CPython records (gather, TaskGroup, await of a task).
// Its thread: its loop's `_thread_id` (BaseEventLoop sets it while it runs;
// an event loop that keeps none, such as uvloop's, gives 0).
// Cost: a few reads per task through a page cache, plus on 3.14+ one walk
// of the GC's lists (one 32-byte read per tracked object); only when asked.
// Read it while the target is stopped: running, tasks come and go and
// chains change under the read (a task that cannot be read says so in its
// `failure`; the GC walk is retried).
// Errors: not_found (the process has not imported asyncio), unsupported
// (2.7, 3.6, free-threaded builds), and those of reading the registry or
// walking the GC. A task whose chain cannot be read is not an error: its
// `failure` says why.
// Thread-safe: no. Signal-safe: no. Target process: reads only.
//
//   auto census = TRIAGE_TRY(triage::cpython::read_asyncio_tasks(py.memory, layout, roots, snapshot));
//   for (const auto& t : census.tasks) show(t.name, to_string(t.state), t.frames);
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "triage/base/unaligned.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/asyncio_census.hpp"
#include "triage/cpython/gc_objects.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/python_objects.hpp"
#include "triage/cpython/runtime_roots.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/memory/caching_source.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

struct asyncio_options {
    std::size_t max_tasks = 1'000'000;
    std::size_t max_chain = 64;              // coroutines followed per task
    std::size_t max_frames = 1'000'000;      // coroutine frames read in all (garbage can chain many tasks)
    std::uint64_t max_objects = 50'000'000;  // GC-tracked objects walked at most (3.14+)
    walk_limits limits{};
};

namespace detail::asyncio {

// Where a version keeps what is read of a task and of a coroutine.
struct task_layout {
    byte_offset state;         // fut_state (int: 0 pending, 1 cancelled, 2 finished)
    byte_offset fut_waiter;    // task_fut_waiter
    byte_offset coro;          // task_coro
    byte_offset name;          // task_name (offset_none: 3.7 has no names)
    byte_offset awaited_by;    // task_awaited_by (3.14+): a task, or a set of them
    byte_offset awaited_by_is_set;  // char (3.14+)
    std::size_t size;          // bytes read of each task
};
inline constexpr byte_offset task_loop = 16;       // fut_loop, in every version
inline constexpr byte_offset future_iter_future = 16;  // _asyncio.FutureIter's future
inline constexpr byte_offset weakref_object = 16;  // PyWeakReference.wr_object

[[nodiscard]] constexpr std::optional<task_layout> task_layout_of(const layout& l) noexcept {
    if (l.major != 3 || l.free_threaded) return std::nullopt;
    switch (l.minor) {
    case 7: return task_layout{72, 104, 112, offset_none, offset_none, offset_none, 136};
    case 8: return task_layout{72, 104, 112, 120, offset_none, offset_none, 144};
    case 9: return task_layout{80, 144, 152, 160, offset_none, offset_none, 184};
    case 10: return task_layout{88, 152, 160, 168, offset_none, offset_none, 192};
    case 11:
    case 12: return task_layout{88, 128, 136, 144, offset_none, offset_none, 176};
    case 13: return task_layout{96, 112, 120, 128, offset_none, offset_none, 144};
    case 14:
    case 15: return task_layout{104, 120, 128, 136, 96, 109, 168};
    default: return std::nullopt;
    }
}

// A coroutine's (or generator's) frame, its state and its value stack.
struct coroutine_layout {
    byte_offset frame_pointer;  // ≤3.10: gi_frame (PyFrameObject *); offset_none 3.11+
    byte_offset frame_inline;   // 3.11+: gi_iframe (the _PyInterpreterFrame, inline)
    byte_offset running;        // 3.7–3.9: gi_running (char); 3.10: the frame's f_state (char);
                                // 3.11+: gi_frame_state (int8)
    std::int8_t executing;      // its value while the frame runs
    std::int8_t created;        // its value before the frame first ran (3.10+)
    std::int8_t suspended_low, suspended_high;  // its values while suspended (3.10+)
    byte_offset stack;          // 3.11–3.13: stacktop (int: slots in use above localsplus); 3.14+:
                                // stackpointer (tagged refs); ≤3.10 the frame object's f_valuestack (64),
                                // f_stacktop (72, ≤3.9) and f_stackdepth (80, 3.10)
    std::uint8_t top_back;      // which slot below the top holds the awaited object (3.15: 2)
};

[[nodiscard]] constexpr coroutine_layout coroutine_layout_of(const layout& l) noexcept {
    if (l.minor <= 9) return {16, offset_none, 24, 1, 0, 0, 0, offset_none, 1};
    if (l.minor == 10) return {16, offset_none, 108, 0, -2, -1, -1, offset_none, 1};
    if (l.minor == 11) return {offset_none, 80, 75, 0, -2, -1, -1, 64, 1};
    if (l.minor == 12) return {offset_none, 72, 67, 0, -2, -1, -1, 64, 1};
    if (l.minor <= 14) return {offset_none, 72, 67, 0, -3, -2, -1, 64, 1};
    return {offset_none, 72, 67, 4, 0, 1, 3, 64, 2};
}

[[nodiscard]] inline bool plausible(std::uint64_t a) noexcept {
    return a >= 4096 && a < (std::uint64_t{1} << 47) && a % 8 == 0;
}

} // namespace detail::asyncio

template <memory::memory_source M>
[[nodiscard]] result<asyncio_census> read_asyncio_tasks(M& mem, const layout& l, const runtime_roots& roots,
                                                        const stack_snapshot& snapshot, const asyncio_options& options = {}) {
    namespace d = detail::asyncio;
    const auto tl = d::task_layout_of(l);
    if (!tl) {
        return fail(errc::unsupported, "reading asyncio tasks: not known for Python " + std::to_string(l.major) + "." +
                                           std::to_string(l.minor) + (l.free_threaded ? " (free-threaded)" : "") +
                                           " (known: 3.7–3.15)");
    }
    if (!has(l.interpreter.modules)) return fail(errc::unsupported, "reading asyncio tasks: sys.modules not known");
    const d::coroutine_layout cl = d::coroutine_layout_of(l);
    std::vector<std::uint64_t> interpreters;
    for (const auto& t : snapshot.threads) {
        if (std::ranges::find(interpreters, t.interpreter) == interpreters.end()) interpreters.push_back(t.interpreter);
    }
    memory::caching_source<M&> cached{mem, 8192};
    object_reader objects{cached, l, object_limits{.max_items = options.max_tasks * 2 + 8}};
    asyncio_census census;
    std::vector<std::uint64_t> found;
    std::unordered_set<std::uint64_t> seen;
    const auto add = [&](std::uint64_t task) {
        if (task != 0 && found.size() < options.max_tasks && seen.insert(task).second) found.push_back(task);
    };
    bool imported = false;
    std::vector<std::uint64_t> c_tasks;  // each interpreter's
    for (const std::uint64_t interp : interpreters) {
        const auto modules = TRIAGE_TRY(memory::read_object<std::uint64_t>(cached, interp + l.interpreter.modules));
        if (modules == 0) continue;
        auto globals = objects.module_dict(modules, "asyncio.tasks");
        if (!globals) continue;
        imported = true;
        const auto items = TRIAGE_TRY(objects.dict_items(*globals));
        // The C task type (`_CTask`, which is `Task` too): the fields read
        // below are its. Without the `_asyncio` module there is none, and
        // every task is a pure-Python one.
        const auto c_task = objects.find(items, "_CTask");
        if (!c_task) continue;
        c_tasks.push_back(*c_task);
        // A WeakSet's tasks: its `data`, a set of weak references.
        const auto weak_set = [&](std::string_view name) -> result<void> {
            const std::uint64_t set = TRIAGE_TRY(objects.find(items, name));
            const std::uint64_t data = TRIAGE_TRY(objects.find(TRIAGE_TRY(objects.attributes(set)), "data"));
            const auto refs = TRIAGE_TRY(objects.set_items(data, options.max_tasks));
            census.objects_scanned += refs.items.size();
            std::vector<std::uint64_t> targets(refs.items.size());
            std::vector<memory::read_request> requests(refs.items.size());
            for (std::size_t i = 0; i < refs.items.size(); ++i) {
                requests[i] = {refs.items[i] + d::weakref_object, std::as_writable_bytes(std::span{&targets[i], 1})};
            }
            TRIAGE_TRY(cached.read_batch(requests));
            for (std::size_t i = 0; i < targets.size(); ++i) {
                if (requests[i].bytes_read == 8 && d::plausible(targets[i])) add(targets[i]);
            }
            return {};
        };
        if (l.minor <= 11) {
            TRIAGE_TRY(weak_set("_all_tasks"));
            census.found_in = "asyncio.tasks._all_tasks";
        } else if (l.minor <= 13) {
            TRIAGE_TRY(weak_set("_scheduled_tasks"));
            const auto eager = TRIAGE_TRY(objects.set_items(TRIAGE_TRY(objects.find(items, "_eager_tasks")), options.max_tasks));
            census.objects_scanned += eager.items.size();
            for (const std::uint64_t t : eager.items) add(t);
            census.found_in = "asyncio.tasks._scheduled_tasks and _eager_tasks";
        } else {
            const auto instances = TRIAGE_TRY(find_gc_instances(cached, l, interp, std::span{&*c_task, 1},
                                                                options.max_tasks, options.max_objects));
            for (const std::uint64_t t : instances.objects) add(t);
            census.objects_scanned += instances.objects_scanned;
            census.found_in = "the GC's lists";
        }
    }
    if (!imported) return fail(errc::not_found, "reading asyncio tasks: the process has not imported asyncio");
    if (c_tasks.empty()) {
        return fail(errc::unsupported, "reading asyncio tasks: asyncio runs without its C module (_asyncio), and "
                                       "its pure-Python tasks are not read");
    }
    // A registry may hold objects that are not C tasks: pure-Python tasks
    // (asyncio.tasks._PyTask), or anything given to _register_task.
    subtype_test is_c_task{cached, l, c_tasks};
    census.not_c_tasks = std::erase_if(found, [&](std::uint64_t task) {
        auto type = memory::read_object<std::uint64_t>(cached, task + l.object.ob_type);
        return !type || !is_c_task(*type);
    });

    // Each task's fields; pending ones only.
    struct raw {
        std::uint64_t coro = 0, waiter = 0, name = 0, awaited_by = 0;
        bool awaited_by_is_set = false;
    };
    std::vector<raw> raws;
    std::vector<std::byte> bytes(tl->size);
    std::unordered_map<std::uint64_t, std::uint64_t> thread_of_loop;
    for (const std::uint64_t address : found) {
        const auto got = cached.read(address, bytes);
        if (!got || *got < tl->size || load_unaligned<std::int32_t>(bytes, tl->state) != 0) continue;
        asyncio_task& t = census.tasks.emplace_back();
        raw& r = raws.emplace_back();
        t.address = address;
        t.loop = load_unaligned<std::uint64_t>(bytes, d::task_loop);
        r.coro = load_unaligned<std::uint64_t>(bytes, tl->coro);
        r.waiter = load_unaligned<std::uint64_t>(bytes, tl->fut_waiter);
        if (has(tl->name)) r.name = load_unaligned<std::uint64_t>(bytes, tl->name);
        if (has(tl->awaited_by)) {
            r.awaited_by = load_unaligned<std::uint64_t>(bytes, tl->awaited_by);
            r.awaited_by_is_set = load_unaligned<std::uint8_t>(bytes, tl->awaited_by_is_set) != 0;
        }
        if (auto type = objects.type_of(address)) t.type = (*type)->name;
        if (r.name != 0) {
            auto type = objects.type_of(r.name);
            if (type && (*type)->name == "int") {  // 3.12+: "Task-N", formatted when asked
                if (auto n = objects.small_int(r.name)) t.name = "Task-" + std::to_string(n->magnitude);
            } else if (auto text = objects.str(r.name)) {
                t.name = std::move(*text);
            }
        }
        if (auto it = thread_of_loop.find(t.loop); it != thread_of_loop.end()) {
            t.thread = it->second;
        } else {
            std::uint64_t ident = 0;
            if (auto attributes = objects.attributes(t.loop)) {
                if (auto id = objects.find(*attributes, "_thread_id")) {
                    if (auto n = objects.small_int(*id); n && !n->negative) ident = n->magnitude;
                }
            }
            thread_of_loop.emplace(t.loop, ident);
            t.thread = ident;
        }
        if (r.waiter != 0) {
            auto type = objects.type_of(r.waiter);
            if (!type || (*type)->name != "NoneType") {
                t.awaiting = r.waiter;
                if (type) t.awaiting_type = (*type)->name;
            }
        }
    }

    // Coroutine chains: each suspended coroutine's frame, then what it awaits.
    std::vector<std::uint64_t> chain_frames;
    std::vector<std::size_t> chain_owner;
    for (std::size_t k = 0; k < census.tasks.size(); ++k) {
        asyncio_task& t = census.tasks[k];
        std::uint64_t coro = raws[k].coro;
        std::unordered_set<std::uint64_t> visited;
        for (std::size_t depth = 0; depth < options.max_chain && d::plausible(coro) && visited.insert(coro).second; ++depth) {
            auto type = objects.type_of(coro);
            if (!type) {
                t.failure = std::move(type.error());
                break;
            }
            if (chain_frames.size() >= options.max_frames) {
                t.failure = error{errc::limit_exceeded, 0,
                                  "reading the coroutines of task " + hex(t.address) + ": more than " +
                                      std::to_string(options.max_frames) + " coroutine frames in all",
                                  {}};
                break;
            }
            const std::string& name = (*type)->name;
            if (name == "_asyncio.FutureIter") break;  // the future, which `awaiting` names
            if (name != "coroutine" && name != "generator") break;
            std::array<std::byte, 96> header{};
            if (auto got = cached.read(coro, header); !got || *got < 80) {
                t.failure = error{errc::bad_address, 0, "reading the coroutine at " + hex(coro), {}};
                break;
            }
            // Its frame, and whether the frame runs, has not started, or is suspended (awaiting).
            std::uint64_t frame = 0, top = 0;  // top: the slot just above its value stack's top
            bool executing = false, created = false;
            if (l.minor <= 10) {
                frame = load_unaligned<std::uint64_t>(header, cl.frame_pointer);
                if (frame == 0) break;  // finished
                std::array<std::uint64_t, 4> words{};  // f_valuestack, f_stacktop, f_stackdepth (3.10)
                if (!memory::read_exact(cached, frame + 64, std::as_writable_bytes(std::span{words}))) break;
                if (l.minor <= 9) {
                    executing = load_unaligned<std::int8_t>(header, cl.running) != 0;
                    top = words[1];
                    auto lasti = memory::read_object<std::int32_t>(cached, frame + l.frame_object.lasti);
                    created = lasti && *lasti < 0;
                    if (!executing && top == 0) break;
                } else {
                    auto s = memory::read_object<std::int8_t>(cached, frame + cl.running);
                    if (!s) break;
                    executing = *s == cl.executing;
                    created = *s == cl.created;
                    if (!executing && !created && (*s < cl.suspended_low || *s > cl.suspended_high)) break;
                    top = words[0] + 8 * std::uint64_t{static_cast<std::uint32_t>(words[2])};
                }
            } else {
                frame = coro + cl.frame_inline;
                const auto s = load_unaligned<std::int8_t>(header, cl.running);
                executing = s == cl.executing;
                created = s == cl.created;
                if (!executing && !created && (s < cl.suspended_low || s > cl.suspended_high)) break;
                if (l.minor >= 14) {
                    top = memory::read_object<std::uint64_t>(cached, frame + cl.stack).value_or(0);
                } else if (auto slots = memory::read_object<std::int32_t>(cached, frame + cl.stack);
                           slots && *slots > 0 && *slots < (1 << 20)) {
                    top = frame + l.interpreter_frame.localsplus + 8 * std::uint64_t(*slots);
                }
            }
            if (executing) {
                if (depth == 0) t.state = task_state::running;
                break;
            }
            chain_frames.push_back(frame);
            chain_owner.push_back(k);
            if (created || !d::plausible(top) || top < 8 * std::uint64_t{cl.top_back}) break;
            auto awaited = memory::read_object<std::uint64_t>(cached, top - 8 * std::uint64_t{cl.top_back});
            if (!awaited) break;
            coro = *awaited & ~std::uint64_t{l.interpreter_frame.executable_tag_bits};
        }
        if (t.state != task_state::running) t.state = t.awaiting != 0 ? task_state::waiting : task_state::ready;
    }
    if (!chain_frames.empty()) {
        stack_walker<M> walker{mem, l, roots, options.limits};
        auto chains = walker.walk_chains(chain_frames);
        for (std::size_t j = 0; j < chain_frames.size(); ++j) {
            asyncio_task& t = census.tasks[chain_owner[j]];
            if (!chains) {
                if (!t.failure) t.failure = chains.error();
                continue;
            }
            auto& chain = (*chains)[j];
            if (!chain.frames.empty()) t.frames.push_back(std::move(chain.frames.front()));
            else if (!t.failure && chain.failure) t.failure = std::move(chain.failure);
        }
        // Innermost first: the chain was followed from the task's own coroutine inwards.
        for (auto& t : census.tasks) std::ranges::reverse(t.frames);
    }

    // Which tasks each task awaits.
    std::unordered_map<std::uint64_t, std::size_t> index;
    for (std::size_t k = 0; k < census.tasks.size(); ++k) index.emplace(census.tasks[k].address, k);
    const auto edge = [&](std::size_t from, std::uint64_t to) {
        auto& awaits = census.tasks[from].awaits;
        if (index.contains(to) && to != census.tasks[from].address && std::ranges::find(awaits, to) == awaits.end()) {
            awaits.push_back(to);
        }
    };
    for (std::size_t k = 0; k < census.tasks.size(); ++k) {
        asyncio_task& t = census.tasks[k];
        const raw& r = raws[k];
        if (t.awaiting != 0) {
            if (index.contains(t.awaiting)) {
                edge(k, t.awaiting);
            } else if (t.awaiting_type != "_asyncio.Future") {  // gather(): a future with `_children`
                auto attributes = objects.attributes(t.awaiting);
                auto children = attributes ? objects.find(*attributes, "_children") : fail(std::move(attributes.error()));
                if (children) {
                    auto type = objects.type_of(*children);
                    const bool tuple = type && (*type)->name == "tuple";
                    if (auto items = objects.sequence_items(*children, tuple, options.max_tasks)) {
                        for (const std::uint64_t child : items->items) edge(k, child);
                    }
                }
            }
        }
        if (r.awaited_by == 0) continue;
        if (!r.awaited_by_is_set) {
            if (auto it = index.find(r.awaited_by); it != index.end()) edge(it->second, t.address);
        } else if (auto waiters = objects.set_items(r.awaited_by, options.max_tasks)) {
            for (const std::uint64_t w : waiters->items) {
                if (auto it = index.find(w); it != index.end()) edge(it->second, t.address);
            }
        }
    }
    // By thread (those of no known thread last); in one, running first, then waiting, ready; by name.
    std::ranges::sort(census.tasks, [](const asyncio_task& a, const asyncio_task& b) {
        if (a.thread != b.thread) return a.thread != 0 && (b.thread == 0 || a.thread < b.thread);
        return std::tie(a.state, a.name, a.address) < std::tie(b.state, b.name, b.address);
    });
    return census;
}

} // namespace triage::cpython
