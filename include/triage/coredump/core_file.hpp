// triage/coredump/core_file.hpp — a core file (ours, gdb's gcore, the
// kernel's) as a memory_source plus the threads and process facts it holds.
//
// Offers: `core_file::open(path, options)` (memory-maps the file read-only)
// and `core_file::from_bytes(bytes, options)` (borrowed bytes: tests,
// fuzzing). Then:
//  - memory_source: `read(address, into)` / `read_batch(requests)`. A byte
//    comes from the core when a PT_LOAD holds it (p_filesz part, within the
//    file: holes of a sparse core read as zeros, as the kernel meant them);
//    otherwise, past the PT_LOAD's p_filesz, from the file that NT_FILE
//    says was mapped there (offset = entry offset + address - entry start),
//    if `options.read_mapped_files`, the file opens, and its check passed
//    (see `file_check`); otherwise the read stops there (partial read;
//    errc::bad_address when not even the first byte is readable). Bytes a
//    PT_LOAD held but the end of a truncated file cut off are not read from
//    the mapped file (the core held them because they differed from it).
//  - `threads()`: one `core_thread` per NT_PRSTATUS, in the core's order
//    (the first is where gdb starts): tid, general registers, FP registers
//    and XSAVE area when present, signal, masks, times.
//  - `process()`: NT_PRPSINFO (pid = the pid recorded in the core, fname,
//    psargs, ...), std::nullopt when absent; `auxv()`: NT_AUXV entries;
//    `signal()`: NT_SIGINFO's si_signo when present, `siginfo()` the
//    whole of it (code, faulting address).
//  - `mapped_files()`: the NT_FILE entries (path, start, end, file offset):
//    the mapped objects of the process; `file_check_of(i)` says whether
//    entry i's file may be read: `verified` (the build-id in the core's copy
//    of the object's first page equals the file's, elf::file::build_id()),
//    `unverified` (the core
//    holds no build-id for it: the first page was not dumped or has no
//    note), `mismatch` (the file on disk is another build: never read),
//    `missing` (cannot be opened), `not_checked` (not needed yet). Checks
//    run on first use, once per path.
//  - `maps()`: the NT_FILE entries as procfs::mapping records (stand-in
//    inodes per path), for code written against /proc/PID/maps, such as
//    elf::group_mapped_objects(core.maps(), 0).
//  - `segments()`: the PT_LOADs.
//  - A core file that ends early (an interrupted dump or copy, a core size
//    limit) is read as far as it goes: `truncated_segments()` (PT_LOADs cut
//    short), `truncated_notes()` (notes after the cut lost), and
//    `warnings()`, one line per fact a caller should show ("the core file
//    is truncated: ...").
//  - `local_file(path)`: the local file read for a path the core names
//    (after its check; empty when none could be opened).
// Options: `read_mapped_files` (default true); where each file the core
// names is looked for, in order: `substitutes` ({path in the core, local
// path} pairs: an --exe override), else the path under `sysroot` (a copy of
// the machine the core comes from; "/" when empty), then
// `search_path` DIR/NAME for each directory (a relocated application, as
// pystack's --lib-search-path). The first candidate whose build-id is the
// one the core holds wins; when none matches, the first that opens is
// judged (mismatch), so the report names the file it found.
// Errors: open: not_found/permission_denied opening the file,
// invalid_argument for a path that is not a regular file ("it is a
// directory"), and parse_core_header / parse_core_notes errors (malformed,
// unsupported, truncated, limit_exceeded); a core without threads is
// errc::malformed, or errc::truncated when the cut took them.
// Reads: errc::bad_address. Never reads outside the mapped file; a core
// file truncated by someone else *after* open can still raise SIGBUS (it is
// memory-mapped).
// Thread-safe: concurrent reads are (file checks are once-only under a
// mutex). Signal-safe: no.
// Target process: none (a dead process's file).
//
//   auto core = TRIAGE_TRY(triage::coredump::core_file::open("core.1234"));
//   for (const auto& t : core.threads()) fmt::print("{} {:#x}\n", t.tid, t.general.rip);
//   auto word = TRIAGE_TRY(triage::memory::read_object<std::uint64_t>(core, address));
//   for (const auto& f : core.mapped_files()) fmt::print("{} {:#x}\n", f.path, f.start);
#pragma once

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/path.hpp"
#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/coredump/core_notes.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/file.hpp"
#include "triage/elf/note.hpp"
#include "triage/memory/memory_source.hpp"
#include "triage/procfs/auxv.hpp"
#include "triage/procfs/maps.hpp"

namespace triage::coredump {

enum class file_check : std::uint8_t { not_checked, verified, unverified, mismatch, missing };

[[nodiscard]] constexpr std::string_view to_string(file_check c) noexcept {
    switch (c) {
    case file_check::not_checked: return "not checked";
    case file_check::verified: return "build-id matches";
    case file_check::unverified: return "no build-id in the core to compare";
    case file_check::mismatch: return "build-id differs: another build of the file";
    case file_check::missing: return "cannot be opened";
    }
    return "unknown";
}

struct core_file_options {
    bool read_mapped_files = true;
    std::vector<std::pair<std::string, std::string>> substitutes{};  // {path in the core, local path}
    std::string sysroot{};                                           // the core's "/" here; empty: "/"
    std::vector<std::string> search_path{};                          // directories searched by file name
};

class core_file {
public:
    [[nodiscard]] static result<core_file> open(const std::string& path, core_file_options options = {}) {
        unique_fd fd = TRIAGE_TRY(open_regular_file(path));
        struct ::stat st{};
        if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, "reading " + path);
        if (st.st_size == 0) return fail(errc::truncated, "reading " + path + ": the file is empty");
        void* base = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (base == MAP_FAILED) return fail_errno(errno, "mapping " + path);
        auto mapping = std::shared_ptr<void>(base, [size = static_cast<std::size_t>(st.st_size)](void* p) { ::munmap(p, size); });
        std::span<const std::byte> bytes{static_cast<const std::byte*>(base), static_cast<std::size_t>(st.st_size)};
        auto core = from_bytes(bytes, std::move(options));
        if (!core) return fail(std::move(core.error()).within("reading " + path));
        core->mapping_ = std::move(mapping);
        return core;
    }

    // `bytes` are borrowed: keep them alive as long as the core_file.
    [[nodiscard]] static result<core_file> from_bytes(std::span<const std::byte> bytes, core_file_options options = {}) {
        core_header header = TRIAGE_TRY(parse_core_header(bytes));
        core_notes notes = TRIAGE_TRY(parse_core_notes(header.notes));
        if (notes.threads.empty()) {
            if (header.truncated_notes)
                return fail(errc::truncated, "reading a core file", "the file ends inside its notes, before the first thread's");
            return fail(errc::malformed, "reading a core file: no NT_PRSTATUS note, so no threads");
        }
        core_file core{bytes, std::move(header), std::move(notes), std::move(options)};
        auto auxv = procfs::parse_auxv(core.notes_.auxv);
        if (auxv) core.auxv_ = std::move(*auxv);
        core.warn_of_truncation();
        return core;
    }

    [[nodiscard]] const std::vector<core_thread>& threads() const noexcept { return notes_.threads; }
    [[nodiscard]] const std::optional<core_process>& process() const noexcept { return notes_.process; }
    [[nodiscard]] std::span<const procfs::auxv_entry> auxv() const noexcept { return auxv_; }
    [[nodiscard]] std::optional<int> signal() const noexcept { return notes_.signal; }
    [[nodiscard]] const std::optional<core_siginfo>& siginfo() const noexcept { return notes_.siginfo; }
    [[nodiscard]] const std::vector<mapped_file>& mapped_files() const noexcept { return notes_.files; }
    [[nodiscard]] const std::vector<load_segment>& segments() const noexcept { return header_.loads; }

    // The NT_FILE entries as /proc/PID/maps records, for code written
    // against procfs::mapping (elf::group_mapped_objects(core.maps(), 0)):
    // permissions from the PT_LOAD at the same address, `deleted` from the
    // " (deleted)" suffix (removed from the path), dev 0 and, since a core
    // records no inode, a stand-in inode per distinct path (1, 2, ...), so
    // that grouping by (dev, inode) groups by path.
    [[nodiscard]] std::vector<procfs::mapping> maps() const {
        std::vector<procfs::mapping> out;
        std::vector<std::string> paths;
        for (std::size_t index : by_start_) {
            const mapped_file& f = notes_.files[index];
            procfs::mapping m;
            m.start = f.start;
            m.end = f.end;
            m.offset = f.offset;
            m.path = f.path;
            constexpr std::string_view deleted_suffix = " (deleted)";
            if (m.path.ends_with(deleted_suffix)) {
                m.deleted = true;
                m.path.resize(m.path.size() - deleted_suffix.size());
            }
            auto known = std::find(paths.begin(), paths.end(), m.path);
            m.inode = static_cast<std::uint64_t>(known - paths.begin()) + 1;
            if (known == paths.end()) paths.push_back(m.path);
            if (const load_segment* s = segment_at(f.start)) {
                m.readable = (s->flags & PF_R) != 0;
                m.writable = (s->flags & PF_W) != 0;
                m.executable = (s->flags & PF_X) != 0;
            }
            out.push_back(std::move(m));
        }
        return out;
    }
    [[nodiscard]] std::size_t truncated_segments() const noexcept { return header_.truncated_segments; }
    [[nodiscard]] bool truncated_notes() const noexcept { return header_.truncated_notes; }
    // What a reader of this core should be told (empty for a whole core).
    [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }

    // Runs the check of mapped file `index` if it has not run yet.
    [[nodiscard]] file_check file_check_of(std::size_t index) const {
        if (index >= notes_.files.size()) return file_check::missing;
        return backing(index).check;
    }

    // The local file read for `path` as the core names it (" (deleted)"
    // included or not); empty when none could be opened or the core names
    // no such file.
    [[nodiscard]] std::string local_file(std::string_view path) const {
        for (std::size_t i = 0; i < notes_.files.size(); ++i) {
            std::string_view named = notes_.files[i].path;
            if (named != path && !(named.starts_with(path) && named.substr(path.size()) == " (deleted)")) continue;
            return backing(i).local;
        }
        return {};
    }

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) const {
        std::size_t done = 0;
        // Each round copies at least one byte or stops, and moves to the next
        // segment or file entry.
        while (done < into.size()) {
            std::uint64_t at = address + done;
            if (at < address) break;  // wrapped around
            std::span<std::byte> rest = into.subspan(done);
            std::size_t n = read_held(at, rest);
            if (n == 0 && !cut_off(at)) n = read_mapped(at, rest);
            if (n == 0) break;
            done += n;
        }
        if (done == 0 && !into.empty())
            return fail(errc::bad_address, "reading " + hex(address) + " in the core",
                        cut_off(address) ? "the core file is truncated before these bytes" : "the core holds no bytes there");
        return done;
    }

    [[nodiscard]] result<void> read_batch(std::span<memory::read_request> requests) const {
        for (auto& request : requests) {
            auto n = read(request.address, request.into);
            request.bytes_read = n ? *n : 0;
        }
        return {};
    }

private:
    struct file_backing {
        std::once_flag once;
        file_check check = file_check::not_checked;
        unique_fd fd;
        std::string local;  // the file opened
    };

    core_file(std::span<const std::byte> bytes, core_header header, core_notes notes, core_file_options options)
        : bytes_{bytes}, header_{std::move(header)}, notes_{std::move(notes)}, options_{std::move(options)} {
        backings_.reserve(notes_.files.size());
        for (std::size_t i = 0; i < notes_.files.size(); ++i) backings_.push_back(std::make_unique<file_backing>());
        // Files sorted by start, for lookups (NT_FILE is in address order already, but need not be).
        by_start_.resize(notes_.files.size());
        for (std::size_t i = 0; i < by_start_.size(); ++i) by_start_[i] = i;
        std::sort(by_start_.begin(), by_start_.end(),
                  [&](std::size_t a, std::size_t b) { return notes_.files[a].start < notes_.files[b].start; });
    }

    [[nodiscard]] const load_segment* segment_at(std::uint64_t address) const noexcept {
        const auto& loads = header_.loads;
        auto it = std::upper_bound(loads.begin(), loads.end(), address,
                                   [](std::uint64_t a, const load_segment& s) { return a < s.start; });
        if (it == loads.begin()) return nullptr;
        --it;
        return address < it->end ? &*it : nullptr;
    }

    // A byte the core held, but past the end of the truncated file.
    [[nodiscard]] bool cut_off(std::uint64_t address) const noexcept {
        const load_segment* s = segment_at(address);
        return s != nullptr && address - s->start >= s->held && address - s->start < s->file_size;
    }

    void warn_of_truncation() {
        if (header_.truncated_notes)
            warnings_.push_back("the core file is truncated inside its notes: only the " + std::to_string(notes_.threads.size()) +
                                " threads and the facts recorded before the cut were read");
        if (header_.truncated_segments == 0) return;
        std::uint64_t missing = 0;
        for (const load_segment& s : header_.loads) missing += s.file_size - s.held;
        warnings_.push_back("the core file is truncated: " + std::to_string(header_.truncated_segments) + " of its " +
                            std::to_string(header_.loads.size()) + " memory segments end past the end of the file (" +
                            std::to_string(missing) + " bytes missing); memory there reads as unavailable");
    }

    // Bytes the core itself holds at `address`.
    [[nodiscard]] std::size_t read_held(std::uint64_t address, std::span<std::byte> into) const noexcept {
        const load_segment* s = segment_at(address);
        if (s == nullptr || address - s->start >= s->held) return 0;
        std::uint64_t offset = address - s->start;
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), s->held - offset));
        std::memcpy(into.data(), bytes_.data() + s->file_offset + offset, n);
        return n;
    }

    // Bytes of the mapped file at `address`, up to the next byte the core holds.
    [[nodiscard]] std::size_t read_mapped(std::uint64_t address, std::span<std::byte> into) const {
        if (!options_.read_mapped_files) return 0;
        const auto& files = notes_.files;
        auto it = std::upper_bound(by_start_.begin(), by_start_.end(), address,
                                   [&](std::uint64_t a, std::size_t i) { return a < files[i].start; });
        if (it == by_start_.begin()) return 0;
        std::size_t index = *std::prev(it);
        const mapped_file& f = files[index];
        if (!f.contains(address)) return 0;
        const file_backing& b = backing(index);
        if (b.check != file_check::verified && b.check != file_check::unverified) return 0;
        // A PT_LOAD holds a prefix of its mapping, so past `address` up to the
        // end of this entry the core holds nothing: read it all from the file.
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), f.end - address));
        ssize_t n = ::pread(b.fd.get(), into.data(), want, static_cast<off_t>(f.offset + (address - f.start)));
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }

    [[nodiscard]] const file_backing& backing(std::size_t index) const {
        file_backing& b = *backings_[index];
        std::call_once(b.once, [&] { check_file(index, b); });
        return b;
    }

    // Where the file the core names as `named` may be here, in the order of
    // core_file_options. A path the process saw deleted is looked for
    // without " (deleted)": it may be back (a reinstall), and the build-id
    // check says whether it is the same file.
    [[nodiscard]] std::vector<std::string> candidates(const std::string& named) const {
        for (const auto& [from, to] : options_.substitutes)
            if (from == named) return {to};
        const std::string path = without_deleted(named);
        std::vector<std::string> out{under_root(options_.sysroot, path)};
        for (const std::string& dir : options_.search_path)
            if (!dir.empty()) out.push_back(under_root(dir, std::string{"/"} + std::string{file_name(path)}));
        return out;
    }

    void check_file(std::size_t index, file_backing& b) const {
        const mapped_file& f = notes_.files[index];
        // The object's first page as the core holds it: the mapping of this
        // path at file offset 0.
        std::vector<std::byte> in_core;
        for (const mapped_file& other : notes_.files) {
            if (other.path != f.path || other.offset != 0) continue;
            in_core = elf::build_id_in_image([&](std::uint64_t offset, std::span<std::byte> into) -> std::size_t {
                if (offset > other.end - other.start || into.size() > other.end - other.start - offset) return 0;
                return read_held(other.start + offset, into);
            });
            break;
        }
        b.check = file_check::missing;
        for (const std::string& local : candidates(f.path)) {
            int fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            unique_fd owned{fd};
            file_check check = file_check::unverified;
            if (!in_core.empty()) {
                auto on_disk = elf::file::open(local);
                auto on_disk_id = on_disk ? on_disk->build_id() : std::nullopt;
                check = on_disk_id && *on_disk_id == in_core ? file_check::verified : file_check::mismatch;
            }
            // The first file found is kept unless a later one is the very build.
            if (b.check == file_check::missing || check != file_check::mismatch) {
                b.check = check;
                b.fd = std::move(owned);
                b.local = local;
            }
            if (check != file_check::mismatch) return;
        }
    }

    std::span<const std::byte> bytes_;
    std::shared_ptr<void> mapping_;  // the mmap of open(); empty for from_bytes
    core_header header_;
    core_notes notes_;
    core_file_options options_;
    std::vector<procfs::auxv_entry> auxv_;
    std::vector<std::unique_ptr<file_backing>> backings_;
    std::vector<std::size_t> by_start_;
    std::vector<std::string> warnings_;
};

static_assert(memory::memory_source<core_file>);
static_assert(memory::memory_source<const core_file>);

} // namespace triage::coredump
