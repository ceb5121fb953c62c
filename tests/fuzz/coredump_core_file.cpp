// Fuzzes the core file reader on whole files: the ELF header, the program
// headers (PN_XNUM included), the notes, and reads of memory at addresses
// the file names (segment starts and ends, NT_FILE entries, register values)
// must fail with errors, never crash or read outside the input. Mapped files
// named by the input are not opened (read_mapped_files = false).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "triage/coredump/core_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = std::as_bytes(std::span(data, size));
    triage::coredump::core_file_options options;
    options.read_mapped_files = false;
    auto core = triage::coredump::core_file::from_bytes(bytes, options);
    if (!core) return 0;
    std::vector<std::uint64_t> addresses;
    for (const auto& s : core->segments()) {
        addresses.push_back(s.start);
        addresses.push_back(s.end - 1);
        addresses.push_back(s.start + s.held / 2);
    }
    for (const auto& f : core->mapped_files()) addresses.push_back(f.start);
    for (const auto& t : core->threads()) addresses.push_back(t.general.rsp);
    std::vector<std::byte> buffer(8192);
    std::vector<triage::memory::read_request> batch;
    std::size_t total = 0;
    for (std::uint64_t a : addresses) {
        if (batch.size() == 64) break;
        auto n = core->read(a, buffer);
        if (n && *n > buffer.size()) __builtin_trap();
        if (n) total += *n;
        batch.push_back(triage::memory::read_request{a, std::span{buffer}.first(64), 0});
    }
    if (!core->read_batch(batch)) __builtin_trap();
    for (const auto& r : batch)
        if (r.bytes_read > r.into.size()) __builtin_trap();
    (void)core->process();
    (void)core->auxv();
    return static_cast<int>(total & 0);
}
