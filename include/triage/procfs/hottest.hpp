// triage/procfs/hottest.hpp — `| hottest(n)`: the n busiest threads.
//
// Offers: `hottest(n)`, a pipeable adaptor for any input range of records
// with a `cpu_percent` member (std::optional<double> or double; e.g. the
// `thread_cpu`s of cpu_sample.hpp). It materialises the range (a
// std::vector passed as an rvalue is moved, not copied) and returns a
// std::vector of at most n records, CPU descending; records without a
// percentage go last; ties are broken by ascending tid (`stat.tid`, or
// `tid` as a pid_t or std::optional<pid_t>, unknown tids last) when the
// record has one, so the order is stable. `hottest()` keeps them all.
// Thread-safe: yes. Signal-safe: no (allocates). Target process: none.
//
//   auto usage = triage::procfs::cpu_usage(before, after);
//   for (const auto& t : usage | triage::procfs::hottest(5))
//       fmt::print("{} {:.1f}%\n", t.stat.tid, t.cpu_percent.value_or(0));
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <range/v3/range/concepts.hpp>
#include <range/v3/range/traits.hpp>

namespace triage::procfs {

namespace detail {
template <class T>
concept has_cpu_percent = requires(const T& t) { t.cpu_percent; };

template <class T>
[[nodiscard]] constexpr std::optional<double> cpu_key(const T& record) noexcept {
    return std::optional<double>{record.cpu_percent};
}

template <class T>
[[nodiscard]] constexpr long tid_key(const T& record) noexcept {
    if constexpr (requires { record.stat.tid; }) return static_cast<long>(record.stat.tid);
    else if constexpr (requires { record.tid.value_or(0); }) return static_cast<long>(record.tid.value_or(std::numeric_limits<pid_t>::max()));
    else if constexpr (requires { record.tid; }) return static_cast<long>(record.tid);
    else return 0;
}

struct hottest_adaptor {
    std::size_t count = std::numeric_limits<std::size_t>::max();

    template <class Range>
        requires ranges::input_range<Range> && has_cpu_percent<ranges::range_value_t<Range>>
    friend std::vector<ranges::range_value_t<Range>> operator|(Range&& records, hottest_adaptor self) {
        using record = ranges::range_value_t<Range>;
        std::vector<record> out;
        if constexpr (std::is_same_v<Range, std::vector<record>>) {
            out = std::move(records);  // a vector handed over: sorted in place
        } else {
            for (auto&& r : records) out.push_back(r);
        }
        auto hotter = [](const auto& a, const auto& b) {
            auto ka = cpu_key(a), kb = cpu_key(b);
            if (ka.has_value() != kb.has_value()) return ka.has_value();
            if (ka && *ka != *kb) return *ka > *kb;
            return tid_key(a) < tid_key(b);
        };
        std::size_t keep = std::min(self.count, out.size());
        std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(), hotter);
        out.resize(keep);
        return out;
    }
};

struct hottest_fn {
    [[nodiscard]] constexpr hottest_adaptor operator()(std::size_t n) const noexcept { return {n}; }
    [[nodiscard]] constexpr hottest_adaptor operator()() const noexcept { return {}; }
};
} // namespace detail

inline constexpr detail::hottest_fn hottest{};

} // namespace triage::procfs
