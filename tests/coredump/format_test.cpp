// The core format pieces on their own: note records round-trip, the note
// order is the kernel's, the dump decision follows vma_dump_size(), smaps
// parses, and hostile headers and notes are errors.
#include <doctest/doctest.h>

#include <elf.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "triage/coredump/core_notes.hpp"
#include "triage/coredump/dump_filter.hpp"
#include "triage/coredump/live_dump.hpp"
#include "triage/coredump/records.hpp"
#include "triage/coredump/writer.hpp"
#include "triage/elf/note.hpp"
#include "triage/base/read_file.hpp"
#include "triage/procfs/maps.hpp"
#include "support/child_process.hpp"

using namespace triage;
using namespace triage::coredump;

namespace {
core_thread make_thread(pid_t tid) {
    core_thread t;
    t.tid = tid;
    t.general.rip = 0x401000u + static_cast<unsigned>(tid);
    t.general.rsp = 0x7ffc0000u + static_cast<unsigned>(tid);
    t.fp = user_fpregs_struct{};
    t.fp->mxcsr = 0x1f80;
    t.xstate.assign(1024, std::byte{0x11});
    t.sig_blocked = 0x4;
    t.user_time = std::chrono::microseconds{1500000};
    return t;
}

region file_region(bool executable_offset0, std::uint64_t offset = 0) {
    region r;
    r.map.start = 0x1000;
    r.map.end = 0x5000;
    r.map.readable = true;
    r.map.executable = executable_offset0;
    r.map.offset = offset;
    r.map.inode = 42;
    r.map.path = "/usr/lib/libx.so";
    return r;
}
} // namespace

TEST_CASE("NT_PRSTATUS, NT_PRPSINFO and NT_FILE round-trip through their encoders") {
    core_thread t = make_thread(77);
    auto back = decode_prstatus(encode_prstatus(t));
    REQUIRE(back);
    CHECK(back->tid == 77);
    CHECK(back->general.rip == t.general.rip);
    CHECK(back->sig_blocked == 0x4);
    CHECK(back->user_time == std::chrono::microseconds{1500000});

    core_process p;
    p.pid = 12;
    p.ppid = 1;
    p.state = 'S';
    p.fname = "a-very-long-command-name";
    p.psargs = std::string("python3\0app.py\0", 15);
    auto bytes = encode_prpsinfo(p);
    elf_prpsinfo raw;
    std::memcpy(&raw, bytes.data(), sizeof raw);
    CHECK(raw.pr_state == 1);  // index of 'S' in "RSDTZW", as fill_psinfo()
    auto q = decode_prpsinfo(bytes);
    REQUIRE(q);
    CHECK(q->pid == 12);
    CHECK(q->fname == "a-very-long-com");  // 15 bytes and a NUL
    CHECK(q->psargs == "python3 app.py ");  // NULs become spaces, as the kernel does

    std::vector<mapped_file> files{{0x1000, 0x3000, 0x2000, "/bin/true"}, {0x5000, 0x6000, 0, "/lib/x (deleted)"}};
    auto decoded = decode_file_note(encode_file_note(files));
    REQUIRE(decoded);
    REQUIRE(decoded->size() == 2);
    CHECK((*decoded)[0].offset == 0x2000);
    CHECK((*decoded)[1].path == "/lib/x (deleted)");
}

TEST_CASE("the note segment is in the kernel's order with 4-byte alignment") {
    core_layout layout;
    layout.threads = {make_thread(10), make_thread(11)};
    layout.process.pid = 10;
    layout.process.auxv.assign(32, std::byte{0});
    layout.files = {{0x1000, 0x2000, 0, "/bin/true"}};
    layout.xsave_layout = false;
    auto segment = note_segment(layout);
    CHECK(segment.size() % 4 == 0);
    auto notes = elf::parse_notes(segment, 4);
    REQUIRE(notes);
    std::vector<std::pair<std::string, std::uint32_t>> order;
    for (const auto& n : *notes) order.emplace_back(std::string{n.name}, n.type);
    std::vector<std::pair<std::string, std::uint32_t>> kernel{
        {"CORE", NT_PRSTATUS}, {"CORE", NT_PRPSINFO}, {"CORE", NT_SIGINFO},   {"CORE", NT_AUXV},
        {"CORE", NT_FILE},     {"CORE", NT_PRFPREG},  {"LINUX", NT_X86_XSTATE}, {"CORE", NT_PRSTATUS},
        {"CORE", NT_PRFPREG},  {"LINUX", NT_X86_XSTATE}};
    CHECK(order == kernel);
    auto parsed = parse_core_notes(std::vector<std::span<const std::byte>>{segment});
    REQUIRE(parsed);
    REQUIRE(parsed->threads.size() == 2);
    CHECK(parsed->threads[1].tid == 11);
    CHECK(parsed->threads[1].fp->mxcsr == 0x1f80);
    CHECK(parsed->threads[1].xstate.size() == 1024);
    CHECK(parsed->files.size() == 1);
}

TEST_CASE("decide() follows the kernel's vma_dump_size rules") {
    dump_filter standard{0x33};
    region anon;
    anon.map.start = 0x1000;
    anon.map.end = 0x9000;
    anon.map.readable = anon.map.writable = true;
    CHECK(decide(anon, standard, false) == extent::nothing);  // never written: no anon_vma
    anon.has_anonymous = true;
    CHECK(decide(anon, standard, false) == extent::whole);
    CHECK(decide(anon, dump_filter{0x32}, false) == extent::nothing);  // bit 0 off
    anon.dont_dump = true;
    CHECK(decide(anon, standard, false) == extent::nothing);

    region vdso = anon;
    vdso.map.path = "[vdso]";
    CHECK(decide(vdso, dump_filter{0}, false) == extent::whole);  // special mappings always
    region heap = anon;
    heap.dont_dump = false;
    heap.map.path = "[heap]";
    CHECK(decide(heap, standard, false) == extent::whole);

    region text = file_region(true);
    CHECK(decide(text, standard, true) == extent::first_page);
    CHECK(decide(text, standard, false) == extent::first_page_if_elf);
    CHECK(decide(text, dump_filter{0x23}, true) == extent::nothing);  // bit 4 off
    CHECK(decide(text, dump_filter{0x37}, true) == extent::whole);   // bit 2: file-backed private
    CHECK(decide(file_region(true, 0x1000), standard, true) == extent::nothing);

    region shm = file_region(false);
    shm.vm_shared = true;
    shm.map.path = "/dev/zero";
    shm.map.deleted = true;
    CHECK(decide(shm, standard, false) == extent::whole);  // bit 1: anonymous shared
    shm.map.deleted = false;
    shm.map.path = "/data/file";
    CHECK(decide(shm, standard, false) == extent::nothing);  // bit 3 off
    CHECK(decide(shm, dump_filter{0x3b}, false) == extent::whole);

    region huge = anon;
    huge.dont_dump = false;
    huge.hugetlb = true;
    CHECK(decide(huge, standard, false) == extent::whole);  // bit 5
    CHECK(decide(huge, dump_filter{0x13}, false) == extent::nothing);
    region io = anon;
    io.dont_dump = false;
    io.io = true;
    CHECK(decide(io, dump_filter{0x1ff}, false) == extent::nothing);
}

TEST_CASE("coredump_filter bits and copy strategies as a command line names them") {
    for (const char* text : {"33", "0x33", " 0X33\n"}) CHECK(parse_dump_filter(text)->bits == 0x33);
    CHECK(parse_dump_filter("1ff")->bits == 0x1ff);
    for (const char* text : {"", "0x", "33z", "-1", "100000000"}) {
        CAPTURE(text);
        auto filter = parse_dump_filter(text);
        REQUIRE_FALSE(filter);
        CHECK(filter.error().code == errc::malformed);
    }
    CHECK(copy_strategy_named("auto", "auto") == copy_strategy::automatic);
    CHECK(copy_strategy_named("auto", "stop") == copy_strategy::copy_in_stop);
    CHECK(copy_strategy_named("memory", "auto") == copy_strategy::to_memory);
    CHECK(copy_strategy_named("file", "stop") == copy_strategy::to_file);
    CHECK(copy_strategy_named("memory", "fork") == copy_strategy::fork_snapshot);
    CHECK(copy_strategy_named("auto", "fork") == copy_strategy::fork_snapshot);
    CHECK(copy_strategy_named("disk", "auto").error().code == errc::invalid_argument);
    CHECK(copy_strategy_named("auto", "snap").error().code == errc::invalid_argument);
}

TEST_CASE("smaps of a process parses into the same mappings as its maps") {
    // A sleeping child: its mappings do not change between the two reads
    // (our own would, as our allocations, and ASan's, add mappings).
    triage::test_support::child_process sleeper{{"sleep", "60"}};
    // Wait until it sleeps in clock_nanosleep (230): exec and loading are done.
    for (int i = 0; i < 500; ++i) {
        auto text = triage::read_file("/proc/" + std::to_string(sleeper.pid()) + "/syscall");
        if (text && text->starts_with("230 ")) break;
        ::usleep(10'000);
    }
    auto dir = procfs::proc_dir::open(sleeper.pid());
    REQUIRE(dir);
    auto regions = read_regions(*dir);
    auto maps = procfs::read_maps(sleeper.pid());
    REQUIRE(regions);
    REQUIRE(maps);
    REQUIRE(regions->size() == maps->size());
    for (std::size_t i = 0; i < maps->size(); ++i) {
        CHECK((*regions)[i].map.start == (*maps)[i].start);
        CHECK((*regions)[i].map.end == (*maps)[i].end);
        CHECK((*regions)[i].map.path == (*maps)[i].path);
    }
    auto find = [&](std::string_view name) {
        for (const auto& r : *regions)
            if (r.map.path == name) return &r;
        return static_cast<const region*>(nullptr);
    };
    const region* stack = find("[stack]");
    REQUIRE(stack != nullptr);
    CHECK(stack->has_anonymous);
    CHECK(stack->rss_kb > 0);
    REQUIRE(find("[vdso]") != nullptr);
    CHECK(find("[vdso]")->special());
    CHECK(!stack->special());
    CHECK(!parse_smaps("Rss: 4 kB\n"));  // an attribute before any mapping
}

TEST_CASE("hostile core headers and notes are errors") {
    std::vector<std::byte> bytes(sizeof(Elf64_Ehdr));
    CHECK(parse_core_header(bytes).error().code == errc::malformed);  // no magic
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_AARCH64;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    std::memcpy(bytes.data(), &eh, sizeof eh);
    CHECK(parse_core_header(bytes).error().code == errc::unsupported);
    eh.e_machine = EM_X86_64;
    eh.e_phoff = sizeof eh;
    eh.e_phnum = 40;  // table past the end
    std::memcpy(bytes.data(), &eh, sizeof eh);
    CHECK(parse_core_header(bytes).error().code == errc::truncated);
    eh.e_phnum = PN_XNUM;
    eh.e_shoff = 1u << 30;  // extended count past the end
    std::memcpy(bytes.data(), &eh, sizeof eh);
    CHECK(parse_core_header(bytes).error().code == errc::truncated);
    CHECK(!parse_core_header(std::span{bytes}.first(10)));

    std::vector<std::uint64_t> files{1000000000, 4096};  // a huge count in a short note
    CHECK(decode_file_note(std::as_bytes(std::span{files})).error().code == errc::limit_exceeded);
    files = {2, 4096, 0x1000, 0x2000, 0, 0x3000, 0x4000, 0};  // table, but no names
    CHECK(decode_file_note(std::as_bytes(std::span{files})).error().code == errc::malformed);
    CHECK(decode_prstatus(std::vector<std::byte>(100)).error().code == errc::truncated);
}
