// triage/plt/call_sites.hpp — where an object's calls to imported functions
// land: its PLT stubs and GOT slots, found from its sections and
// relocations (x86-64).
//
// Offers: `call_site{function, stub, got, kind}` and `call_sites(file)`,
// every imported function of one ELF object (executable, shared library,
// static executable), sorted by stub then name:
//  - `plt`: a classic lazy-binding stub in .plt (`jmp *GOT(%rip)`; also the
//    IRELATIVE stubs of a static executable, whose `function` is the name of
//    the ifunc symbol at the relocation's resolver, e.g. `memset`, or
//    `*ABS*+0x…` without a symbol table);
//  - `plt_sec`: the stub an IBT build (-fcf-protection, `-z ibtplt`) calls,
//    in .plt.sec (its .plt then holds only the lazy-binding half);
//  - `plt_got`: a stub in .plt.got, for a function whose address is also
//    taken (its slot has a GLOB_DAT relocation);
//  - `got_only`: a function called through its GOT slot with no stub at all
//    (-fno-plt; also a function whose address is only taken, and a slot no
//    stub could be matched to, so that none is lost): `stub` is 0,
//    and a tracer must count at the function the slot resolves to (read the
//    slot in the target).
// How: relocations name the slots (R_X86_64_JUMP_SLOT, R_X86_64_IRELATIVE,
// and R_X86_64_GLOB_DAT of a function symbol); each 8- or 16-byte entry of
// .plt, .plt.sec and .plt.got is matched to the slot its RIP-relative
// indirect jump (`ff 25`, after an optional endbr64 and bnd prefix) goes
// through. Entries that jump through no relocated slot (PLT0, the lazy
// halves of an IBT .plt) are not call sites. BIND_NOW objects have the same
// stubs; only the slots are filled at load time.
// `stub` and `got` are file addresses: add the load bias of the mapped object.
// Errors: errc::unsupported for another machine than x86-64; errc::malformed
// for a relocation section whose entries libelf cannot read. An object
// without relocations (a Go binary, a static one without ifuncs) has no call
// sites: an empty list, not an error.
// Thread-safe: as elf::file (one file per thread). Signal-safe: no.
// Target process: none touched (reads the file).
//
//   auto libpython = TRIAGE_TRY(triage::elf::file::open(path));
//   for (const auto& site : TRIAGE_TRY(triage::plt::call_sites(libpython)))
//       fmt::print("{}@plt at {:#x} via {:#x}\n", site.function, site.stub, site.got);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/file.hpp"

namespace triage::plt {

enum class stub_kind : std::uint8_t {
    plt,       // .plt (classic; static executables' IRELATIVE stubs)
    plt_sec,   // .plt.sec (IBT)
    plt_got,   // .plt.got
    got_only,  // no stub: called through the GOT slot (-fno-plt)
};

[[nodiscard]] constexpr std::string_view to_string(stub_kind k) noexcept {
    switch (k) {
    case stub_kind::plt: return "plt";
    case stub_kind::plt_sec: return "plt.sec";
    case stub_kind::plt_got: return "plt.got";
    case stub_kind::got_only: return "got";
    }
    return "unknown";
}

struct call_site {
    std::string function;   // the imported symbol (a static executable's ifunc: its name)
    std::uint64_t stub = 0;  // file address of the stub the calls land on; 0 for got_only
    std::uint64_t got = 0;   // file address of the GOT slot the stub (or the call) jumps through
    stub_kind kind = stub_kind::plt;

    friend bool operator==(const call_site&, const call_site&) = default;
};

[[nodiscard]] TRIAGE_DECL result<std::vector<call_site>> call_sites(const elf::file& object);

} // namespace triage::plt

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/plt/impl/call_sites.ipp"
#endif
