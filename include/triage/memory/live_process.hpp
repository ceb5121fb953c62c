// triage/memory/live_process.hpp — a memory_source over a running process:
// process_vm_readv with many ranges per system call, or /proc/PID/mem.
//
// Offers: `access_method` {automatic, vm_readv, proc_mem};
// `live_process::open(pid, method)` → result<live_process>; `read` (partial:
// the readable prefix), `read_batch`, `pid()`, `method()` (the mechanism
// actually in use).
// read_batch over process_vm_readv sorts the requests by address, merges
// neighbours (a request starting in a page the range already touches, or in
// the next page) into one remote range of at most 256 KiB, and hands up to
// IOV_MAX ranges to each process_vm_readv. The kernel stops at the first range
// that faults: the requests before the fault are complete, a request running
// into it gets its readable prefix (0 if none), and the requests after it are
// read by the next call. Unreadable requests cost a call each.
// `automatic` probes process_vm_readv at open (a 1-byte read at address 0,
// which the kernel answers with EFAULT once it has checked the pid and the
// permission) and falls back to /proc/PID/mem when the call is unavailable
// (ENOSYS) or refused (EPERM, e.g. by a container's seccomp filter).
// Protections: process_vm_readv honours them (a PROT_NONE page is
// unreadable); /proc/PID/mem reads through them like a debugger does.
// Errors: open: no_such_process, permission_denied (hint: root,
// CAP_SYS_PTRACE, ptrace_scope, seccomp), unsupported (vm_readv forced but
// ENOSYS), invalid_argument (pid <= 0). read: bad_address with the address
// and pid ("unreadable address reading 0x7f00 in process 12") when not even
// the first byte is readable; no_such_process once the process has exited
// (also as a zombie). read_batch fails only when the whole source does
// (no_such_process, permission_denied).
// Caveat: process_vm_readv names the target by pid; a pid reused after the
// target exited would be read. proc_mem holds the address space itself.
// Thread-safe: yes (no shared mutable state). Signal-safe: read yes;
// read_batch no (allocates its plan).
// Target process: reads only; never stops or signals it.
//
//   auto mem = TRIAGE_TRY(triage::memory::live_process::open(pid));
//   std::array<std::byte, 16> a{}, b{};
//   std::array<read_request, 2> batch{read_request{0x7f0010, a}, read_request{0x7f2000, b}};
//   TRIAGE_TRY(mem.read_batch(batch));   // one system call; batch[i].bytes_read
//   auto word = TRIAGE_TRY(triage::memory::read_object<std::uint64_t>(mem, 0x7f0010));
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "triage/base/result.hpp"
#include "triage/memory/detail/remote_read_error.hpp"
#include "triage/memory/memory_source.hpp"
#include "triage/memory/proc_mem.hpp"

namespace triage::memory {

enum class access_method : std::uint8_t {
    automatic,  // process_vm_readv, else /proc/PID/mem when it is unavailable or refused
    vm_readv,   // process_vm_readv only
    proc_mem,   // /proc/PID/mem only
};

class live_process {
public:
    // Most ranges handed to one process_vm_readv (the kernel's UIO_MAXIOV).
    static constexpr std::size_t max_ranges_per_call = IOV_MAX;

    [[nodiscard]] static result<live_process> open(pid_t pid, access_method method = access_method::automatic) {
        if (pid <= 0) return fail(errc::invalid_argument, "opening the memory of process " + std::to_string(pid));
        if (method == access_method::proc_mem) return live_process{pid, TRIAGE_TRY(proc_mem::open(pid))};

        std::byte probe{};
        iovec local{&probe, 1};
        iovec remote{nullptr, 1};
        ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
        int e = n < 0 ? errno : 0;
        if (n >= 0 || e == EFAULT) return live_process{pid};  // pid and permission checked
        if (e == ESRCH) return fail(detail::remote_read_error(e, pid, 0, {}));
        bool refused = e == EPERM || e == EACCES;
        if (method == access_method::automatic && (refused || e == ENOSYS)) {
            return live_process{pid, TRIAGE_TRY(proc_mem::open(pid))};
        }
        if (e == ENOSYS) {
            return fail(error{errc::unsupported, e, detail::process_context(pid, "process_vm_readv"),
                              "this kernel or a seccomp filter does not offer process_vm_readv; use "
                              "access_method::proc_mem or automatic"});
        }
        return fail(detail::remote_read_error(e, pid, 0, "process_vm_readv"));
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    // vm_readv or proc_mem: what open() chose.
    [[nodiscard]] access_method method() const noexcept {
        return file_ ? access_method::proc_mem : access_method::vm_readv;
    }

    [[nodiscard]] result<std::size_t> read(std::uint64_t address, std::span<std::byte> into) const {
        if (file_) return file_->read(address, into);
        return read_prefix(address, into);
    }

    [[nodiscard]] result<void> read_batch(std::span<read_request> requests) const {
        if (file_) return file_->read_batch(requests);

        // The requests by address, so that neighbours can share one range.
        std::vector<pending_read> order;
        order.reserve(requests.size());
        for (std::size_t i = 0; i < requests.size(); ++i) {
            requests[i].bytes_read = 0;
            if (!requests[i].into.empty()) order.push_back(pending_read{requests[i].address, i});
        }
        sort_by_address(order);

        std::vector<remote_range> ranges;
        std::vector<iovec> local;
        std::vector<iovec> remote;
        std::unique_ptr<std::byte[]> scratch;  // not zeroed; as large as the neediest round so far
        std::size_t scratch_size = 0;
        std::size_t next = 0;  // order[0, next) is settled
        // Every round settles at least one request: bounded by their number.
        while (next < order.size()) {
            std::size_t scratch_needed = plan_round(requests, order, next, ranges);
            if (scratch_needed > scratch_size) {
                scratch = std::make_unique_for_overwrite<std::byte[]>(scratch_needed);
                scratch_size = scratch_needed;
            }
            local.clear();
            remote.clear();
            for (const remote_range& r : ranges) {
                std::byte* into = r.in_scratch ? scratch.get() + r.scratch_offset
                                               : requests[order[r.first].index].into.data();
                local.push_back(iovec{into, r.size});
                remote.push_back(iovec{reinterpret_cast<void*>(r.address), r.size});
            }
            ssize_t n = ::process_vm_readv(pid_, local.data(), local.size(), remote.data(), remote.size(), 0);
            if (n < 0) {
                int e = errno;
                if (e != EFAULT) return fail(detail::remote_read_error(e, pid_, ranges.front().address, "process_vm_readv"));
                n = 0;  // the first range is unreadable from its first byte
            }
            // The kernel copies the ranges in order and stops at the first one
            // that faults: every range before it is complete. Current kernels
            // copy that range up to the fault; the man page promises only
            // whole-iovec granularity, so prefixes are checked by read_prefix.
            auto copied = static_cast<std::size_t>(n);
            next = ranges.back().last;
            for (const remote_range& r : ranges) {
                if (copied >= r.size) {
                    deliver(requests, order, r, scratch.get(), r.address + r.size);
                    copied -= r.size;
                    continue;
                }
                next = TRIAGE_TRY(settle_fault(requests, order, r, scratch.get(), r.address + copied));
                break;
            }
        }
        return {};
    }

private:
    // Ranges of neighbouring requests are merged when the next request starts
    // in a page the range touches or in the page after (so no page that no
    // request asked for is read), up to this many bytes per range.
    static constexpr std::uint64_t page_size = 4096;
    static constexpr std::size_t max_merged_bytes = 256 * 1024;
    static constexpr std::size_t max_scratch_bytes = 1024 * 1024;  // per system call

    struct pending_read {
        std::uint64_t address;
        std::size_t index;  // into the caller's requests
    };

    // One remote iovec: the requests order[first, last), read into the first
    // request's own buffer when it is alone, else into scratch.
    struct remote_range {
        std::uint64_t address;
        std::size_t size;
        std::size_t first;
        std::size_t last;
        bool in_scratch;
        std::size_t scratch_offset;
    };

    // Sorts by address: a radix sort on the offsets from the lowest address
    // (11 bits a pass, as many passes as the spread of addresses needs).
    static void sort_by_address(std::vector<pending_read>& order) {
        auto by_address = [](const pending_read& a, const pending_read& b) { return a.address < b.address; };
        if (std::is_sorted(order.begin(), order.end(), by_address)) return;
        if (order.size() < 512) {
            std::sort(order.begin(), order.end(), by_address);
            return;
        }
        auto [low, high] = std::minmax_element(order.begin(), order.end(), by_address);
        std::uint64_t base = low->address;
        std::uint64_t spread = high->address - base;
        constexpr unsigned digit_bits = 11;
        constexpr std::size_t buckets = std::size_t{1} << digit_bits;
        std::vector<pending_read> other(order.size());
        std::vector<std::size_t> count(buckets);
        for (unsigned shift = 0; shift < 64 && (spread >> shift) != 0; shift += digit_bits) {
            std::fill(count.begin(), count.end(), 0);
            for (const pending_read& p : order) ++count[((p.address - base) >> shift) & (buckets - 1)];
            std::size_t sum = 0;
            for (std::size_t& c : count) sum += std::exchange(c, sum);
            for (const pending_read& p : order) other[count[((p.address - base) >> shift) & (buckets - 1)]++] = p;
            order.swap(other);
        }
    }

    // Up to IOV_MAX ranges (and max_scratch_bytes of scratch) from
    // order[next...]; returns the scratch bytes they need.
    static std::size_t plan_round(std::span<read_request> requests, const std::vector<pending_read>& order,
                                  std::size_t next, std::vector<remote_range>& ranges) {
        ranges.clear();
        std::size_t scratch_used = 0;
        std::size_t k = next;
        while (k < order.size() && ranges.size() < max_ranges_per_call) {
            std::uint64_t begin = order[k].address;
            std::uint64_t end = begin + requests[order[k].index].into.size();
            if (end < begin) end = ~std::uint64_t{0};  // wraps: the kernel will refuse it
            std::size_t last = k + 1;
            for (; last < order.size(); ++last) {
                const read_request& r = requests[order[last].index];
                std::uint64_t touched = (end + page_size - 1) / page_size * page_size;  // end of the last page
                std::uint64_t r_end = r.address + r.into.size();
                if (r_end < r.address || r.address >= touched + page_size) break;
                std::uint64_t merged_end = std::max(end, r_end);
                if (merged_end - begin > max_merged_bytes) break;
                end = merged_end;
            }
            bool in_scratch = last - k > 1;
            std::size_t size = static_cast<std::size_t>(end - begin);
            if (in_scratch && scratch_used + size > max_scratch_bytes && !ranges.empty()) break;
            ranges.push_back(remote_range{begin, size, k, last, in_scratch, scratch_used});
            if (in_scratch) scratch_used += size;
            k = last;
        }
        return scratch_used;
    }

    // Gives each request of range r its bytes below `readable_end`.
    static void deliver(std::span<read_request> requests, const std::vector<pending_read>& order,
                        const remote_range& r, const std::byte* scratch, std::uint64_t readable_end) {
        for (std::size_t k = r.first; k < r.last; ++k) {
            read_request& request = requests[order[k].index];
            if (request.address >= readable_end) break;
            std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(request.into.size(), readable_end - request.address));
            if (r.in_scratch) std::memcpy(request.into.data(), scratch + r.scratch_offset + (request.address - r.address), n);
            request.bytes_read = n;
        }
    }

    // Range r stopped short at `fault`. Settles the requests that start
    // before it (each gets its readable prefix; always at least the first
    // request) and returns where in `order` the next round resumes.
    [[nodiscard]] result<std::size_t> settle_fault(std::span<read_request> requests, const std::vector<pending_read>& order,
                                                   const remote_range& r, const std::byte* scratch,
                                                   std::uint64_t fault) const {
        deliver(requests, order, r, scratch, fault);
        std::size_t k = r.first;
        for (; k < r.last; ++k) {
            read_request& request = requests[order[k].index];
            if (request.address >= fault && k > r.first) break;
            if (request.bytes_read == request.into.size()) continue;  // wholly before the fault
            // It runs into the fault: find where its readable prefix ends.
            auto rest = read_prefix(request.address + request.bytes_read, request.into.subspan(request.bytes_read));
            if (rest) {
                request.bytes_read += *rest;
            } else if (rest.error().code != errc::bad_address) {
                return fail(std::move(rest.error()));
            }
        }
        return k;
    }

    explicit live_process(pid_t pid) noexcept : pid_{pid} {}
    live_process(pid_t pid, proc_mem file) noexcept : pid_{pid}, file_{std::move(file)} {}

    // One process_vm_readv after another until the range is read or faults.
    [[nodiscard]] result<std::size_t> read_prefix(std::uint64_t address, std::span<std::byte> into) const {
        std::size_t done = 0;
        // A short count without a fault is possible in principle (huge
        // ranges); each round copies at least one byte or ends the loop.
        for (std::size_t round = 0; done < into.size() && round < into.size(); ++round) {
            iovec local{into.data() + done, into.size() - done};
            iovec remote{reinterpret_cast<void*>(address + done), into.size() - done};
            ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
            if (n > 0) {
                done += static_cast<std::size_t>(n);
                continue;
            }
            int e = n < 0 ? errno : EFAULT;
            if (e == EFAULT && done > 0) break;  // the readable prefix
            return fail(detail::remote_read_error(e, pid_, address + done, "process_vm_readv"));
        }
        return done;
    }

    pid_t pid_;
    std::optional<proc_mem> file_;  // set when reading through /proc/PID/mem
};

static_assert(memory_source<live_process>);
static_assert(memory_source<const live_process>);

} // namespace triage::memory
