// triage/elf/line_cache.hpp — line tables kept across runs, by build-id.
// Reading a line table means decompressing and running every line-number
// program of the file (python3.11's debug file: 3.4 MB of .debug_line, most
// of a `triage-pystack --native` run); a table saved by an earlier run loads
// in a fraction of that. A build-id names one link of one file, so a saved
// table never goes stale; a file that does not load (another format
// version, truncated, edited) is read again and replaced.
//
// Offers:
//  - `default_line_cache_directory()`: $TRIAGE_CACHE_DIR/lines when that is
//    set (set and empty: "", no cache), else $XDG_CACHE_HOME/triage/lines,
//    else $HOME/.cache/triage/lines; "" when none of them is set.
//  - `line_cache{directory}` ("" : a cache that holds nothing):
//    `load(build_id)` → the table saved for that build-id (hex, as
//    build_id_hex writes it); `store(build_id, table)` writes
//    DIRECTORY/<build-id>.lines (mode 0600), creating the directory (and
//    its parents) as needed: written to a unique temporary name, then renamed, so that
//    a reader never sees half a file and concurrent writers do not collide;
//  - `table_for(build_id, read)`: the saved table, else `read()`'s, stored.
// Errors: load: errc::not_found when none is saved, errc::malformed (from
// line_table::deserialize) for bytes that are not a saved table,
// errc::limit_exceeded for a file over 1 GiB; store: errno-based errors
// naming the path; errc::invalid_argument for a build-id that is not hex
// (it names a file). table_for returns read()'s error, never the cache's.
// Thread-safe: distinct calls are; the files are shared safely between
// processes. Signal-safe: no. Target process: none touched.
//
//   triage::elf::line_cache cache{triage::elf::default_line_cache_directory()};
//   auto lines = TRIAGE_TRY(cache.table_for(build_id_hex, [&] { return triage::elf::line_table::read(debug); }));
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "triage/base/config.hpp"
#include "triage/base/result.hpp"
#include "triage/elf/line_table.hpp"

namespace triage::elf {

[[nodiscard]] TRIAGE_DECL std::string default_line_cache_directory();

class line_cache {
public:
    line_cache() = default;
    explicit line_cache(std::string directory) : directory_{std::move(directory)} {}

    [[nodiscard]] const std::string& directory() const noexcept { return directory_; }
    [[nodiscard]] bool enabled() const noexcept { return !directory_.empty(); }

    [[nodiscard]] TRIAGE_DECL result<line_table> load(std::string_view build_id) const;
    [[nodiscard]] TRIAGE_DECL result<void> store(std::string_view build_id, const line_table& table) const;

    template <class Read>
    [[nodiscard]] result<line_table> table_for(std::string_view build_id, Read&& read) const {
        if (!enabled() || build_id.empty()) return std::forward<Read>(read)();
        if (auto saved = load(build_id)) return saved;
        auto table = std::forward<Read>(read)();
        if (table) (void)store(build_id, *table);  // a cache that cannot be written only costs time
        return table;
    }

private:
    std::string directory_;
};

} // namespace triage::elf

#if !defined(TRIAGE_SEPARATE_COMPILATION)
#include "triage/elf/impl/line_cache.ipp"
#endif
