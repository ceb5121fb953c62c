// triage/cpython/stack_walker.hpp — the Python stacks of every thread of a
// CPython process, read from its memory alone.
//
// Offers:
//  - `runtime_roots` (runtime_roots.hpp): where the walk starts, from
//    runtime_locator.hpp.
//  - `walk_limits`, `python_frame`, `python_thread`, `stack_snapshot`
//    (stack_snapshot.hpp): the bounds of a walk and the plain values it
//    produces.
//  - `stack_walker<M>(mem, layout, roots, limits)` and `snapshot()`: every
//    interpreter (sub-interpreters too), every thread state, every frame,
//    innermost first: function (co_qualname on 3.11+, else co_name), file
//    (co_filename, as Python prints it in tracebacks) and line (from the
//    version's line table), the thread's pthread_t and kernel tid (3.11+;
//    a tid two thread states claim is left unset, for assign_tids to map
//    from their pthreads), and whether it holds the GIL. Frames of 3.12+ owned by the C stack or by
//    the interpreter (shims that run no Python code) and incomplete frames
//    are skipped, as Python's own tracebacks do. Each frame says whether
//    it is an entry frame (`python_frame::entry`: the first one a C call of
//    the eval loop runs; 3.11: its is_entry flag, 3.12+: the frame after it
//    is a shim), from the bytes of the frames the walk copies anyway.
//  - `walk_chains(frames, max_total_frames)`: the frames of chains that no
//    thread state holds (suspended greenlets', greenlets.hpp), read the
//    same way, at most `max_total_frames` of them in all.
// How it reads: each remote struct (interpreter, thread state, frame, code
// object) is copied once, whole, into a local buffer and its fields are read
// from there by the layout's offsets. Frames are read level by level across
// all threads with one batched read per level. A walker keeps, between
// snapshots, the code objects it decoded (revalidated every time by their
// name/file/line-table pointers) and the addresses it read last time, which
// it fetches first in one batch: a warm snapshot of a parked process is a
// handful of system calls.
// Torn reads: a snapshot validates as it goes (thread states point back to
// their interpreter, frames hold code objects, 2.7–3.10 frame objects are
// referenced — a frame on a free list or kept as its code's zombie frame
// has none —, chains are bounded and free of cycles), and remembers, per
// thread, everything its walk acted on: the thread state's identity and
// innermost frame pointer (3.11, 3.12: through the C frame) and, for every
// frame of the chain (shims and incomplete frames too), its address, the
// next frame's, the code object, the instruction position (f_lasti /
// prev_instr / instr_ptr), its first local (localsplus[0]) and, 3.11+, its
// owner (3.11: and is_entry), and whether the thread list ended at it.
// `recheck(snapshot)` reads all of it again in one batch and marks threads
// whose values differ (`consistent = false`), and a snapshot whose thread
// list ended at a thread state that links on now or holds another thread now
// (`thread_list_complete = false`: 3.14 publishes a new thread state before
// setting its link, and one read while set up may end the list early;
// 3.14+: a walk that did not reach the interpreter's main thread, which is
// last in the list, is short too);
// `retry(snapshot)`
// walks such threads again, and threads whose walk failed on memory that
// changed under it (inconsistent, bad_address), then rechecks them.
// `consistent_snapshot` does both; callers that do not stop the target use it.
// What `consistent` then guarantees: the walk and `confirmations` (2)
// rechecks, each made after the one before was complete, agree on every
// value the reported stack was built from, and (2.7–3.10) every frame was
// referenced at each read. Why that is enough to catch recycling: before
// 3.11 frame objects come back from free lists and zombie frames, and from
// 3.11 frames are slots of the thread's data stack, so one address holds
// different frames over time; a frame read at one moment stitched onto
// frames of another changes, between the reads, some caller's link, code,
// position or first local, or (before 3.11) shows a frame without
// references. What it does not guarantee: that nothing changed between the
// reads and changed back (the same frames rebuilt at the same addresses
// with the same positions and first locals, torn the same way in every
// read); that the innermost frame's line is still current (a running thread
// moves on: its position and locals are not compared); code objects are
// not read again (a live frame holds a reference to its code object).
// A snapshot taken while the target is stopped needs none of this.
// Errors: snapshot() fails for the process (no_such_process), or when the
// interpreter list cannot be read (bad_address, inconsistent); a thread whose
// frames cannot be read keeps the frames read so far and its `error`.
// Thread-safe: no (caches); one walker per thread. Signal-safe: no.
// Target process: reads only.
//
//   auto mem = TRIAGE_TRY(triage::memory::live_process::open(pid));
//   triage::cpython::stack_walker walker{mem, layout, roots};
//   auto snap = TRIAGE_TRY(walker.snapshot());
//   for (const auto& t : snap.threads)
//       for (const auto& f : t.frames) fmt::print("{} ({}:{})\n", f.function, f.file, f.line.value_or(0));
#pragma once

#include <sys/types.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "triage/base/address_map.hpp"
#include "triage/base/unaligned.hpp"
#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/stack_snapshot.hpp"
#include "triage/cpython/layout.hpp"
#include "triage/cpython/linetable_310.hpp"
#include "triage/cpython/lnotab.hpp"
#include "triage/cpython/location_table.hpp"
#include "triage/cpython/python_objects.hpp"
#include "triage/cpython/runtime_roots.hpp"
#include "triage/memory/memory_source.hpp"

namespace triage::cpython {

namespace detail::walker {

[[nodiscard]] TRIAGE_DECL std::uint64_t pointer(std::span<const std::byte> bytes, byte_offset at);

// One past the last byte of the fields named.
[[nodiscard]] constexpr std::size_t extent(std::initializer_list<byte_offset> fields, std::size_t width = 8) {
    std::size_t end = 0;
    for (byte_offset f : fields) {
        if (has(f)) end = std::max<std::size_t>(end, std::size_t{f} + width);
    }
    return end;
}

// A plausible user-space pointer of an x86-64 process, 8-byte aligned.
[[nodiscard]] constexpr bool plausible(std::uint64_t address) noexcept {
    return address >= 0x1000 && address < (std::uint64_t{1} << 47) && address % 8 == 0;
}

// What the walker remembers of a code object.
struct code_info {
    std::vector<std::byte> identity;  // the header fields that pin down the object
    std::string name;
    std::string qualname;
    std::string file;
    std::int32_t first_line = 0;
    std::int32_t first_traceable = 0;  // 3.11+: code units before the first real instruction
    std::uint32_t flags = 0;
    std::vector<std::byte> line_table;
    // Lines already decoded, by instruction offset: a warm walker meets the
    // same few offsets again and again (parked threads, a spinning loop).
    mutable std::unordered_map<std::int64_t, std::optional<int>> lines;
};

// The fields of one frame that a walk acts on.
struct frame_fields {
    std::uint64_t next = 0;      // f_back / previous
    std::uint64_t code = 0;      // f_code / f_executable
    std::int64_t position = 0;   // f_lasti (≤3.10) or prev_instr / instr_ptr (3.11+)
    std::uint64_t first_local = 0;  // localsplus[0]: the first argument or local (else the
                                    // bottom of the value stack); tells apart frames of one
                                    // function at one address and position
    std::uint8_t owner = 0;      // 3.11+
    bool is_entry = false;       // 3.11: the frame's is_entry flag
    bool live = true;            // ≤3.10: ob_refcnt > 0 (a free or zombie frame has none)
};

// What a walk read of one frame, to be read again by a recheck.
struct frame_read {
    std::size_t thread;      // index into the snapshot
    std::uint64_t address;
    bool innermost;          // the thread state's own frame: it runs, so its position and
                             // locals are not compared
    frame_fields fields;
};

// What a walk read of one thread state, to be read again by a recheck.
struct thread_read {
    std::uint64_t thread_state = 0;
    std::uint64_t interpreter = 0;
    std::uint64_t ident = 0;
    std::uint64_t native_id = 0;
    std::uint64_t cframe = 0;       // 3.11, 3.12: the _PyCFrame it pointed at
    std::uint64_t first_frame = 0;  // its innermost frame (~0: not read)
    bool last = false;              // the list walk ended at it (its next was 0)
};

} // namespace detail::walker

template <memory::memory_source M>
class stack_walker {
public:
    stack_walker(M& mem, const layout& l, runtime_roots roots, walk_limits limits = {})
        : mem_{&mem}, layout_{l}, roots_{roots}, limits_{limits} {}

    [[nodiscard]] const layout& version_layout() const noexcept { return layout_; }
    [[nodiscard]] const runtime_roots& roots() const noexcept { return roots_; }

    // Reads every thread's stack once.
    [[nodiscard]] result<stack_snapshot> snapshot() {
        namespace w = detail::walker;
        begin_snapshot();
        stack_snapshot snap;
        std::uint64_t current = TRIAGE_TRY(current_thread_state());
        std::uint64_t interp = TRIAGE_TRY(read_pointer(roots_.interpreters_head, "reading the interpreter list head"));
        std::unordered_set<std::uint64_t> seen_interpreters;
        std::vector<cursor> cursors;
        for (; interp != 0; ++snap.interpreters) {
            if (snap.interpreters >= limits_.max_interpreters) {
                return fail(errc::limit_exceeded, "walking the interpreter list (more than " +
                                                      std::to_string(limits_.max_interpreters) + " interpreters)");
            }
            if (!w::plausible(interp) || !seen_interpreters.insert(interp).second) {
                return fail(errc::inconsistent, "walking the interpreter list: bad or repeated interpreter " + hex(interp));
            }
            const auto& il = layout_.interpreter;
            const std::size_t size = w::extent({il.next, il.threads_head, il.id, il.gil_pointer, il.threads_main});
            auto bytes = TRIAGE_TRY(fetch(interp, size, "reading the interpreter state"));
            std::int64_t id = load_unaligned<std::int64_t>(bytes, il.id);
            std::uint64_t next_interp = w::pointer(bytes, il.next);
            std::uint64_t holder = current;
            std::uint64_t gil = 0;
            if (layout_.runtime.gil_from == gil_root::interpreter_pointer) {
                gil = w::pointer(bytes, il.gil_pointer);
                holder = TRIAGE_TRY(gil_holder(gil));
            } else if (layout_.runtime.gil_from == gil_root::runtime && roots_.gil_locked != 0) {
                gil = roots_.gil_locked - layout_.gil.locked;
            }
            const std::size_t first = snap.threads.size();
            TRIAGE_TRY(read_threads(interp, id, w::pointer(bytes, il.threads_head), holder, gil, snap, cursors));
            // 3.14+: the main thread is the oldest, so last in the list; a
            // walk that missed it ended early (a new head read before its
            // link was stored: the compiler may store the head first).
            if (const std::uint64_t main = w::pointer(bytes, il.threads_main); main != 0 &&
                std::ranges::none_of(std::span{snap.threads}.subspan(first),
                                     [&](const python_thread& t) { return t.thread_state == main; })) {
                snap.thread_list_complete = false;
            }
            interp = next_interp;
        }
        forget_shared_tids(snap);
        TRIAGE_TRY(walk_frames(snap, cursors));
        TRIAGE_TRY(resolve_code(snap, std::views::iota(std::size_t{0}, snap.threads.size())));
        remember_reads();
        return snap;
    }

    // Reads again, in one batch, everything the walk of each thread of
    // `snap` (this walker's last snapshot) acted on; threads whose values
    // differ are marked inconsistent (threads already so are not read).
    // Returns whether all still agree.
    [[nodiscard]] result<bool> recheck(stack_snapshot& snap) {
        return recheck_threads(snap, std::views::iota(std::size_t{0}, snap.threads.size()));
    }

    // How many rechecks must agree with a walk before `retry` and
    // `consistent_snapshot` leave a thread consistent. One batched read
    // sweeps the addresses in order, and a thread that pops and pushes a
    // frame between the sweep's read of its thread state and of its frames
    // is read torn; a walk and one recheck torn at the same place were seen
    // about once in 16,000 reads of a recursing thread on a CPU of its own;
    // a second recheck must be torn there too.
    static constexpr int confirmations = 2;

    // Walks again, from its thread state, every thread of `snap` (this
    // walker's last snapshot) that is inconsistent or whose walk failed on
    // memory that changed under it (errc::inconsistent, bad_address), and
    // rechecks it `confirmations` times; the others are left as they are.
    // Returns whether no thread is left to retry.
    [[nodiscard]] result<bool> retry(stack_snapshot& snap) {
        namespace w = detail::walker;
        std::vector<std::size_t> again;
        for (std::size_t k = 0; k < snap.threads.size(); ++k) {
            if (torn(snap.threads[k])) again.push_back(k);
        }
        if (again.empty()) return true;
        thread_reads_.resize(std::max(thread_reads_.size(), snap.threads.size()));
        // What these threads' last walks read, fetched first in one batch.
        std::vector<std::pair<std::uint64_t, std::size_t>> reads;
        std::vector<char> chosen(snap.threads.size(), 0);
        for (std::size_t k : again) {
            chosen[k] = 1;
            const w::thread_read& r = thread_reads_[k];
            reads.emplace_back(snap.threads[k].thread_state, layout_.thread.size);
            if (r.thread_state == snap.threads[k].thread_state && w::plausible(r.cframe)) {
                reads.emplace_back(r.cframe, layout_.thread.cframe_current_frame + 8);
            }
        }
        for (const auto& f : frame_reads_) {
            if (chosen[f.thread] && thread_reads_[f.thread].thread_state == snap.threads[f.thread].thread_state) {
                reads.emplace_back(f.address, frame_size());
            }
        }
        std::erase_if(frame_reads_, [&](const w::frame_read& f) { return chosen[f.thread] != 0; });
        prefetch(reads);
        std::vector<cursor> cursors;
        for (std::size_t k : again) {
            python_thread& t = snap.threads[k];
            t.frames.clear();
            t.failure.reset();
            t.consistent = true;
            thread_reads_[k] = w::thread_read{};
            auto bytes = fetch(t.thread_state, layout_.thread.size, "reading a thread state");
            if (!bytes) {
                t.failure = std::move(bytes.error());
                continue;
            }
            if (w::pointer(*bytes, layout_.thread.interp) != t.interpreter ||
                w::pointer(*bytes, layout_.thread.thread_id) != t.python_ident) {
                t.failure = error{errc::inconsistent, 0, "reading the thread state at " + hex(t.thread_state) +
                                                             ": it belongs to another thread now", {}};
                continue;
            }
            start_walk(k, *bytes, snap, cursors);
        }
        TRIAGE_TRY(walk_frames(snap, cursors));
        TRIAGE_TRY(resolve_code(snap, again));
        remember_reads();
        for (int k = 0; k < confirmations; ++k) TRIAGE_TRY(recheck_threads(snap, again));
        return std::ranges::none_of(snap.threads, torn);
    }

    // The frames of chains no thread state points at now (suspended
    // greenlets'), each from its innermost frame, read and validated as
    // threads' are (level by level, one batched read per level); each
    // chain's `failure` says where its walk stopped. At most
    // `max_total_frames` frames are read over all chains (each chain's
    // `limits.max_frames` too); a chain cut by it says so (limit_exceeded).
    // Nothing of it is kept for recheck, and no bytes of the last snapshot
    // are reused (the memory may read differently now).
    [[nodiscard]] result<std::vector<python_thread>> walk_chains(
        std::span<const std::uint64_t> innermost, std::size_t max_total_frames = std::numeric_limits<std::size_t>::max()) {
        stack_snapshot chains;
        chains.threads.resize(innermost.size());
        std::vector<detail::walker::thread_read> threads(innermost.size());
        std::vector<cursor> cursors;
        for (std::size_t k = 0; k < innermost.size(); ++k) {
            threads[k].first_frame = innermost[k];
            cursors.push_back(cursor{k, innermost[k], {}, false});
        }
        std::vector<detail::walker::frame_read> frames;
        address_map<fetched> bytes;
        std::swap(threads, thread_reads_);
        std::swap(frames, frame_reads_);
        std::swap(bytes, fetched_);
        auto walked = walk_frames(chains, cursors, max_total_frames);
        if (walked) walked = resolve_code(chains, std::views::iota(std::size_t{0}, innermost.size()));
        std::swap(threads, thread_reads_);
        std::swap(frames, frame_reads_);
        std::swap(bytes, fetched_);
        TRIAGE_TRY(walked);
        return std::move(chains.threads);
    }

    // Forgets the code objects and addresses remembered between snapshots.
    void forget() {
        codes_.clear();
        previous_reads_.clear();
    }

private:
    struct cursor {
        std::size_t thread;          // index into the snapshot
        std::uint64_t frame;         // next frame to read (0: done)
        address_map<bool> seen;
        // 3.12+: the last frame taken was a Python frame, the `previous` of
        // which is `frame`: that frame says whether it was an entry frame.
        bool entry_undecided = false;
    };

    // Bytes copied this snapshot; they live in one of `blocks_`, whose
    // buffers never move, so views stay valid for the whole snapshot.
    struct fetched {
        const std::byte* data;
        std::size_t size;
    };

    [[nodiscard]] std::span<std::byte> new_block(std::size_t size) {
        blocks_.emplace_back(size);
        return blocks_.back();
    }

    // ---- reading, with last snapshot's addresses fetched first in one batch
    void begin_snapshot() {
        thread_reads_.clear();
        frame_reads_.clear();
        prefetch(previous_reads_);
        previous_reads_.clear();
    }

    // Starts this snapshot's (or retry's) reads afresh, with `reads`
    // (address, size) fetched first in one batch.
    void prefetch(std::span<const std::pair<std::uint64_t, std::size_t>> reads) {
        blocks_.clear();
        fetched_.clear();
        std::size_t total = 0;
        for (const auto& r : reads) total += r.second;
        if (total == 0 || total > (16u << 20)) return;
        // The buffer is kept from one snapshot to the next (the views into
        // it were dropped with fetched_ above).
        if (prefetched_.size() < total) prefetched_.resize(total);
        std::span<std::byte> block{prefetched_.data(), total};
        fetched_.reserve(reads.size() * 2);
        std::vector<memory::read_request> requests;
        requests.reserve(reads.size());
        std::size_t at = 0;
        for (const auto& [address, size] : reads) {
            requests.push_back({address, block.subspan(at, size), 0});
            at += size;
        }
        if (mem_->read_batch(requests)) {
            for (const auto& r : requests) {
                if (r.bytes_read == r.into.size()) fetched_[r.address] = fetched{r.into.data(), r.into.size()};
            }
        }
    }

    // Remembers what this snapshot (or retry) read, once per address at its
    // largest size: the next snapshot fetches it first.
    void remember_reads() {
        fetched_.for_each([&](std::uint64_t address, const fetched& f) { previous_reads_.emplace_back(address, f.size); });
        std::ranges::sort(previous_reads_);
        auto kept = std::unique(previous_reads_.rbegin(), previous_reads_.rend(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
        previous_reads_.erase(previous_reads_.begin(), kept.base());
    }

    [[nodiscard]] static std::span<const std::byte> view(const fetched& f) { return {f.data, f.size}; }

    // `size` bytes at `address`: from this snapshot's reads, else one read.
    [[nodiscard]] result<std::span<const std::byte>> fetch(std::uint64_t address, std::size_t size,
                                                           std::string_view what) {
        if (const fetched* f = fetched_.find(address); f && f->size >= size) return view(*f).first(size);
        std::span<std::byte> block = new_block(size);
        auto read = memory::read_exact(*mem_, address, block);
        if (!read) {
            blocks_.pop_back();
            return fail(std::move(read.error()).within(std::string(what)));
        }
        fetched_[address] = fetched{block.data(), size};
        return std::span<const std::byte>(block);
    }

    // Many objects of `size` bytes in one batch; an entry is empty when its
    // object could not be read whole.
    [[nodiscard]] result<std::vector<std::span<const std::byte>>> fetch_many(std::span<const std::uint64_t> addresses,
                                                                             std::size_t size) {
        std::vector<std::span<const std::byte>> out(addresses.size());
        std::vector<std::size_t> missing;
        for (std::size_t k = 0; k < addresses.size(); ++k) {
            if (const fetched* f = fetched_.find(addresses[k]); f && f->size >= size) {
                out[k] = view(*f).first(size);
            } else {
                missing.push_back(k);
            }
        }
        if (missing.empty()) return out;
        std::span<std::byte> block = new_block(missing.size() * size);
        std::vector<memory::read_request> requests;
        requests.reserve(missing.size());
        for (std::size_t j = 0; j < missing.size(); ++j) {
            requests.push_back({addresses[missing[j]], block.subspan(j * size, size), 0});
        }
        TRIAGE_TRY(mem_->read_batch(requests));
        for (std::size_t j = 0; j < missing.size(); ++j) {
            if (requests[j].bytes_read != size) continue;
            fetched f{requests[j].into.data(), size};
            fetched_[addresses[missing[j]]] = f;
            out[missing[j]] = view(f);
        }
        return out;
    }

    [[nodiscard]] result<std::uint64_t> read_pointer(std::uint64_t address, std::string_view what) {
        if (address == 0) return fail(errc::not_found, std::string(what) + ": no address");
        auto bytes = TRIAGE_TRY(fetch(address, 8, what));
        return detail::walker::pointer(bytes, 0);
    }

    // ---- GIL
    [[nodiscard]] result<std::uint64_t> current_thread_state() {
        if (roots_.current_thread != 0) return read_pointer(roots_.current_thread, "reading the GIL holder");
        if (roots_.gil_locked != 0 && roots_.gil_last_holder != 0) {
            auto locked = TRIAGE_TRY(fetch(roots_.gil_locked, 4, "reading the GIL state"));
            if (load_unaligned<std::int32_t>(locked, 0) != 1) return std::uint64_t{0};
            return read_pointer(roots_.gil_last_holder, "reading the GIL holder");
        }
        return std::uint64_t{0};
    }

    // 3.12+: the interpreter's GIL, through its pointer.
    [[nodiscard]] result<std::uint64_t> gil_holder(std::uint64_t gil) {
        namespace w = detail::walker;
        if (!w::plausible(gil)) return std::uint64_t{0};
        const auto& g = layout_.gil;
        auto bytes = TRIAGE_TRY(fetch(gil, w::extent({g.last_holder, g.locked}), "reading the GIL state"));
        if (load_unaligned<std::int32_t>(bytes, g.locked) != 1) return std::uint64_t{0};
        return w::pointer(bytes, g.last_holder);
    }

    // ---- thread states
    [[nodiscard]] result<void> read_threads(std::uint64_t interp, std::int64_t id, std::uint64_t tstate,
                                            std::uint64_t holder, std::uint64_t gil, stack_snapshot& snap,
                                            std::vector<cursor>& cursors) {
        namespace w = detail::walker;
        const auto& tl = layout_.thread;
        address_map<bool> seen;
        while (tstate != 0) {
            if (snap.threads.size() >= limits_.max_threads) {
                return fail(errc::limit_exceeded, "walking the thread states (more than " +
                                                      std::to_string(limits_.max_threads) + " threads)");
            }
            if (!w::plausible(tstate) || std::exchange(seen[tstate], true)) {
                return fail(errc::inconsistent, "walking the thread states of interpreter " + hex(interp) +
                                                    ": bad or repeated thread state " + hex(tstate));
            }
            auto bytes = TRIAGE_TRY(fetch(tstate, tl.size, "reading a thread state"));
            if (w::pointer(bytes, tl.interp) != interp) {
                return fail(errc::inconsistent, "reading the thread state at " + hex(tstate) +
                                                    ": it does not point back to its interpreter " + hex(interp));
            }
            python_thread t;
            t.thread_state = tstate;
            t.interpreter = interp;
            t.interpreter_id = id;
            t.python_ident = w::pointer(bytes, tl.thread_id);
            if (has(tl.native_thread_id)) {
                auto native = load_unaligned<std::uint64_t>(bytes, tl.native_thread_id);
                if (native > 0 && native < (1u << 30)) t.tid = static_cast<pid_t>(native);
            }
            t.holds_gil = holder != 0 && holder == tstate;
            t.gil = gil;
            t.frames.reserve(16);
            snap.threads.push_back(std::move(t));
            start_walk(snap.threads.size() - 1, bytes, snap, cursors);
            tstate = w::pointer(bytes, tl.next);
            thread_reads_[snap.threads.size() - 1].last = tstate == 0;
        }
        return {};
    }

    // A kernel tid that two thread states claim belongs to neither for sure:
    // 3.11 creates a new thread's state in its parent with the parent's
    // ident and tid, and the new thread stores its own ident, then its tid,
    // when it starts; a state read between the two names the new thread's
    // pthread with its parent's tid. Both keep their idents, which a
    // pthread's TCB maps to the right tid (assign_tids).
    static void forget_shared_tids(stack_snapshot& snap) {
        address_map<int> claims;
        for (const python_thread& t : snap.threads) {
            if (t.tid) ++claims[static_cast<std::uint64_t>(*t.tid)];
        }
        for (python_thread& t : snap.threads) {
            if (t.tid && claims[static_cast<std::uint64_t>(*t.tid)] > 1) t.tid.reset();
        }
    }

    // Starts the walk of thread `index` from its thread state (copied in
    // `bytes`), remembering what the recheck must read again.
    void start_walk(std::size_t index, std::span<const std::byte> bytes, stack_snapshot& snap,
                    std::vector<cursor>& cursors) {
        namespace w = detail::walker;
        const auto& tl = layout_.thread;
        if (thread_reads_.size() <= index) thread_reads_.resize(index + 1);
        w::thread_read& r = thread_reads_[index];
        r.thread_state = snap.threads[index].thread_state;
        r.interpreter = w::pointer(bytes, tl.interp);
        r.ident = w::pointer(bytes, tl.thread_id);
        r.native_id = load_unaligned<std::uint64_t>(bytes, tl.native_thread_id);
        r.cframe = w::pointer(bytes, tl.cframe);
        auto frame = first_frame(bytes);
        if (!frame) {
            r.first_frame = ~std::uint64_t{0};
            snap.threads[index].failure = std::move(frame.error());
            return;
        }
        r.first_frame = *frame;
        cursors.push_back(cursor{index, *frame, {}, false});
    }

    // The innermost frame of a thread state (copied in `bytes`).
    [[nodiscard]] result<std::uint64_t> first_frame(std::span<const std::byte> bytes) {
        namespace w = detail::walker;
        const auto& tl = layout_.thread;
        if (has(tl.frame)) return w::pointer(bytes, tl.frame);
        if (has(tl.current_frame)) return w::pointer(bytes, tl.current_frame);
        std::uint64_t cframe = w::pointer(bytes, tl.cframe);
        if (cframe == 0) return std::uint64_t{0};
        if (!w::plausible(cframe)) return fail(errc::inconsistent, "reading a thread's C frame at " + hex(cframe));
        auto c = TRIAGE_TRY(fetch(cframe, tl.cframe_current_frame + 8, "reading a thread's C frame"));
        return w::pointer(c, tl.cframe_current_frame);
    }

    // ---- frames, level by level across all threads
    [[nodiscard]] result<void> walk_frames(stack_snapshot& snap, std::vector<cursor>& cursors,
                                           std::size_t max_total_frames = std::numeric_limits<std::size_t>::max()) {
        namespace w = detail::walker;
        std::size_t budget = max_total_frames;
        const std::size_t size = frame_size();
        std::vector<std::uint64_t> addresses;
        std::vector<cursor*> active;
        for (std::size_t level = 0; level <= limits_.max_frames; ++level) {
            addresses.clear();
            active.clear();
            for (auto& c : cursors) {
                if (c.frame == 0 || snap.threads[c.thread].failure) continue;
                python_thread& t = snap.threads[c.thread];
                if (level == limits_.max_frames) {
                    t.failure = error{errc::limit_exceeded, 0,
                                      "walking the frames of thread " + std::to_string(t.python_ident) + " (more than " +
                                          std::to_string(limits_.max_frames) + " frames)", {}};
                    continue;
                }
                if (!w::plausible(c.frame) || std::exchange(c.seen[c.frame], true)) {
                    t.failure = error{errc::inconsistent, 0, "walking the frames: bad or repeated frame " + hex(c.frame), {}};
                    continue;
                }
                if (budget == 0) {
                    t.failure = error{errc::limit_exceeded, 0,
                                      "walking the frames: more than " + std::to_string(max_total_frames) + " frames in all", {}};
                    continue;
                }
                --budget;
                addresses.push_back(c.frame);
                active.push_back(&c);
            }
            if (active.empty()) break;
            auto frames = TRIAGE_TRY(fetch_many(addresses, size));
            for (std::size_t k = 0; k < active.size(); ++k) {
                cursor& c = *active[k];
                python_thread& t = snap.threads[c.thread];
                if (frames[k].empty()) {
                    t.failure = error{errc::bad_address, 0, "reading the frame at " + hex(c.frame), {}};
                    continue;
                }
                take_frame(frames[k], c, t);
            }
        }
        return {};
    }

    void take_frame(std::span<const std::byte> bytes, cursor& c, python_thread& t) {
        namespace w = detail::walker;
        const w::frame_fields fields = frame_fields(bytes);
        frame_reads_.push_back({c.thread, c.frame, c.frame == thread_reads_[c.thread].first_frame, fields});
        c.frame = fields.next;
        if (!fields.live) {
            t.failure = error{errc::inconsistent, 0, "reading a frame: the frame at " + hex(frame_reads_.back().address) +
                                                         " is free (no references)", {}};
            c.frame = 0;
            return;
        }
        python_frame f;
        f.code = fields.code;
        f.address = frame_reads_.back().address;
        if (uses_interpreter_frames(layout_)) {
            const auto& fl = layout_.interpreter_frame;
            const bool shim = fields.owner >= fl.first_shim_owner;
            // 3.12+: the frame inner to a shim (the frame the eval loop
            // pushes on its C stack) is the first its C call runs.
            if (c.entry_undecided && shim) t.frames.back().entry = true;
            c.entry_undecided = false;
            if (shim) return;
            const auto instr = static_cast<std::uint64_t>(fields.position);
            const std::uint64_t start = f.code + layout_.code.code_adaptive;
            f.instruction = instr < start ? -1 : static_cast<std::int64_t>((instr - start) / 2);
            // Generator frames are never incomplete; remember the owner in
            // the flags' spare high bit until the code object is known.
            if (fields.owner == fl.owned_by_generator) f.flags = owned_by_generator_mark;
            if (has(fl.is_entry)) {
                f.entry = fields.is_entry;
            } else if (fields.next == 0) {
                f.entry = true;  // the outermost frame of its thread
            }
        } else {
            f.instruction = fields.position;
            f.entry = true;  // each frame is evaluated by a C call of its own
        }
        if (!w::plausible(f.code)) {
            t.failure = error{errc::inconsistent, 0, "reading a frame: bad code object pointer " + hex(f.code), {}};
            c.frame = 0;
            return;
        }
        c.entry_undecided = uses_interpreter_frames(layout_) && !has(layout_.interpreter_frame.is_entry) &&
                            fields.next != 0;
        t.frames.push_back(std::move(f));
    }

    // The fields of a frame (copied in `bytes`) that a walk acts on.
    [[nodiscard]] detail::walker::frame_fields frame_fields(std::span<const std::byte> bytes) const {
        namespace w = detail::walker;
        w::frame_fields f;
        if (uses_interpreter_frames(layout_)) {
            const auto& fl = layout_.interpreter_frame;
            f.next = w::pointer(bytes, fl.previous);
            f.code = w::pointer(bytes, fl.code) & ~std::uint64_t{fl.executable_tag_bits};
            f.position = load_unaligned<std::int64_t>(bytes, fl.instr);
            f.owner = load_unaligned<std::uint8_t>(bytes, fl.owner);
            f.is_entry = load_unaligned<std::uint8_t>(bytes, fl.is_entry) != 0;
        } else {
            const auto& fl = layout_.frame_object;
            f.next = w::pointer(bytes, fl.back);
            f.code = w::pointer(bytes, fl.code);
            f.position = load_unaligned<std::int32_t>(bytes, fl.lasti);
            f.live = load_unaligned<std::int64_t>(bytes, reference_count()) > 0;
        }
        f.first_local = w::pointer(bytes, first_local());
        return f;
    }

    // PyObject.ob_refcnt: the word before ob_type in every build.
    [[nodiscard]] byte_offset reference_count() const noexcept { return layout_.object.ob_type - 8; }

    // A frame's localsplus[0]. sizeof(PyFrameObject) ends with its
    // one-element f_localsplus.
    [[nodiscard]] byte_offset first_local() const noexcept {
        return uses_interpreter_frames(layout_) ? layout_.interpreter_frame.localsplus : layout_.frame_object.size - 8;
    }

    // The bytes of a frame a walk, and a recheck, read: up to its first local.
    [[nodiscard]] std::size_t frame_size() const noexcept { return std::size_t{first_local()} + 8; }

    // The bytes of a thread state a recheck reads: up to the last field it compares.
    [[nodiscard]] std::size_t thread_recheck_size() const noexcept {
        const auto& tl = layout_.thread;
        return detail::walker::extent(
            {tl.interp, tl.next, tl.thread_id, tl.native_thread_id, tl.frame, tl.cframe, tl.current_frame});
    }

    // Whether `t` should be walked again: a recheck disagreed, or its walk
    // failed on memory that changed under it.
    [[nodiscard]] static bool torn(const python_thread& t) noexcept {
        return !t.consistent || (t.failure && (t.failure->code == errc::inconsistent || t.failure->code == errc::bad_address));
    }

    // Reads again, in one batch, what the walks of `threads` (indices into
    // `snap`) acted on; marks those whose values differ inconsistent.
    template <std::ranges::forward_range Threads>
    [[nodiscard]] result<bool> recheck_threads(stack_snapshot& snap, const Threads& threads) {
        namespace w = detail::walker;
        const auto& tl = layout_.thread;
        const std::size_t state_size = thread_recheck_size();
        const std::size_t cframe_size = has(tl.cframe) ? std::size_t{tl.cframe_current_frame} + 8 : 0;
        const std::size_t frame_bytes = frame_size();
        // Which threads, and the room their reads need.
        std::vector<char> chosen(snap.threads.size(), 0);
        std::size_t total = 0;
        for (std::size_t k : threads) {
            python_thread& t = snap.threads[k];
            if (!t.consistent) continue;
            if (k >= thread_reads_.size() || thread_reads_[k].thread_state != t.thread_state) {
                t.consistent = false;  // not read by this walker's last walk
                continue;
            }
            chosen[k] = 1;
            total += state_size + (w::plausible(thread_reads_[k].cframe) ? cframe_size : 0);
        }
        for (const auto& f : frame_reads_) total += chosen[f.thread] ? frame_bytes : 0;
        recheck_bytes_.resize(total);
        recheck_requests_.clear();
        std::size_t at = 0;
        auto request = [&](std::uint64_t address, std::size_t size) {
            recheck_requests_.push_back({address, std::span{recheck_bytes_}.subspan(at, size), 0});
            at += size;
        };
        for (std::size_t k = 0; k < chosen.size(); ++k) {
            if (!chosen[k]) continue;
            request(thread_reads_[k].thread_state, state_size);
            if (w::plausible(thread_reads_[k].cframe)) request(thread_reads_[k].cframe, cframe_size);
        }
        for (const auto& f : frame_reads_) {
            if (chosen[f.thread]) request(f.address, frame_bytes);
        }
        TRIAGE_TRY(mem_->read_batch(recheck_requests_));

        auto disagree = [&](std::size_t k) { snap.threads[k].consistent = false; };
        std::size_t next = 0;
        for (std::size_t k = 0; k < chosen.size(); ++k) {
            if (!chosen[k]) continue;
            const w::thread_read& r = thread_reads_[k];
            const memory::read_request& state = recheck_requests_[next++];
            std::uint64_t frame = ~std::uint64_t{0};
            if (has(tl.cframe)) {
                const std::uint64_t cframe = w::pointer(state.into, tl.cframe);
                if (cframe == 0) frame = 0;
                if (w::plausible(r.cframe)) {
                    const memory::read_request& c = recheck_requests_[next++];
                    if (cframe == r.cframe && c.bytes_read == c.into.size()) frame = w::pointer(c.into, tl.cframe_current_frame);
                }
            } else {
                frame = w::pointer(state.into, has(tl.frame) ? tl.frame : tl.current_frame);
            }
            const bool same_thread = state.bytes_read == state.into.size() &&
                                     w::pointer(state.into, tl.interp) == r.interpreter &&
                                     w::pointer(state.into, tl.thread_id) == r.ident &&
                                     load_unaligned<std::uint64_t>(state.into, tl.native_thread_id) == r.native_id;
            if (!same_thread || frame != r.first_frame) disagree(k);
            if (r.last && (!same_thread || w::pointer(state.into, tl.next) != 0)) {
                // The list as walked ended here, and this thread state links
                // on now (3.14 publishes a thread state before setting its
                // link) or holds another thread now (it was read while being
                // set up, or recycled): the threads after it may be missed.
                // A thread state that ended nothing may go: removing a thread
                // from the list leaves the walk's other links valid.
                snap.thread_list_complete = false;
            }
        }
        for (const auto& f : frame_reads_) {
            if (!chosen[f.thread]) continue;
            const memory::read_request& read = recheck_requests_[next++];
            const w::frame_fields now = frame_fields(read.into);
            if (read.bytes_read != read.into.size() || !now.live || now.next != f.fields.next ||
                now.code != f.fields.code || now.owner != f.fields.owner || now.is_entry != f.fields.is_entry ||
                (!f.innermost && (now.position != f.fields.position || now.first_local != f.fields.first_local))) {
                disagree(f.thread);
            }
        }
        return std::ranges::all_of(threads, [&](std::size_t k) { return snap.threads[k].consistent; });
    }

    static constexpr std::uint32_t owned_by_generator_mark = 0x8000'0000u;
    static constexpr std::int64_t max_line_lookback = 64;

    // ---- code objects: names, files, line tables; then every frame's line
    // (of `threads`, indices into `snap`)
    template <std::ranges::forward_range Threads>
    [[nodiscard]] result<void> resolve_code(stack_snapshot& snap, const Threads& threads) {
        namespace w = detail::walker;
        std::vector<std::uint64_t> addresses;
        address_map<bool> distinct;
        for (std::size_t k : threads) {
            for (const auto& f : snap.threads[k].frames) {
                if (!std::exchange(distinct[f.code], true)) addresses.push_back(f.code);
            }
        }
        auto headers = TRIAGE_TRY(fetch_many(addresses, layout_.code.size));
        address_map<const w::code_info*> infos;
        std::unordered_map<std::uint64_t, error> broken;
        for (std::size_t k = 0; k < addresses.size(); ++k) {
            if (headers[k].empty()) {
                broken.emplace(addresses[k], error{errc::bad_address, 0, "reading the code object at " + hex(addresses[k]), {}});
                continue;
            }
            auto info = code(addresses[k], headers[k]);
            if (!info) {
                broken.emplace(addresses[k], std::move(info.error()));
                continue;
            }
            infos[addresses[k]] = *info;
        }
        for (std::size_t index : threads) {
            python_thread& t = snap.threads[index];
            // The frames kept move down in place (no allocation per thread).
            std::size_t kept = 0;
            const auto keep = [&](python_frame& f) {
                if (&t.frames[kept] != &f) t.frames[kept] = std::move(f);
                ++kept;
            };
            for (std::size_t k = 0; k < t.frames.size(); ++k) {
                python_frame& f = t.frames[k];
                if (auto b = broken.find(f.code); b != broken.end()) {
                    if (!t.failure) t.failure = b->second;
                    break;
                }
                const w::code_info& info = **infos.find(f.code);
                const bool generator_frame = (f.flags & owned_by_generator_mark) != 0;
                if (!generator_frame && has(layout_.code.firsttraceable) && f.instruction < info.first_traceable) {
                    continue;  // an incomplete frame: not started yet
                }
                f.flags = info.flags;
                f.name = info.name;
                f.function = info.qualname.empty() ? info.name : info.qualname;
                f.file = info.file;
                if (auto known = info.lines.find(f.instruction); known != info.lines.end()) {
                    f.line = known->second;
                    keep(f);
                    continue;
                }
                auto line = line_of(info, f.instruction);
                // An instruction without a line of its own (a jump or cache
                // entry the compiler gave no location) is shown at the line
                // of the instruction before it, which is where the thread is.
                for (std::int64_t back = 1; line && !*line && back <= max_line_lookback && f.instruction - back >= 0; ++back) {
                    line = line_of(info, f.instruction - back);
                }
                if (line) {
                    f.line = *line;
                    info.lines.emplace(f.instruction, *line);
                } else if (!t.failure) {
                    t.failure = std::move(line.error());
                }
                keep(f);
            }
            t.frames.resize(kept);
        }
        return {};
    }

    [[nodiscard]] result<std::optional<int>> line_of(const detail::walker::code_info& info, std::int64_t unit) const {
        switch (layout_.code.lines) {
        case line_table_format::lnotab_unsigned:
            return std::optional<int>{TRIAGE_TRY(
                line_for_lnotab(info.line_table, info.first_line, unit, lnotab_line_deltas::unsigned_bytes))};
        case line_table_format::lnotab_signed:
            return std::optional<int>{TRIAGE_TRY(
                line_for_lnotab(info.line_table, info.first_line, unit, lnotab_line_deltas::signed_bytes))};
        case line_table_format::linetable_310: return line_for_linetable_310(info.line_table, info.first_line, unit);
        case line_table_format::location_table: return line_for_location_table(info.line_table, info.first_line, unit);
        }
        return std::optional<int>{};
    }

    // The decoded code object at `address` (header copied in `header`),
    // from the cache when its identity fields are unchanged.
    [[nodiscard]] result<const detail::walker::code_info*> code(std::uint64_t address, std::span<const std::byte> header) {
        namespace w = detail::walker;
        const auto& cl = layout_.code;
        std::vector<std::byte> identity;
        for (byte_offset f : {cl.filename, cl.name, cl.qualname, cl.lnotab, cl.linetable, cl.code, cl.firstlineno}) {
            if (!has(f)) continue;
            auto piece = header.subspan(f, 8);
            identity.insert(identity.end(), piece.begin(), piece.end());
        }
        if (auto it = codes_.find(address); it != codes_.end() && it->second.identity == identity) return &it->second;
        TRIAGE_TRY(check_code_type(address, header));
        w::code_info info;
        info.identity = std::move(identity);
        info.first_line = load_unaligned<std::int32_t>(header, cl.firstlineno);
        info.flags = load_unaligned<std::uint32_t>(header, cl.flags);
        if (has(cl.firsttraceable)) info.first_traceable = load_unaligned<std::int32_t>(header, cl.firsttraceable);
        info.name = TRIAGE_TRY(text(w::pointer(header, cl.name), "co_name"));
        info.file = TRIAGE_TRY(text(w::pointer(header, cl.filename), "co_filename"));
        if (has(cl.qualname)) info.qualname = TRIAGE_TRY(text(w::pointer(header, cl.qualname), "co_qualname"));
        byte_offset table = has(cl.linetable) ? cl.linetable : cl.lnotab;
        info.line_table = TRIAGE_TRY(bytes_object(w::pointer(header, table)));
        if (codes_.size() > max_cached_codes) codes_.clear();
        auto [it, inserted] = codes_.insert_or_assign(address, std::move(info));
        return &it->second;
    }

    static constexpr std::size_t max_cached_codes = 65536;

    // The object's type must be named "code" (checked once per type address).
    [[nodiscard]] result<void> check_code_type(std::uint64_t address, std::span<const std::byte> header) {
        namespace w = detail::walker;
        std::uint64_t type = w::pointer(header, layout_.object.ob_type);
        if (code_types_.contains(type)) return {};
        const std::string where = "checking the code object at " + hex(address);
        if (!w::plausible(type)) return fail(errc::inconsistent, where + ": bad type pointer " + hex(type));
        auto type_bytes = TRIAGE_TRY(fetch(type, layout_.object.tp_name + 8, where));
        std::uint64_t name = w::pointer(type_bytes, layout_.object.tp_name);
        std::array<char, 5> text{};
        TRIAGE_TRY(memory::read_exact(*mem_, name, std::as_writable_bytes(std::span{text})));
        if (std::string_view(text.data(), text.size()) != std::string_view("code\0", 5)) {
            return fail(errc::inconsistent, where + ": its type is not \"code\"");
        }
        code_types_.insert(type);
        return {};
    }

    // A str (3.x), or a 2.7 str, as UTF-8.
    [[nodiscard]] result<std::string> text(std::uint64_t address, std::string_view field) {
        namespace w = detail::walker;
        if (!w::plausible(address)) return fail(errc::inconsistent, "reading " + std::string(field) + ": bad pointer " + hex(address));
        auto s = read_str(*mem_, layout_, address, limits_.max_string_chars);
        if (!s) return fail(std::move(s.error()).within("reading " + std::string(field)));
        return s;
    }

    // The contents of a bytes object (2.7: a str), bounded.
    [[nodiscard]] result<std::vector<std::byte>> bytes_object(std::uint64_t address) {
        namespace w = detail::walker;
        if (!w::plausible(address)) return fail(errc::inconsistent, "reading a line table: bad pointer " + hex(address));
        const auto& b = layout_.bytes;
        auto header = TRIAGE_TRY(fetch(address, std::size_t{b.ob_size} + 8, "reading a line table"));
        std::int64_t size = load_unaligned<std::int64_t>(header, b.ob_size);
        if (size < 0 || static_cast<std::uint64_t>(size) > limits_.max_line_table_bytes) {
            return fail(errc::limit_exceeded, "reading the line table at " + hex(address) + " (" + std::to_string(size) + " bytes)");
        }
        std::vector<std::byte> table(static_cast<std::size_t>(size));
        if (!table.empty()) TRIAGE_TRY(memory::read_exact(*mem_, address + b.ob_sval, table));
        return table;
    }

    M* mem_;
    layout layout_;
    runtime_roots roots_;
    walk_limits limits_;
    std::vector<std::vector<std::byte>> blocks_;
    std::vector<std::byte> prefetched_;  // last snapshot's addresses, read first
    address_map<fetched> fetched_;
    std::vector<std::pair<std::uint64_t, std::size_t>> previous_reads_;
    // What the last snapshot's walks read (thread_reads_ by thread index), for the recheck.
    std::vector<detail::walker::thread_read> thread_reads_;
    std::vector<detail::walker::frame_read> frame_reads_;
    std::vector<std::byte> recheck_bytes_;
    std::vector<memory::read_request> recheck_requests_;
    std::unordered_map<std::uint64_t, detail::walker::code_info> codes_;
    std::unordered_set<std::uint64_t> code_types_;
};

// A snapshot taken without stopping the target: walks, rechecks every
// thread (`confirmations` times), takes the whole snapshot again when its
// thread list was read short, and walks again (up to `attempts` walks of
// a thread) each thread whose recheck disagreed or whose walk failed on
// memory that changed under it; the threads that held are kept as they were
// read. A whole walk that fails with errc::inconsistent or bad_address (a
// thread state freed under us) is retried, up to 10 times, each after a
// millisecond's pause: on a fresh time slice, so that a loaded machine does
// not preempt every walk at the same place. The threads say which are still
// inconsistent.
template <memory::memory_source M>
[[nodiscard]] result<stack_snapshot> consistent_snapshot(stack_walker<M>& walker, int attempts = 3) {
    constexpr int max_failed_walks = 10;
    for (int failed = 0;;) {
        auto taken = walker.snapshot();
        if (!taken) {
            const errc code = taken.error().code;
            if (++failed >= max_failed_walks || (code != errc::inconsistent && code != errc::bad_address))
                return fail(std::move(taken.error()));
            const timespec pause{0, 1'000'000};
            ::nanosleep(&pause, nullptr);
            continue;
        }
        stack_snapshot snap = std::move(*taken);
        for (int k = 0; k < walker.confirmations; ++k) TRIAGE_TRY(walker.recheck(snap));
        if (!snap.thread_list_complete && ++failed < max_failed_walks) {
            const timespec pause{0, 1'000'000};
            ::nanosleep(&pause, nullptr);
            continue;
        }
        for (int walks = 1; walks < attempts; ++walks) {
            if (TRIAGE_TRY(walker.retry(snap))) break;
        }
        return snap;
    }
}

} // namespace triage::cpython

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/cpython/impl/stack_walker.ipp"
#endif
