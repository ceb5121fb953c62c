// The sorted symbol index names what dwfl_module_addrinfo names, on every
// object of real processes (Debian's python3.11 with its debug file,
// libc with versioned aliases such as __libc_start_main@GLIBC_2.2.5 and
// clone3/__clone3 at one address, a pyenv build with DWARF, libstdc++'s
// weak and local C++ symbols): at symbols' first and last bytes, middles,
// the bytes after their ends, and addresses spread over every object's
// span, about 2,000 per object. Where the index declines (no sized symbol contains the
// address), symbolize asks libdwfl, so only its answers are compared.
#include <doctest/doctest.h>

#include <elfutils/libdwfl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "support/failure_text.hpp"
#include "support/interpreters.hpp"
#include "support/victim.hpp"
#include "triage/unwind/detail/symbol_index.hpp"
#include "triage/unwind/module_set.hpp"

using triage::test_support::failure_text;

using namespace triage;

namespace {

struct tally {
    std::size_t compared = 0;
    std::size_t declined = 0;
};

void compare_module(Dwfl_Module* module, tally& counts) {
    const auto index = unwind::detail::symbol_index::of(module);
    std::vector<std::uint64_t> addresses;
    const int count = ::dwfl_module_getsymtab(module);
    for (int i = 1; i < count; ++i) {
        GElf_Sym symbol{};
        GElf_Addr value = 0;
        if (::dwfl_module_getsym_info(module, i, &symbol, &value, nullptr, nullptr, nullptr) == nullptr || value == 0)
            continue;
        for (std::uint64_t at : {value, value + symbol.st_size / 2, value + symbol.st_size - 1, value + symbol.st_size})
            addresses.push_back(at);
    }
    Dwarf_Addr low = 0, high = 0;
    (void)::dwfl_module_info(module, nullptr, &low, &high, nullptr, nullptr, nullptr, nullptr);
    for (std::uint64_t at = low; high > low && at < high; at += std::max<std::uint64_t>((high - low) / 4096, 1))
        addresses.push_back(at);
    const char* object = ::dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    // libdwfl's answer costs a scan of the whole table: at most ~2,000
    // addresses per module, spread over all of them.
    const std::size_t stride = std::max<std::size_t>(addresses.size() / 2000, 1);
    for (std::size_t i = 0; i < addresses.size(); i += stride) {
        const std::uint64_t at = addresses[i];
        auto ours = index.find(at);
        if (!ours) {
            ++counts.declined;
            continue;
        }
        GElf_Off offset = 0;
        GElf_Sym symbol{};
        const char* theirs = ::dwfl_module_addrinfo(module, at, &offset, &symbol, nullptr, nullptr, nullptr);
        ++counts.compared;
        INFO(object << " at " << std::hex << at);
        REQUIRE(theirs != nullptr);
        REQUIRE(std::string{ours->name} == theirs);
        REQUIRE(at - ours->start == offset);
    }
}

void compare_process(pid_t pid, const std::string& label) {
    CAPTURE(label);
    auto modules = unwind::module_set::of_process(pid);
    REQUIRE_MESSAGE(modules, failure_text(modules));
    tally counts;
    std::size_t objects = 0;
    // Collected first: a failed REQUIRE throws, and must not cross libdwfl's C frames.
    std::vector<Dwfl_Module*> all;
    ::dwfl_getmodules(
        modules->handle(),
        [](Dwfl_Module* module, void**, const char*, Dwarf_Addr, void* arg) -> int {
            static_cast<std::vector<Dwfl_Module*>*>(arg)->push_back(module);
            return DWARF_CB_OK;
        },
        &all, 0);
    for (Dwfl_Module* module : all) compare_module(module, counts);
    for (const auto& o : modules->objects()) objects += o.executable() ? 1 : 0;
    MESSAGE(label << ": " << counts.compared << " addresses named alike in " << objects << " code objects, "
                  << counts.declined << " left to libdwfl");
    CHECK(counts.compared > 2000);
}

} // namespace

TEST_CASE("the symbol index names every address as dwfl_module_addrinfo does") {
    const char* const park = "import sys, time\nprint('ready', flush=True)\ntime.sleep(600)\n";
    for (const auto& python : test_support::machine_interpreters()) {
        if (python.path != "/usr/bin/python3.11" && python.label != "pyenv 3.11.7") continue;
        test_support::victim v{{python.path, "-c", park}};
        compare_process(v.pid(), python.label);
    }
    compare_process(::getpid(), "this test program (libstdc++, libdw, libelf)");
}
