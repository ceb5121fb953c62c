// triage/cpython/thread_names.hpp — the Python name of each thread
// (threading.Thread.name), read from the target's memory: live or a core.
//
// Offers: `thread_namer<M>(mem, layout, limits)` and `name_threads(snapshot)`,
// which sets `python_name` of every thread of a stack_snapshot that the
// threading module knows, and returns how many it named.
// How: per interpreter, sys.modules (PyInterpreterState.modules / imports.
// modules) → the `threading` module → its global `_active` (a dict:
// threading.get_ident() → Thread object, every version 2.7–3.15) → each
// Thread's `_name` attribute (2.7: `_Thread__name`), through the version's
// dict and attribute layouts (python_objects.hpp). Threads that Python did
// not start (and a program that never imported threading) have no entry
// and keep an empty name; so do threads whose entry cannot be read.
// Cost: the first call finds `_active` (a scan of sys.modules and of the
// module's globals) and reads each Thread once; later calls read `_active`
// (a dict header, its keys header and entries, and the header again: four
// reads; again while a thread starting or ending changes it) and look each
// entry up in a cache keyed by the addresses of its key and its Thread, so a
// warm call on an unchanged process reads nothing else. A Thread renamed
// while it stays in `_active` keeps the name read first (`forget()` drops
// the cache). `_active` is bound once per process (threading rebinds it
// only in a forked child, another process); the cached dict is looked up
// again when it can no longer be read as one.
// Errors: none from name_threads (names are best effort: a failure leaves
// names empty; `last_failure()` says why, for diagnostics).
// Thread-safe: no (caches); one namer per thread. Signal-safe: no.
// Target process: reads only; never stops it (read the names after a stop
// ends: they are not part of a stack's consistency).
//
//   triage::cpython::thread_namer names{mem, layout};
//   names.name_threads(snapshot);  // snapshot.threads[i].python_name == "MainThread", ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "triage/base/error.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/python_objects.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

template <memory::memory_source M>
class thread_namer {
public:
    thread_namer(M& mem, const layout& l, object_limits limits = {.max_items = 1u << 16, .max_chars = 256})
        : mem_{&mem}, layout_{l}, objects_{mem, l, limits} {}

    // Sets python_name of the snapshot's threads that threading knows;
    // returns how many.
    std::size_t name_threads(stack_snapshot& snapshot) {
        std::map<std::uint64_t, std::vector<python_thread*>> by_interpreter;
        for (python_thread& t : snapshot.threads) by_interpreter[t.interpreter].push_back(&t);
        std::size_t named = 0;
        for (auto& [interpreter, threads] : by_interpreter) {
            auto names = names_of(interpreter);
            if (!names) {
                failure_ = std::move(names.error());
                continue;
            }
            for (python_thread* t : threads) {
                if (auto it = names->find(t->python_ident); it != names->end()) {
                    t->python_name = it->second;
                    ++named;
                }
            }
        }
        return named;
    }

    void forget() {
        active_.clear();
        entries_.clear();
    }

    [[nodiscard]] const std::optional<error>& last_failure() const noexcept { return failure_; }

private:
    struct entry_key {
        std::uint64_t interpreter;
        std::uint64_t key;
        std::uint64_t thread;
        friend bool operator<(const entry_key& a, const entry_key& b) {
            return std::tie(a.interpreter, a.key, a.thread) < std::tie(b.interpreter, b.key, b.thread);
        }
    };
    struct named_entry {
        std::uint64_t ident = 0;
        std::string name;
    };

    // threading.get_ident() → name for one interpreter.
    result<std::unordered_map<std::uint64_t, std::string>> names_of(std::uint64_t interpreter) {
        auto found = active_.find(interpreter);
        if (found == active_.end()) {
            const std::uint64_t active = TRIAGE_TRY(find_active(interpreter));
            found = active_.emplace(interpreter, active).first;
        }
        auto items = objects_.changing_dict_items(found->second);  // threads start and end meanwhile
        if (!items) {  // freed or rebound: look it up again next time
            active_.erase(found);
            return fail(std::move(items.error()).within("reading threading._active"));
        }
        std::unordered_map<std::uint64_t, std::string> out;
        std::set<entry_key> kept;
        for (const dict_item& item : *items) {
            const entry_key k{interpreter, item.key, item.value};
            auto cached = entries_.find(k);
            if (cached == entries_.end()) {
                auto fresh = read_entry(item);
                if (!fresh) {
                    failure_ = std::move(fresh.error());
                    continue;
                }
                cached = entries_.emplace(k, std::move(*fresh)).first;
            }
            out.emplace(cached->second.ident, cached->second.name);
            kept.insert(k);
        }
        // Keep only what this interpreter's _active holds now (and the other interpreters' entries).
        std::erase_if(entries_, [&](const auto& e) { return e.first.interpreter == interpreter && !kept.contains(e.first); });
        return out;
    }

    result<std::uint64_t> find_active(std::uint64_t interpreter) {
        if (!has(layout_.interpreter.modules)) return fail(errc::unsupported, "finding sys.modules");
        const auto modules =
            TRIAGE_TRY(memory::read_object<std::uint64_t>(*mem_, interpreter + layout_.interpreter.modules));
        if (modules == 0) return fail(errc::not_found, "finding sys.modules (none yet)");
        auto globals = objects_.module_dict(modules, "threading");
        if (!globals) return fail(std::move(globals.error()).within("finding the threading module"));
        auto items = TRIAGE_TRY(objects_.dict_items(*globals));
        auto active = objects_.find(items, "_active");
        if (!active) return fail(std::move(active.error()).within("finding threading._active"));
        return *active;
    }

    result<named_entry> read_entry(const dict_item& item) {
        const auto ident = TRIAGE_TRY(objects_.small_int(item.key));
        if (ident.negative) return fail(errc::inconsistent, "reading a thread ident (negative)");
        auto attributes = TRIAGE_TRY(objects_.attributes(item.value));
        const auto name = TRIAGE_TRY(objects_.find(attributes, layout_.major == 2 ? "_Thread__name" : "_name"));
        return named_entry{ident.magnitude, TRIAGE_TRY(objects_.str(name))};
    }

    M* mem_;
    layout layout_;
    object_reader<M> objects_;
    std::unordered_map<std::uint64_t, std::uint64_t> active_;  // interpreter → its threading._active
    std::map<entry_key, named_entry> entries_;
    std::optional<error> failure_;
};

} // namespace triage::cpython
