// Programs the debug-file tests build with cc -g, and their separate debug
// files made the way distributions make them (objcopy --only-keep-debug,
// strip, objcopy --add-gnu-debuglink). `mark` changes the code, so two marks
// are two builds with two build-ids. The program prints "ready" and waits
// for stdin to close or a signal.
#pragma once

#include <fstream>
#include <string>

#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"

namespace triage::elf_testing {

inline std::string build_debug_program(const test_support::scratch_dir& dir, const std::string& output, int mark) {
    const std::string source = dir / ("program" + std::to_string(mark) + ".c");
    std::ofstream{source} << "#include <stdio.h>\n#include <unistd.h>\n"
                             "__attribute__((noinline)) int triage_marked(int x) { return x * MARK; }\n"
                             "int main(void) { printf(\"ready %d\\n\", triage_marked(1)); fflush(stdout);\n"
                             "  for (;;) pause(); }\n";
    test_support::command_output({"cc", "-g", "-O1", "-Wl,--build-id", "-DMARK=" + std::to_string(mark), "-o", output, source});
    return output;
}

// Moves the DWARF and .symtab of `binary` into `debug_file`, strips the
// binary and, with `link`, records debug_file's name and CRC in it.
inline void split_debug_info(const std::string& binary, const std::string& debug_file, bool link = true) {
    test_support::command_output({"objcopy", "--only-keep-debug", binary, debug_file});
    test_support::command_output({"strip", "--strip-all", binary});
    if (link) test_support::command_output({"objcopy", "--add-gnu-debuglink=" + debug_file, binary});
}

} // namespace triage::elf_testing
