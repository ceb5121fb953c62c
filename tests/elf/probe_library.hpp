// The probe library the elf tests build with cc: `int triage_probe(int)`
// returning x * mark, so that different marks give different code and
// build-ids.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"

namespace triage::elf_testing {

// Builds `output` from a source written into `dir`; `flags` go to cc.
inline void build_probe_library(const test_support::scratch_dir& dir, const std::string& output, int mark,
                                const std::vector<std::string>& flags = {"-Wl,--build-id"}) {
    const std::string source = dir / "probe.c";
    std::ofstream{source} << "int triage_probe(int x) { return x * MARK; }\n";
    std::vector<std::string> cc{"cc", "-shared", "-fPIC", "-O1", "-DMARK=" + std::to_string(mark)};
    cc.insert(cc.end(), flags.begin(), flags.end());
    cc.insert(cc.end(), {"-o", output, source});
    test_support::command_output(std::move(cc));
}

} // namespace triage::elf_testing
