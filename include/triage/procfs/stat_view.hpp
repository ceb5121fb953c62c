// triage/procfs/stat_view.hpp — a lazy, single-pass range of the stat
// records of a list of /proc entries: the threads of one process
// (`tasks(pid)`, tasks.hpp) or every process (`processes()`,
// processes.hpp).
//
// Offers: `stat_view`, a range-v3 view (input_range, view_) whose elements
// are `task_stat` (stat.hpp). The ids are listed when the view is made; each
// record is read when the iterator reaches it (openat, one read into a
// stack buffer, close: three syscalls per entry, no allocation). An entry that is gone by
// then (the thread or process exited) is skipped and counted in
// `vanished()`; any other failure (permission, malformed text) also skips
// the entry, and the first such error is kept in `first_error()`, so a sweep
// never stops half-way and never crashes.
// Thread-safe: one view per thread (copies share their counters).
// Signal-safe: no. Target process: reads /proc files only.
//
//   auto threads = TRIAGE_TRY(triage::procfs::tasks(pid));
//   for (const triage::procfs::task_stat& t : threads) fmt::print("{} {}\n", t.tid, t.comm.view());
//   if (auto e = threads.first_error()) ... e->message()
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <range/v3/view/facade.hpp>

#include "triage/base/result.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/procfs/proc_dir.hpp"
#include "triage/procfs/stat.hpp"

namespace triage::procfs {

class stat_view : public ranges::view_facade<stat_view, ranges::finite> {
public:
    stat_view() = default;

    // `dir` is an open directory (/proc or /proc/PID/task) whose entries
    // `ids` each hold a "stat" file; `shown_dir` names it in messages.
    stat_view(unique_fd dir, std::string shown_dir, std::vector<pid_t> ids)
        : state_{std::make_shared<shared>(std::move(dir), std::move(shown_dir), std::move(ids))} {}

    // How many ids were listed (an upper bound on the records yielded).
    [[nodiscard]] std::size_t listed() const noexcept { return state_ ? state_->ids.size() : 0; }
    // Entries skipped because they no longer existed when read.
    [[nodiscard]] std::size_t vanished() const noexcept { return state_ ? state_->vanished : 0; }
    // Entries skipped for any other reason, and the first of those errors.
    [[nodiscard]] std::size_t failed() const noexcept { return state_ ? state_->failed : 0; }
    [[nodiscard]] const std::optional<error>& first_error() const noexcept {
        static const std::optional<error> none;
        return state_ ? state_->first_error : none;
    }

private:
    friend ranges::range_access;

    struct shared {
        shared(unique_fd d, std::string shown, std::vector<pid_t> i)
            : dir{std::move(d)}, shown_dir{std::move(shown)}, ids{std::move(i)} {}
        unique_fd dir;
        std::string shown_dir;
        std::vector<pid_t> ids;
        std::size_t vanished = 0;
        std::size_t failed = 0;
        std::optional<error> first_error;

        // Reads "<id>/stat" into `out`; false (and counted) when it cannot.
        bool read(pid_t id, task_stat& out) {
            char name[32];
            auto end = std::to_chars(name, name + 16, id).ptr;
            constexpr std::string_view suffix = "/stat";
            std::copy(suffix.begin(), suffix.end(), end);
            end[suffix.size()] = '\0';
            auto failure = [&](error e) {
                if (e.code == errc::no_such_process) {
                    ++vanished;
                } else {
                    ++failed;
                    if (!first_error) first_error = std::move(e);
                }
                return false;
            };
            int fd = ::openat(dir.get(), name, O_RDONLY | O_CLOEXEC);
            if (fd < 0) return failure(detail::proc_error(errno, "opening " + shown_dir + "/" + name));
            unique_fd file{fd};
            char buffer[stat_buffer_size];
            auto n = detail::read_whole_small_file(file.get(), buffer);
            if (!n) return failure(detail::proc_error(n.error(), "reading " + shown_dir + "/" + name));
            auto st = parse_stat({buffer, *n});
            if (!st) return failure(std::move(st.error()).within("reading " + shown_dir + "/" + name));
            out = *st;
            return true;
        }
    };

    struct cursor {
        using single_pass = std::true_type;
        shared* state = nullptr;
        std::size_t index = 0;
        task_stat current{};

        cursor() = default;
        explicit cursor(shared* s) : state{s} { settle(); }
        [[nodiscard]] const task_stat& read() const noexcept { return current; }
        void next() {
            ++index;
            settle();
        }
        [[nodiscard]] bool equal(ranges::default_sentinel_t) const noexcept {
            return state == nullptr || index >= state->ids.size();
        }
        // Moves to the first entry at or after `index` that can be read.
        void settle() {
            while (state != nullptr && index < state->ids.size() && !state->read(state->ids[index], current)) ++index;
        }
    };

    [[nodiscard]] cursor begin_cursor() const { return cursor{state_.get()}; }

    std::shared_ptr<shared> state_;
};

} // namespace triage::procfs
