// triage/base/result.hpp — `result<T>`: a value or a triage::error.
//
// Offers: `result<T>` (std::expected<T, error>), `fail(...)` to build the
// unexpected side, and TRIAGE_TRY(expr), which yields the value of a result
// or returns its error from the enclosing function (a GNU statement
// expression: g++ and clang both accept it).
// Thread-safe: values only. Signal-safe: no. Target process: none touched.
//
//   triage::result<int> parse(std::string_view s);
//   triage::result<int> twice(std::string_view s) {
//       int v = TRIAGE_TRY(parse(s));
//       return 2 * v;
//   }
#pragma once

#include <expected>
#include <string>
#include <type_traits>
#include <utility>

#include "triage/base/config.hpp"
#include "triage/base/error.hpp"

namespace triage {

template <class T>
using result = std::expected<T, error>;

[[nodiscard]] TRIAGE_DECL std::unexpected<error> fail(errc code, std::string context, std::string hint = {});

[[nodiscard]] TRIAGE_DECL std::unexpected<error> fail(error e);

[[nodiscard]] TRIAGE_DECL std::unexpected<error> fail_errno(int e, std::string context, std::string hint = {});

namespace detail {
// The value side of a checked result, by value (void for result<void>).
template <class T>
T unwrap_checked(std::expected<T, error>&& r) {
    if constexpr (!std::is_void_v<T>) return std::move(*r);
}
} // namespace detail

} // namespace triage

// Evaluates `expr` (a result<T>); on error returns it from the enclosing
// function, otherwise the expression's value is the contained T (moved out).
#define TRIAGE_TRY(...)                                                        \
    ({                                                                         \
        auto triage_try_result_ = (__VA_ARGS__);                               \
        if (!triage_try_result_) [[unlikely]]                                  \
            return ::std::unexpected(::std::move(triage_try_result_.error())); \
        ::triage::detail::unwrap_checked(::std::move(triage_try_result_));     \
    })

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/base/impl/result.ipp"
#endif
