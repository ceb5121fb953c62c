// triage/procfs/short_string.hpp — a bounded string stored inline.
//
// Offers: `short_string<N>`: up to N bytes kept inside the object, so that
// per-thread records (a thread's name, its wait channel) cost no allocation
// in a sweep over thousands of threads. Longer text is cut at N bytes and
// `truncated()` says so. Thread names are at most 64 bytes in Linux (16 for
// user threads) and wait channels are kernel symbol names.
// Thread-safe: values only. Signal-safe: yes. Target process: none touched.
//
//   triage::procfs::short_string<64> name{"worker-1"};
//   fmt::print("{}\n", name.view());
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace triage::procfs {

template <std::size_t N>
class short_string {
public:
    constexpr short_string() noexcept = default;
    constexpr explicit short_string(std::string_view text) noexcept { assign(text); }

    constexpr void assign(std::string_view text) noexcept {
        size_ = std::min(text.size(), N);
        truncated_ = text.size() > N;
        std::copy_n(text.data(), size_, bytes_.data());
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {bytes_.data(), size_}; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] constexpr bool truncated() const noexcept { return truncated_; }
    static constexpr std::size_t capacity = N;

    friend constexpr bool operator==(const short_string& a, std::string_view b) noexcept { return a.view() == b; }

private:
    std::array<char, N> bytes_{};
    std::size_t size_ = 0;
    bool truncated_ = false;
};

} // namespace triage::procfs
