// Real /proc files captured on the development machine, kept as the fuzz
// seeds in tests/fuzz/corpus/, read back by the parser tests.
#pragma once

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace triage_test {

inline std::string corpus_file(const std::string& relative) {
    std::string path = std::string{TRIAGE_SOURCE_DIR} + "/tests/fuzz/corpus/" + relative;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("missing corpus file " + path);
    return std::string{std::istreambuf_iterator<char>{in}, {}};
}

} // namespace triage_test
