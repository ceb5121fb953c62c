// triage/report/progress.hpp — sizes for people and a progress bar for long
// copies, as the example programs print them.
//
// Offers: `human_bytes(n)` ("1.5 GiB", "512 B"); `progress_bar`, whose
// `update(done, total)` draws "[####......]  40% 1.2 GiB of 3.0 GiB" on
// stderr — only when stderr is a terminal and only once the work has taken
// more than a second — and whose destructor erases the line it drew.
// Thread-safe: no (one bar per thread). Signal-safe: no.
// Target process: none touched.
//
//   triage::report::progress_bar bar;
//   options.write.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "triage/base/config.hpp"

namespace triage::report {

[[nodiscard]] TRIAGE_DECL std::string human_bytes(std::uint64_t n);

class progress_bar {
public:
    progress_bar() : enabled_{::isatty(STDERR_FILENO) == 1}, start_{std::chrono::steady_clock::now()} {}
    progress_bar(const progress_bar&) = delete;
    progress_bar& operator=(const progress_bar&) = delete;
    ~progress_bar() {
        if (shown_) fmt::print(stderr, "\r\033[K");
    }

    void update(std::uint64_t done, std::uint64_t total) {
        if (!enabled_ || total == 0) return;
        if (std::chrono::steady_clock::now() - start_ < std::chrono::seconds{1}) return;
        constexpr int width = 30;
        const double share = static_cast<double>(done) / static_cast<double>(total);
        const int filled = static_cast<int>(share * width);
        fmt::print(stderr, "\r[{:#<{}}{:.<{}}] {:3.0f}% {} of {}", "", filled, "", width - filled, 100.0 * share,
                   human_bytes(done), human_bytes(total));
        std::fflush(stderr);
        shown_ = true;
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_;
};

} // namespace triage::report

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/report/impl/progress.ipp"
#endif
