// The CPython stack walker against every interpreter on the machine: real
// victims (tests/victims/py_parked.py) with threads parked in known places,
// checked against the victim's own marker comments and against CPython's
// faulthandler dump of the same process, in blocking and non-blocking mode.
#include <doctest/doctest.h>

#include <boost/hana/for_each.hpp>

#include <signal.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cpython/python_victim.hpp"
#include "support/failure_text.hpp"
#include "triage/cpython/find_interpreter.hpp"
#include "triage/cpython/native_thread_ids.hpp"
#include "triage/cpython/open_python.hpp"
#include "triage/cpython/python_target.hpp"
#include "triage/cpython/stack_walker.hpp"
#include "triage/elf/mapped_object.hpp"
#include "triage/cpython/layouts/all.hpp"
#include "triage/memory/buffer_source.hpp"
#include "triage/memory/live_process.hpp"
#include "triage/procfs/task_ids.hpp"
#include "triage/ptrace/session.hpp"

using triage::test_support::failure_text;

namespace {

using namespace triage;
using namespace triage::testing;

// A victim with its scratch directory and generated files.
struct parked_victim {
    python_interpreter python;
    std::unique_ptr<scratch_dir> dir;
    extra_files extra;
    std::string ready;
    std::string dump;
    std::unique_ptr<python_process> process;
};

std::unique_ptr<parked_victim> start_parked(const python_interpreter& python, bool churn) {
    auto v = std::make_unique<parked_victim>();
    v->python = python;
    v->dir = std::make_unique<scratch_dir>();
    std::string extra_dir = v->dir->path() + "/extra";
    std::filesystem::create_directory(extra_dir);
    v->extra = write_extra_files(extra_dir, python.major);
    v->ready = v->dir->path() + "/ready";
    v->dump = v->dir->path() + "/faulthandler.txt";
    std::vector<std::string> args{victim_script("py_parked.py"), v->ready, v->dump, extra_dir};
    if (churn) args.push_back("--churn");
    v->process = std::make_unique<python_process>(python, args);
    return v;
}

// Everything the library needs to read one victim.
struct reader {
    memory::live_process mem;
    cpython::python_target target;
};

reader open_reader(pid_t pid) {
    auto objects = elf::mapped_objects(pid);
    REQUIRE_MESSAGE(objects, failure_text(objects));
    auto image = cpython::find_interpreter(*objects);
    REQUIRE_MESSAGE(image, failure_text(image));
    auto mem = memory::live_process::open(pid);
    REQUIRE_MESSAGE(mem, failure_text(mem));
    auto target = cpython::open_python(*mem, std::move(*image));
    REQUIRE_MESSAGE(target, failure_text(target));
    return reader{std::move(*mem), std::move(*target)};
}

cpython::stack_snapshot take(reader& r, bool blocking, pid_t pid) {
    auto walker = cpython::make_walker(r.mem, r.target);
    cpython::stack_snapshot snap;
    if (blocking) {
        auto session = ptrace::session::attach(pid);
        REQUIRE_MESSAGE(session, failure_text(session));
        auto s = walker.snapshot();
        REQUIRE_MESSAGE(s, failure_text(s));
        snap = std::move(*s);
        auto tids = procfs::task_ids(pid);
        REQUIRE(tids);
        REQUIRE(cpython::assign_tids(r.mem, snap, *tids));
        // An independent oracle for the tids: on x86-64 glibc a thread's
        // fs_base register is its pthread_t.
        for (const auto& t : snap.threads) {
            if (!t.tid) {
                // A thread state created for a thread that has not started
                // running yet (3.12+ create it in the parent) has no tid.
                CHECK(t.frames.empty());
                continue;
            }
            auto regs = session->registers(*t.tid);
            REQUIRE_MESSAGE(regs, failure_text(regs));
            CHECK(regs->general.fs_base == t.python_ident);
        }
        REQUIRE(session->release());
    } else {
        auto s = cpython::consistent_snapshot(walker);
        REQUIRE_MESSAGE(s, failure_text(s));
        snap = std::move(*s);
    }
    auto tids = procfs::task_ids(pid);
    REQUIRE(tids);
    REQUIRE(cpython::assign_tids(r.mem, snap, *tids));
    return snap;
}

const cpython::python_thread* innermost_at(const cpython::stack_snapshot& snap, const std::string& file,
                                           const std::set<int>& lines) {
    for (const auto& t : snap.threads) {
        if (!t.frames.empty() && t.frames[0].file == file && t.frames[0].line && lines.contains(*t.frames[0].line)) {
            return &t;
        }
    }
    return nullptr;
}

bool has_frame_at(const cpython::python_thread& t, std::size_t index, const std::string& file, int line,
                  const std::string& name) {
    return index < t.frames.size() && t.frames[index].file == file && t.frames[index].line == line &&
           t.frames[index].name == name;
}

std::string describe(const cpython::stack_snapshot& snap) {
    std::string out;
    for (const auto& t : snap.threads) {
        out += "thread " + std::to_string(t.python_ident) + (t.failure ? " error: " + t.failure->message() : "") + "\n";
        for (std::size_t k = 0; k < t.frames.size() && k < 8; ++k) {
            const auto& f = t.frames[k];
            out += "  " + f.function + " (" + f.file + ":" + std::to_string(f.line.value_or(-1)) + ")\n";
        }
    }
    return out;
}

// The victim's parked threads, as its marker comments place them.
void check_parked_threads(const parked_victim& v, const cpython::stack_snapshot& snap) {
    const std::string script = victim_script("py_parked.py");
    const std::string coroutines = victim_script("py_coroutines.py");
    const auto markers = read_markers(script);
    const auto coroutine_markers = read_markers(coroutines);
    const bool modern = v.python.major == 3 && v.python.minor >= 11;
    INFO(describe(snap));
    for (const auto& t : snap.threads) CHECK_MESSAGE(!t.failure, failure_text(t.failure));

    auto at = [&](const std::string& name) { return *marker_lines(markers, "park", name).begin(); };
    const auto* sleeper = innermost_at(snap, script, {at("sleeping")});
    REQUIRE(sleeper);
    CHECK(sleeper->frames[0].function == "sleeper");

    const auto* locked = innermost_at(snap, script, {at("lock")});
    REQUIRE(locked);
    CHECK(locked->frames[0].name == "wait_for_lock");
    CHECK(locked->frames[0].function == (modern ? "Worker.wait_for_lock" : "wait_for_lock"));

    const auto* spinner = innermost_at(snap, script, marker_lines(markers, "spin", "spinning"));
    REQUIRE(spinner);
    CHECK(spinner->frames[0].function == "spinner");

    const auto* deep = innermost_at(snap, script, {at("recursion")});
    REQUIRE(deep);
    std::size_t recursive = 0;
    for (std::size_t k = 1; k < deep->frames.size(); ++k) {
        if (has_frame_at(*deep, k, script, at("recursion-frame"), "recurse")) ++recursive;
    }
    CHECK(recursive == 950);

    const auto* generator = innermost_at(snap, script, {at("generator")});
    REQUIRE(generator);
    CHECK(generator->frames[0].name == "counting_generator");
    CHECK((generator->frames[0].flags & cpython::co_flag_generator) != 0);
    CHECK(has_frame_at(*generator, 1, script, at("generator-consumer"), "drain_generator"));

    bool comprehension = false;
    for (const auto& t : snap.threads) {
        for (const auto& f : t.frames) comprehension |= f.file == script && f.line == at("comprehension");
    }
    CHECK(comprehension);

    const auto* lambda = innermost_at(snap, script, {at("lambda")});
    REQUIRE(lambda);
    CHECK(lambda->frames[0].function == "<lambda>");

    const auto* far = innermost_at(snap, v.extra.long_module, {v.extra.long_line});
    REQUIRE(far);
    CHECK(far->frames[0].function == "far_away");

    const auto* unicode = innermost_at(snap, v.extra.unicode_module, {v.extra.unicode_line});
    REQUIRE(unicode);
    REQUIRE(unicode->frames.size() >= v.extra.unicode_functions.size());
    for (std::size_t k = 0; k < v.extra.unicode_functions.size(); ++k) {
        CHECK(unicode->frames[k].function == v.extra.unicode_functions[k]);
        CHECK(unicode->frames[k].file == v.extra.unicode_module);
    }

    const auto* main_thread = innermost_at(snap, script, {at("main")});
    REQUIRE(main_thread);
    CHECK(main_thread->frames.size() == 1);
    CHECK(main_thread->frames[0].function == "<module>");

    if (v.python.major == 3) {
        auto cat = [&](const std::string& name) { return *marker_lines(coroutine_markers, "park", name).begin(); };
        const auto* coroutine = innermost_at(snap, coroutines, {cat("coroutine")});
        REQUIRE(coroutine);
        CHECK(coroutine->frames[0].name == "inner_coroutine");
        CHECK((coroutine->frames[0].flags & cpython::co_flag_coroutine) != 0);
        CHECK(has_frame_at(*coroutine, 1, coroutines, cat("coroutine-outer"), "outer_coroutine"));
        CHECK(has_frame_at(*coroutine, 2, coroutines, cat("coroutine-driver"), "drive_by_hand"));

        const auto* task = innermost_at(snap, coroutines, {cat("asyncio")});
        REQUIRE(task);
        CHECK(task->frames[0].name == "blocking_task");
        bool loop = false;
        for (std::size_t k = 0; k < task->frames.size(); ++k) loop |= has_frame_at(*task, k, coroutines, cat("asyncio-loop"), "run_loop");
        CHECK(loop);
    }

    // Every thread has a distinct kernel tid of the process.
    auto tids = procfs::task_ids(v.process->pid());
    REQUIRE(tids);
    std::set<pid_t> seen;
    for (const auto& t : snap.threads) {
        REQUIRE(t.tid);
        CHECK(std::find(tids->begin(), tids->end(), *t.tid) != tids->end());
        CHECK(seen.insert(*t.tid).second);
    }
    auto main_by_tid = std::find_if(snap.threads.begin(), snap.threads.end(), [&](const auto& t) {
        return t.tid == v.process->pid();
    });
    REQUIRE(main_by_tid != snap.threads.end());
    CHECK(main_by_tid->thread_state == main_thread->thread_state);
}

// On-CPU nanoseconds of one thread.
std::uint64_t run_time(pid_t pid, pid_t tid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/schedstat");
    return text ? std::stoull(*text) : 0;
}

// The spinning thread's tid is the thread that burns CPU; it holds the GIL.
void check_spinner_identity(const parked_victim& v, reader& r) {
    const std::string script = victim_script("py_parked.py");
    const auto spin_lines = marker_lines(read_markers(script), "spin", "spinning");
    bool gil_seen = false;
    for (int attempt = 0; attempt < 5 && !gil_seen; ++attempt) {
        auto snap = take(r, true, v.process->pid());
        const auto* spinner = innermost_at(snap, script, spin_lines);
        REQUIRE(spinner);
        REQUIRE(spinner->tid);
        std::size_t holders = 0;
        for (const auto& t : snap.threads) holders += t.holds_gil ? 1 : 0;
        CHECK(holders <= 1);
        gil_seen = spinner->holds_gil;
        pid_t tid = *spinner->tid;
        // It runs (on a busy machine it may wait a while for a CPU).
        std::uint64_t before = run_time(v.process->pid(), tid);
        bool ran = false;
        for (int wait = 0; wait < 100 && !ran; ++wait) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ran = run_time(v.process->pid(), tid) > before;
        }
        CHECK(ran);
    }
    CHECK_MESSAGE(gil_seen, "the spinning thread never held the GIL in 5 blocking snapshots");
}

// Our stacks against faulthandler's dump of the same threads.
void check_against_faulthandler(const parked_victim& v, reader& r) {
    const std::string script = victim_script("py_parked.py");
    const auto spin_lines = marker_lines(read_markers(script), "spin", "spinning");
    auto snap = take(r, false, v.process->pid());
    const std::string text = faulthandler_dump(v.process->pid(), v.dump, snap.threads.size());
    const auto dump = parse_faulthandler(text);
    INFO(text);
    INFO(describe(snap));
    REQUIRE(dump.size() == snap.threads.size());
    for (const auto& [id, frames] : dump) {
        auto ours = std::find_if(snap.threads.begin(), snap.threads.end(), [&](const auto& t) { return t.python_ident == id; });
        REQUIRE_MESSAGE(ours != snap.threads.end(), "faulthandler shows thread " << id << " that we did not find");
        // faulthandler prints at most 100 frames of a thread.
        REQUIRE(ours->frames.size() >= frames.size());
        if (frames.size() < 100) CHECK(ours->frames.size() == frames.size());
        for (std::size_t k = 0; k < frames.size(); ++k) {
            const auto& f = ours->frames[k];
            CAPTURE(k);
            CHECK(faulthandler_escape(f.file) == frames[k].file);
            CHECK(faulthandler_escape(f.name) == frames[k].function);
            bool spinning = k == 0 && f.file == script && f.line && spin_lines.contains(*f.line);
            if (spinning) {
                CHECK(spin_lines.contains(frames[k].line));
            } else {
                CHECK(f.line.value_or(-1) == frames[k].line);
            }
        }
    }
}

void check_alive(const python_process& p) {
    std::string state = p.state();
    CHECK(!state.empty());
    CHECK(state != "t");
    CHECK(state != "T");
    CHECK(state != "Z");
}

} // namespace

TEST_CASE("the walker reads every thread of every interpreter on the machine, as faulthandler does") {
    auto interpreters = machine_interpreters();
    REQUIRE_MESSAGE(!interpreters.empty(), "no Python interpreter found on this machine");
    std::vector<std::unique_ptr<parked_victim>> victims;
    for (const auto& python : interpreters) victims.push_back(start_parked(python, false));
    std::vector<std::string> covered;
    for (auto& v : victims) {
        CAPTURE(v->python.label);
        REQUIRE_MESSAGE(v->process->wait_for_file(v->ready), v->python.label << " did not park its threads");
        reader r = open_reader(v->process->pid());
        CHECK(r.target.version.major == v->python.major);
        CHECK(r.target.version.minor == v->python.minor);
        if (v->python.label.starts_with("pyenv ")) CHECK(r.target.version.text() == v->python.label.substr(6));

        check_parked_threads(*v, take(r, false, v->process->pid()));
        check_parked_threads(*v, take(r, true, v->process->pid()));
        check_spinner_identity(*v, r);
        if (v->python.major == 3) check_against_faulthandler(*v, r);
        check_alive(*v->process);
        covered.push_back(v->python.label + " (Python " + r.target.version.text() + ", " + r.target.layout_source +
                          ", runtime by " + r.target.runtime.method + ")");
        v->process->stop();
    }
    std::printf("CPython stack walker covered %zu of %zu interpreters:\n", covered.size(), interpreters.size());
    for (const auto& c : covered) std::printf("  %s\n", c.c_str());
    if (const std::string note = test_support::lab_note(); !note.empty()) std::printf("%s\n", note.c_str());
    CHECK(covered.size() == interpreters.size());
}

TEST_CASE("the runtime is found without symbols, by the debug-offsets cookie or a validated scan") {
    for (const auto& python : machine_interpreters()) {
        CAPTURE(python.label);
        auto v = start_parked(python, false);
        REQUIRE(v->process->wait_for_file(v->ready));
        reader r = open_reader(v->process->pid());
        cpython::interpreter_image stripped = r.target.image;
        stripped.symbols.clear();
        stripped.py_runtime_section.reset();
        auto found = cpython::locate_runtime(r.mem, stripped, r.target.layout);
        REQUIRE_MESSAGE(found, failure_text(found));
        // The same interpreter (2.7 and 3.6 keep a second pointer to it,
        // autoInterpreterState, which a scan may meet first).
        auto by_scan = memory::read_object<std::uint64_t>(r.mem, found->roots.interpreters_head);
        auto by_symbol = memory::read_object<std::uint64_t>(r.mem, r.target.runtime.roots.interpreters_head);
        REQUIRE(by_scan);
        REQUIRE(by_symbol);
        CHECK(*by_scan == *by_symbol);
        CHECK(found->method == (python.major == 3 && python.minor >= 13 ? "_Py_DebugOffsets cookie" : "scan of data and bss"));
        check_alive(*v->process);
    }
}

TEST_CASE("threads starting and exiting while we read never break a walk") {
    for (const auto& python : machine_interpreters()) {
        CAPTURE(python.label);
        auto v = start_parked(python, true);
        REQUIRE(v->process->wait_for_file(v->ready));
        reader r = open_reader(v->process->pid());
        const std::string script = victim_script("py_parked.py");
        const int sleeping = *marker_lines(read_markers(script), "park", "sleeping").begin();
        auto walker = cpython::make_walker(r.mem, r.target);
        for (int k = 0; k < 40; ++k) {
            auto snap = cpython::consistent_snapshot(walker);
            REQUIRE_MESSAGE(snap, failure_text(snap));
            CHECK(innermost_at(*snap, script, {sleeping}));
        }
        for (int k = 0; k < 5; ++k) {
            auto snap = take(r, true, v->process->pid());
            CHECK(innermost_at(snap, script, {sleeping}));
            for (const auto& t : snap.threads) CHECK_MESSAGE(!t.failure, failure_text(t.failure));
        }
        check_alive(*v->process);
    }
}

namespace {
// 64 KiB of synthetic target memory at `base`, written a pointer at a time.
struct synthetic_image {
    static constexpr std::uint64_t base = 0x7000'0000'0000;
    std::vector<std::byte> bytes = std::vector<std::byte>(0x10000);
    void put(std::uint64_t at, std::uint64_t value) {
        const std::size_t offset = at - base;
        REQUIRE(offset + 8 <= bytes.size());
        std::memcpy(bytes.data() + offset, &value, 8);
    }
};

} // namespace

TEST_CASE("a candidate interpreter is accepted only when its thread states point back to it, for every layout") {
    boost::hana::for_each(cpython::layouts::known_layouts, []<class Entry>(Entry) {
        const cpython::layout& l = Entry::value;
        CAPTURE(Entry::major);
        CAPTURE(Entry::minor);
        // head → interpreter → two thread states, in a 64 KiB image.
        synthetic_image image;
        constexpr std::uint64_t base = synthetic_image::base;
        constexpr std::uint64_t head = base, interp = base + 0x100, first = base + 0x8000, second = base + 0xC000;
        auto put = [&](std::uint64_t at, std::uint64_t value) { image.put(at, value); };
        auto build = [&](std::uint64_t second_interp, std::uint64_t second_prev) {
            std::fill(image.bytes.begin(), image.bytes.end(), std::byte{0});
            put(head, interp);
            put(interp + l.interpreter.threads_head, first);
            put(first + l.thread.interp, interp);
            put(first + l.thread.next, second);
            put(second + l.thread.interp, second_interp);
            if (cpython::has(l.thread.prev)) put(second + l.thread.prev, second_prev);
        };
        memory::buffer_source mem{base, image.bytes};
        build(interp, first);
        CHECK(cpython::validate_head(mem, l, head));
        build(interp + 8, first);  // the second thread belongs elsewhere
        CHECK_FALSE(cpython::validate_head(mem, l, head));
        if (cpython::has(l.thread.prev)) {
            build(interp, second);  // a broken back link
            CHECK_FALSE(cpython::validate_head(mem, l, head));
        }
        put(interp + l.interpreter.threads_head, 0);  // no thread at all
        CHECK_FALSE(cpython::validate_head(mem, l, head));
    });
}

TEST_CASE("a recheck finds a thread list that ended early when read (a thread state published before its link, or recycled)") {
    // CPython 3.14 sets interp->threads.head to a new thread state before
    // that state's next link: a walk in between sees a list of one thread.
    boost::hana::for_each(cpython::layouts::known_layouts, []<class Entry>(Entry) {
        const cpython::layout& l = Entry::value;
        CAPTURE(Entry::major);
        CAPTURE(Entry::minor);
        synthetic_image image;
        constexpr std::uint64_t base = synthetic_image::base;
        constexpr std::uint64_t head = base, current = base + 0x40, interp = base + 0x100;
        constexpr std::uint64_t born = base + 0x8000, older = base + 0xC000;
        auto put = [&](std::uint64_t at, std::uint64_t value) { image.put(at, value); };
        put(head, interp);
        put(interp + l.interpreter.threads_head, born);
        put(born + l.thread.interp, interp);
        put(older + l.thread.interp, interp);
        memory::buffer_source mem{base, image.bytes};  // a view: later puts show through
        cpython::runtime_roots roots;
        roots.interpreters_head = head;
        roots.current_thread = current;
        cpython::stack_walker walker{mem, l, roots};
        auto snap = walker.snapshot();
        REQUIRE_MESSAGE(snap, failure_text(snap));
        CHECK(snap->threads.size() == 1);
        CHECK(walker.recheck(*snap).value_or(false));
        CHECK(snap->thread_list_complete);

        put(born + l.thread.next, older);  // the link is set: the walk missed `older`
        CHECK(walker.recheck(*snap).value_or(false));  // each thread read still agrees...
        CHECK_FALSE(snap->thread_list_complete);        // ...but the list was read short
        CHECK_FALSE(snap->consistent());

        auto again = walker.snapshot();
        REQUIRE(again);
        CHECK(again->threads.size() == 2);
        CHECK(again->thread_list_complete);

        // A thread leaving from the middle leaves the rest of the list as
        // walked; the state the list ended at holding another thread does not.
        put(born + l.thread.thread_id, 0x1234);
        CHECK_FALSE(walker.recheck(*again).value_or(true));
        CHECK(again->thread_list_complete);
        put(older + l.thread.thread_id, 0x5678);
        CHECK_FALSE(walker.recheck(*again).value_or(true));
        CHECK_FALSE(again->thread_list_complete);
    });
}

TEST_CASE("3.14+: a walk that does not reach the interpreter's main thread read the list short") {
    cpython::layout l = cpython::layouts::v3_12;
    const auto& il = l.interpreter;
    l.interpreter.threads_main = static_cast<cpython::byte_offset>(
        cpython::detail::walker::extent({il.next, il.threads_head, il.id, il.gil_pointer}));
    synthetic_image image;
    constexpr std::uint64_t base = synthetic_image::base;
    constexpr std::uint64_t head = base, current = base + 0x40, interp = base + 0x100;
    constexpr std::uint64_t born = base + 0x8000, main_thread = base + 0xC000;
    image.put(head, interp);
    image.put(interp + il.threads_head, born);
    image.put(interp + l.interpreter.threads_main, main_thread);
    image.put(born + l.thread.interp, interp);
    image.put(main_thread + l.thread.interp, interp);
    memory::buffer_source mem{base, image.bytes};
    cpython::runtime_roots roots;
    roots.interpreters_head = head;
    roots.current_thread = current;
    cpython::stack_walker walker{mem, l, roots};
    auto snap = walker.snapshot();  // the new head's link is not stored yet
    REQUIRE_MESSAGE(snap, failure_text(snap));
    CHECK(snap->threads.size() == 1);
    CHECK_FALSE(snap->thread_list_complete);
    image.put(born + l.thread.next, main_thread);
    auto again = walker.snapshot();
    REQUIRE(again);
    CHECK(again->threads.size() == 2);
    CHECK(again->thread_list_complete);
}

TEST_CASE("3.11: a tid two thread states claim is left to their idents (a new thread's state copied from its parent)") {
    // 3.11 creates a thread's state in its parent with the parent's ident
    // and tid; the new thread stores its ident, then its tid. Read between
    // the two stores, the state names the new thread's pthread and the
    // parent's tid (a test once saw fs_base != ident for that tid).
    const cpython::layout& l = cpython::layouts::v3_11;
    synthetic_image image;
    constexpr std::uint64_t base = synthetic_image::base;
    constexpr std::uint64_t head = base, current = base + 0x40, interp = base + 0x100;
    constexpr std::uint64_t parent_tcb = base + 0x1000, child_tcb = base + 0x2000, other_tcb = base + 0x3000;
    constexpr std::uint64_t child = base + 0x8000, parent = base + 0xA000, other = base + 0xC000;
    constexpr std::size_t tid_offset = 0x2d0;  // glibc's struct pthread
    image.put(head, interp);
    image.put(interp + l.interpreter.threads_head, child);
    for (auto [state, next, tcb, tid] : {std::tuple{child, parent, child_tcb, 1000}, std::tuple{parent, other, parent_tcb, 1000},
                                         std::tuple{other, std::uint64_t{0}, other_tcb, 1002}}) {
        image.put(state + l.thread.interp, interp);
        image.put(state + l.thread.next, next);
        image.put(state + l.thread.thread_id, tcb);
        image.put(state + l.thread.native_thread_id, static_cast<std::uint64_t>(tid));
    }
    image.put(parent_tcb + tid_offset, 1000);
    image.put(child_tcb + tid_offset, 1001);
    image.put(other_tcb + tid_offset, 1002);
    memory::buffer_source mem{base, image.bytes};
    cpython::runtime_roots roots;
    roots.interpreters_head = head;
    roots.current_thread = current;
    cpython::stack_walker walker{mem, l, roots};
    auto snap = walker.snapshot();
    REQUIRE_MESSAGE(snap, failure_text(snap));
    REQUIRE(snap->threads.size() == 3);
    CHECK_FALSE(snap->threads[0].tid);  // the claim both make is trusted for neither
    CHECK_FALSE(snap->threads[1].tid);
    CHECK(snap->threads[2].tid == 1002);
    const std::vector<pid_t> tids{1000, 1001, 1002};
    REQUIRE(cpython::assign_tids(mem, *snap, tids));
    CHECK(snap->threads[0].tid == 1001);  // from the new thread's own TCB
    CHECK(snap->threads[1].tid == 1000);
    CHECK(snap->threads[2].tid == 1002);
}
