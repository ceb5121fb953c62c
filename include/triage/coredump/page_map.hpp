// triage/coredump/page_map.hpp — which pages of a process are in memory or
// swapped out (/proc/PID/pagemap), as runs of consecutive pages.
//
// Offers: `page_run{address, size}`, `page_map::open(pid)` and
// `page_map::resident_runs(start, end, out)`, which appends the runs of
// pages in [start, end) whose pagemap entry has bit 63 (present) or bit 62
// (swapped) set. Those are the pages that may hold data: an anonymous page
// that is neither was never written and reads as zeros; a file page that is
// neither is still in the file. The present and swapped bits need no
// privilege (only the frame numbers need CAP_SYS_ADMIN, and they are not
// used). Entries are read 64k at a time (512 KiB per read).
// Errors: errc::no_such_process when the process is gone,
// permission_denied, bad_address for a range the kernel refuses.
// Thread-safe: distinct objects. Signal-safe: no.
// Target process: reads a /proc file; the kernel walks the target's page
// tables; the target is neither stopped nor faulted.
//
//   auto pages = TRIAGE_TRY(triage::coredump::page_map::open(pid));
//   std::vector<triage::coredump::page_run> runs;
//   TRIAGE_TRY(pages.resident_runs(m.start, m.end, runs));
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/base/text.hpp"
#include "triage/base/unique_fd.hpp"

namespace triage::coredump {

inline constexpr std::uint64_t page_size = 4096;

struct page_run {
    std::uint64_t address = 0;
    std::uint64_t size = 0;
};

class page_map {
public:
    [[nodiscard]] static result<page_map> open(pid_t pid) {
        std::string path = "/proc/" + std::to_string(pid) + "/pagemap";
        auto fd = open_file(path);
        if (!fd) {
            error e = std::move(fd.error());
            if (e.code == errc::not_found) e.code = errc::no_such_process;
            return fail(std::move(e));
        }
        return page_map{std::move(*fd), std::move(path)};
    }

    // Appends to `out`, merging with its last run when adjacent.
    [[nodiscard]] result<void> resident_runs(std::uint64_t start, std::uint64_t end, std::vector<page_run>& out) {
        constexpr std::uint64_t present = std::uint64_t{1} << 63;
        constexpr std::uint64_t swapped = std::uint64_t{1} << 62;
        entries_.resize(entries_per_read);
        std::uint64_t page = start / page_size;
        const std::uint64_t last = (end + page_size - 1) / page_size;
        while (page < last) {
            std::uint64_t want = std::min<std::uint64_t>(entries_per_read, last - page);
            ssize_t n = ::pread(fd_.get(), entries_.data(), want * sizeof(std::uint64_t),
                                static_cast<off_t>(page * sizeof(std::uint64_t)));
            if (n < 0) {
                if (errno == EINTR) continue;
                error e = error::from_errno(errno, "reading " + path_ + " at " + hex(page * page_size));
                if (errno == ESRCH) e.code = errc::no_such_process;
                return fail(std::move(e));
            }
            std::uint64_t got = static_cast<std::uint64_t>(n) / sizeof(std::uint64_t);
            if (got == 0) return fail(errc::bad_address, "reading " + path_ + " at " + hex(page * page_size));
            for (std::uint64_t i = 0; i < got; ++i) {
                if ((entries_[i] & (present | swapped)) == 0) continue;
                std::uint64_t address = (page + i) * page_size;
                if (!out.empty() && out.back().address + out.back().size == address) {
                    out.back().size += page_size;
                } else {
                    out.push_back(page_run{address, page_size});
                }
            }
            page += got;
        }
        return {};
    }

private:
    static constexpr std::uint64_t entries_per_read = 1u << 16;

    page_map(unique_fd fd, std::string path) : fd_{std::move(fd)}, path_{std::move(path)} {}

    unique_fd fd_;
    std::string path_;
    std::vector<std::uint64_t> entries_;
};

} // namespace triage::coredump
