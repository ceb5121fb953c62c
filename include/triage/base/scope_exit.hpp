// triage/base/scope_exit.hpp — run a callable when a scope ends.
//
// Offers: `scope_exit` (runs on every exit, unless `release()`d).
// Thread-safe: distinct objects. Signal-safe: as the callable is.
// Target process: none touched.
//
//   auto undo = triage::scope_exit{[&] { ::unlink(tmp.c_str()); }};
//   ... if all went well: undo.release();
#pragma once

#include <utility>

namespace triage {

template <class F>
class [[nodiscard]] scope_exit {
public:
    explicit scope_exit(F f) noexcept : f_{std::move(f)} {}
    scope_exit(const scope_exit&) = delete;
    scope_exit& operator=(const scope_exit&) = delete;
    ~scope_exit() {
        if (active_) f_();
    }
    void release() noexcept { active_ = false; }

private:
    F f_;
    bool active_ = true;
};

} // namespace triage
