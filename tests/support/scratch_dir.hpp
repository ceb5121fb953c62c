// A scratch directory for one test (under $TMPDIR or /tmp), removed with
// everything in it when the object goes, also when the test fails.
//
// Errors: std::runtime_error when it cannot be created; removal errors are
// ignored. Thread safety: one object per thread.
//
//   triage::test_support::scratch_dir dir{"elf"};
//   std::string lib = dir / "libprobe.so";
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace triage::test_support {

class scratch_dir {
public:
    // `purpose` names it: /tmp/triage-<purpose>-XXXXXX.
    explicit scratch_dir(std::string_view purpose = "test") {
        std::string name =
            (std::filesystem::temp_directory_path() / ("triage-" + std::string{purpose} + "-XXXXXX")).string();
        if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("cannot create a scratch directory " + name);
        path_ = std::move(name);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    // The path of `name` inside the directory.
    [[nodiscard]] std::string operator/(std::string_view name) const { return path_ + "/" + std::string{name}; }

    // The names of the entries in the directory (not recursive), sorted.
    [[nodiscard]] std::vector<std::string> entries() const {
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(path_)) names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

private:
    std::string path_;
};

} // namespace triage::test_support
