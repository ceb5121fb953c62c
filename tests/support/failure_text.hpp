// The text of a failure, for a check's message: empty when there is none.
//
// doctest formats a check's message after a success too when run with -s
// (print successes); `CHECK_MESSAGE(r, failure_text(r))` then reads the
// error of a value, which is undefined behaviour (a bad_alloc here). Write
// `CHECK_MESSAGE(r, failure_text(r))` instead.
//
//   REQUIRE_MESSAGE(opened, failure_text(opened));       // result<T>: !r fails
//   CHECK_MESSAGE(!t.failure, failure_text(t.failure));   // optional<error>
#pragma once

#include <optional>
#include <string>

namespace triage::test_support {

// A result (std::expected): its error's message when it holds one.
template <class Result>
    requires requires(const Result& r) { r.error().message(); }
std::string failure_text(const Result& r) {
    return r.has_value() ? std::string{} : std::string{r.error().message()};
}

// An optional failure: its message when there is one.
template <class Failure>
std::string failure_text(const std::optional<Failure>& failure) {
    return failure ? std::string{failure->message()} : std::string{};
}

} // namespace triage::test_support
