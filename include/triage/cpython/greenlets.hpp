// triage/cpython/greenlets.hpp — every greenlet of a process (eventlet,
// gevent, plain greenlet), not only the one each thread runs: its state,
// its thread, its parent, and a suspended greenlet's Python stack.
//
// Offers:
//  - `greenlet_state`, `greenlet_stack`, `greenlet_census`: plain values
//    (greenlet_census.hpp).
//  - `read_greenlets(mem, layout, roots, snapshot, options)`: the census of
//    the greenlets of the interpreters `snapshot` saw.
// How: greenlet keeps no list of its greenlets, so they are found among
// the objects the cyclic GC tracks (gc_objects.hpp; a greenlet is one):
// every object whose type is greenlet.greenlet (sys.modules["greenlet"].
// greenlet) or a subclass of it (eventlet's GreenThread and hub, gevent's
// Greenlet). A greenlet's C++ state (PyGreenlet.pimpl) says whether it
// started, whether it is still active, its parent, its thread's main
// greenlet, and for one that is switched out, its saved innermost
// interpreter frame and the part of its C stack greenlet copied to the
// heap. Its frames are walked from that frame (stack_walker::walk_chains:
// all greenlets' chains level by level in batches; on 3.12+, where the
// eval loop's entry frames live on the C stack, a greenlet with a copied C
// stack alone, reading that part from the copy), at most `max_frames` frames
// over all greenlets (garbage can link a million greenlets to deep chains;
// past the bound a greenlet's `failure` says so). A thread's running greenlet is the one its
// greenlet thread state says is current; its frames are the thread's own
// stack (`frames` stays empty). A main greenlet (a thread's original stack)
// belongs to the thread whose stack its stack start lies in: just below
// that thread's pthread (glibc puts it at the top of the thread's stack),
// else the process's main thread (its stack lies above every mapping).
// Versions (greenlet's C++ layout changes between releases; the release is
// read from greenlet.__version__, and every greenlet's C++ object must
// point back at it): greenlet 2.0 on CPython 3.11 (Debian 12's
// python3-greenlet 2.0.2) and greenlet 3.2–3.3 on 3.14 and 3.15 (the
// offsets read from those builds, docs/design/issue13-notes.md §2); any
// other pairing is refused (unsupported), never guessed.
// Cost: one walk of the GC's lists (one 32-byte read per tracked object,
// through a page cache), then a few reads per greenlet; only when asked.
// Read it while the target is stopped: running, the GC lists and the
// greenlets change under the read (the walk is retried, a greenlet whose
// stack moved reads torn or fails, and says so).
// Errors: not_found (the process has not imported greenlet), unsupported
// (the pairing above; a free-threaded build), and those of the GC walk.
// A greenlet whose frames cannot be read is not an error: its `failure` says why.
// Thread-safe: no. Signal-safe: no. Target process: reads only.
//
//   auto census = TRIAGE_TRY(triage::cpython::read_greenlets(py.memory, layout, roots, snapshot, {.main_tid = pid}));
//   for (const auto& g : census.greenlets)
//       if (g.state == triage::cpython::greenlet_state::suspended) show(g.type, g.frames);
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "triage/base/unaligned.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/gc_objects.hpp"
#include "triage/cpython/greenlet_census.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/python_objects.hpp"
#include "triage/cpython/runtime_roots.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/memory/caching_source.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

struct greenlet_options {
    std::optional<pid_t> main_tid;  // the process's main thread (its pid): the thread of a main greenlet
                                    // whose stack lies below no pthread
    std::uint64_t max_objects = 50'000'000;  // GC-tracked objects walked at most
    std::size_t max_greenlets = 1'000'000;
    std::size_t max_frames = 1'000'000;      // frames of suspended greenlets read in all (past it a
                                             // greenlet's failure says so; each chain has limits.max_frames)
    walk_limits limits{};
};

namespace detail::greenlets {

// Offsets in greenlet's C++ object (PyGreenlet.pimpl), per layout family.
struct greenlet_layout {
    byte_offset self;           // the PyGreenlet it belongs to (the check that the layout is right)
    byte_offset stack_start;    // StackState: where its C stack starts (0: not active)
    byte_offset stack_stop;     // StackState: where it ends (0: not started; ~0: a main greenlet)
    byte_offset stack_copy;     // StackState: the heap copy of its switched-out C stack
    byte_offset stack_saved;    // StackState: how many bytes from stack_start are in the copy
    byte_offset current_frame;  // PythonState: its innermost _PyInterpreterFrame when switched out
    byte_offset main_greenlet;  // UserGreenlet: its thread's main greenlet
    byte_offset parent;         // UserGreenlet: its parent
    byte_offset thread_state;   // MainGreenlet: greenlet's ThreadState (main_greenlet at 0, current at 8)
    std::size_t size;           // bytes read of each C++ object
};

inline constexpr byte_offset pimpl = 32;  // PyGreenlet: header, weakreflist, dict, pimpl
// How far below its pthread a thread's stack may start (glibc's default
// stack is 8 MiB; ulimit -s can raise it).
inline constexpr std::uint64_t max_thread_stack = std::uint64_t{1} << 30;

// The C++ layout for greenlet `version` on `python`, or why there is none.
[[nodiscard]] inline result<greenlet_layout> layout_for(std::string_view version, const layout& python) {
    int major = 0, minor = 0;
    const char* end = version.data() + version.size();
    auto parsed = std::from_chars(version.data(), end, major);
    if (parsed.ec == std::errc{} && parsed.ptr != end && *parsed.ptr == '.') {
        parsed = std::from_chars(parsed.ptr + 1, end, minor);
    }
    const bool python_311 = python.major == 3 && python.minor == 11;
    const bool python_314 = python.major == 3 && (python.minor == 14 || python.minor == 15);
    // 2.0–3.1: _self is the first member of UserGreenlet and MainGreenlet.
    if (parsed.ec == std::errc{} && major == 2 && minor == 0 && python_311 && !python.free_threaded) {
        return greenlet_layout{160, 48, 56, 64, 72, 128, 168, 184, 168, 192};
    }
    // 3.2+: `_self` is a member of the base class, after the vtable.
    if (parsed.ec == std::errc{} && major == 3 && (minor == 2 || minor == 3) && python_314 && !python.free_threaded) {
        return greenlet_layout{8, 56, 64, 72, 80, 144, 176, 192, 184, 200};
    }
    return fail(errc::unsupported, "reading greenlets: greenlet " + std::string(version) + " on Python " +
                                       std::to_string(python.major) + "." + std::to_string(python.minor) +
                                       (python.free_threaded ? " (free-threaded)" : "") +
                                       ": its layout is not known here (known: greenlet 2.0 on 3.11, "
                                       "greenlet 3.2 and 3.3 on 3.14 and 3.15)");
}

// Memory as a switched-out greenlet sees it: the part of its C stack that
// greenlet copied to the heap reads from the copy, the rest in place.
template <memory::memory_source M>
class switched_out_memory {
public:
    explicit switched_out_memory(M& mem) : mem_{&mem} {}

    void set_copy(std::uint64_t start, std::uint64_t saved, std::uint64_t copy) noexcept {
        start_ = start;
        saved_ = copy != 0 ? saved : 0;
        copy_ = copy;
    }

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) {
        const std::uint64_t end = address + into.size();
        if (saved_ == 0 || end <= start_ || address >= start_ + saved_) return mem_->read(address, into);
        std::size_t done = 0;
        while (done < into.size()) {
            const std::uint64_t at = address + done;
            const bool copied = at >= start_ && at < start_ + saved_;
            const std::uint64_t piece_end = copied ? std::min(end, start_ + saved_) : (at < start_ ? std::min(end, start_) : end);
            const std::uint64_t from = copied ? copy_ + (at - start_) : at;
            auto n = mem_->read(from, into.subspan(done, piece_end - at));
            if (!n) {
                if (done == 0) return fail(std::move(n.error()));
                return done;
            }
            done += *n;
            if (*n != piece_end - at) return done;
        }
        return done;
    }

    [[nodiscard]] result<void> read_batch(std::span<memory::read_request> requests) {
        for (auto& r : requests) {
            auto n = read(r.address, r.into);
            if (!n && n.error().code == errc::no_such_process) return fail(std::move(n.error()));
            r.bytes_read = n ? *n : 0;
        }
        return {};
    }

private:
    M* mem_;
    std::uint64_t start_ = 0, saved_ = 0, copy_ = 0;
};

} // namespace detail::greenlets

template <memory::memory_source M>
[[nodiscard]] result<greenlet_census> read_greenlets(M& mem, const layout& l, const runtime_roots& roots,
                                                     const stack_snapshot& snapshot, const greenlet_options& options = {}) {
    namespace d = detail::greenlets;
    if (!has(l.interpreter.modules)) return fail(errc::unsupported, "reading greenlets: sys.modules not known");
    std::vector<std::uint64_t> interpreters;
    for (const auto& t : snapshot.threads) {
        if (std::ranges::find(interpreters, t.interpreter) == interpreters.end()) interpreters.push_back(t.interpreter);
    }
    // Which objects are greenlets: greenlet.greenlet or a subclass (tp_base chain).
    memory::caching_source<M&> cached{mem, 8192};
    object_reader objects{cached, l};
    greenlet_census census;
    std::optional<d::greenlet_layout> gl;
    std::vector<std::uint64_t> found;
    std::optional<error> not_imported;
    for (const std::uint64_t interp : interpreters) {
        const auto modules = TRIAGE_TRY(memory::read_object<std::uint64_t>(cached, interp + l.interpreter.modules));
        if (modules == 0) continue;
        auto globals = objects.module_dict(modules, "greenlet");
        if (!globals) {
            not_imported = error{errc::not_found, 0, "reading greenlets: the process has not imported greenlet", {}};
            continue;
        }
        const auto items = TRIAGE_TRY(objects.dict_items(*globals));
        census.version = TRIAGE_TRY(objects.str(TRIAGE_TRY(objects.find(items, "__version__"))));
        gl = TRIAGE_TRY(d::layout_for(census.version, l));
        const std::uint64_t greenlet_type = TRIAGE_TRY(objects.find(items, "greenlet"));
        const std::array<std::uint64_t, 1> types{greenlet_type};
        auto instances = TRIAGE_TRY(find_gc_instances(cached, l, interp, types, options.max_greenlets - found.size(),
                                                      options.max_objects));
        found.insert(found.end(), instances.objects.begin(), instances.objects.end());
        census.objects_scanned += instances.objects_scanned;
    }
    if (!gl) {
        if (not_imported) return fail(std::move(*not_imported));
        return fail(errc::not_found, "reading greenlets: no interpreter to read");
    }

    // Each greenlet's C++ state.
    struct raw {
        std::uint64_t start = 0, stop = 0, copy = 0, saved = 0, frame = 0, main_greenlet = 0, parent = 0,
                      thread_state = 0;
    };
    std::vector<raw> raws(found.size());
    std::size_t pointing_back = 0;
    for (std::size_t k = 0; k < found.size(); ++k) {
        greenlet_stack& g = census.greenlets.emplace_back();
        g.address = found[k];
        if (auto type = objects.type_of(g.address)) g.type = (*type)->name;
        auto impl = memory::read_object<std::uint64_t>(cached, g.address + d::pimpl);
        if (!impl || *impl == 0) {
            g.failure = error{errc::inconsistent, 0, "reading the greenlet at " + hex(g.address) + ": no C++ state (being created or destroyed)", {}};
            continue;
        }
        std::vector<std::byte> bytes(gl->size);
        const auto got = cached.read(*impl, bytes);
        if (!got || *got < gl->size) {
            g.failure = error{errc::bad_address, 0, "reading the greenlet at " + hex(g.address) + ": its C++ state at " + hex(*impl), {}};
            continue;
        }
        if (load_unaligned<std::uint64_t>(bytes, gl->self) != g.address) {
            g.failure = error{errc::inconsistent, 0, "reading the greenlet at " + hex(g.address) +
                                                         ": its C++ state does not point back at it (another greenlet build?)", {}};
            continue;
        }
        ++pointing_back;
        raw& r = raws[k];
        r.start = load_unaligned<std::uint64_t>(bytes, gl->stack_start);
        r.stop = load_unaligned<std::uint64_t>(bytes, gl->stack_stop);
        r.copy = load_unaligned<std::uint64_t>(bytes, gl->stack_copy);
        r.saved = load_unaligned<std::uint64_t>(bytes, gl->stack_saved);
        r.frame = load_unaligned<std::uint64_t>(bytes, gl->current_frame);
        g.main = r.stop == ~std::uint64_t{0};
        if (g.main) {
            r.thread_state = load_unaligned<std::uint64_t>(bytes, gl->thread_state);
            r.main_greenlet = g.address;
        } else {
            r.main_greenlet = load_unaligned<std::uint64_t>(bytes, gl->main_greenlet);
            g.parent = load_unaligned<std::uint64_t>(bytes, gl->parent);
        }
    }
    if (!found.empty() && pointing_back == 0) {
        return fail(errc::unsupported, "reading greenlets: no greenlet's C++ state points back at it: greenlet " +
                                           census.version + " is not laid out as expected");
    }

    // Main greenlets: their threads and running greenlets.
    std::unordered_map<std::uint64_t, std::uint64_t> thread_of_main, current_of_main;
    for (std::size_t k = 0; k < found.size(); ++k) {
        const greenlet_stack& g = census.greenlets[k];
        if (!g.main || g.failure) continue;
        const raw& r = raws[k];
        if (r.thread_state != 0) {
            if (auto current = memory::read_object<std::uint64_t>(cached, r.thread_state + 8)) current_of_main[g.address] = *current;
        }
        if (r.thread_state == 0) continue;  // its thread is gone
        const python_thread* owner = nullptr;
        for (const auto& t : snapshot.threads) {
            if (t.python_ident > r.start && t.python_ident - r.start < d::max_thread_stack &&
                (owner == nullptr || t.python_ident < owner->python_ident)) {
                owner = &t;
            }
        }
        if (owner == nullptr && options.main_tid) {
            for (const auto& t : snapshot.threads) {
                if (t.tid == options.main_tid) owner = &t;
            }
        }
        if (owner != nullptr) thread_of_main[g.address] = owner->python_ident;
    }

    // States; the switched-out ones' frames.
    std::vector<std::size_t> in_place, through_copy;  // indices of suspended greenlets with frames
    for (std::size_t k = 0; k < found.size(); ++k) {
        greenlet_stack& g = census.greenlets[k];
        if (g.failure) continue;
        const raw& r = raws[k];
        if (auto it = thread_of_main.find(r.main_greenlet); it != thread_of_main.end()) g.thread = it->second;
        const auto current = current_of_main.find(r.main_greenlet);
        if (r.stop == 0) {
            g.state = greenlet_state::not_started;
        } else if (r.start == 0 || (g.main && r.thread_state == 0)) {
            g.state = greenlet_state::dead;
        } else if (current != current_of_main.end() && current->second == g.address) {
            g.state = greenlet_state::running;
        } else {
            g.state = greenlet_state::suspended;
            // 3.12+ chains pass through entry frames on the C stack, part of
            // which greenlet copied away: those are read through the copy,
            // one greenlet at a time; the others all at once.
            if (r.frame != 0) (l.minor >= 12 && r.saved != 0 ? through_copy : in_place).push_back(k);
        }
    }
    const auto take = [&](std::size_t k, result<python_thread> chain) {
        greenlet_stack& g = census.greenlets[k];
        if (!chain) {
            g.failure = std::move(chain.error());
            return;
        }
        g.frames = std::move(chain->frames);
        g.failure = std::move(chain->failure);
    };
    std::size_t frames_read = 0;
    if (!in_place.empty()) {
        std::vector<std::uint64_t> frames;
        for (std::size_t k : in_place) frames.push_back(raws[k].frame);
        stack_walker<M> walker{mem, l, roots, options.limits};
        auto chains = walker.walk_chains(frames, options.max_frames);
        if (chains) {
            for (const python_thread& chain : *chains) frames_read += chain.frames.size();
        }
        for (std::size_t j = 0; j < in_place.size(); ++j) {
            take(in_place[j], chains ? result<python_thread>{std::move((*chains)[j])} : fail(chains.error()));
        }
    }
    d::switched_out_memory<M> view{mem};
    stack_walker<d::switched_out_memory<M>> through{view, l, roots, options.limits};
    for (std::size_t k : through_copy) {
        const raw& r = raws[k];
        view.set_copy(r.start, r.saved, r.copy);
        auto chain = through.walk_chains(std::span{&r.frame, 1}, options.max_frames - std::min(frames_read, options.max_frames));
        if (chain) frames_read += chain->front().frames.size();
        take(k, chain ? result<python_thread>{std::move(chain->front())} : fail(std::move(chain.error())));
    }
    // By thread (those of no known thread last), main greenlets first.
    std::ranges::stable_sort(census.greenlets, [](const greenlet_stack& a, const greenlet_stack& b) {
        if (a.thread != b.thread) return a.thread != 0 && (b.thread == 0 || a.thread < b.thread);
        return a.main > b.main;
    });
    return census;
}

} // namespace triage::cpython
