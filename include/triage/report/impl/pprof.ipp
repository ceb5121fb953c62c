// triage/report/impl/pprof.ipp — the definitions of
// triage/report/pprof.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <zlib.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "triage/base/scope_exit.hpp"
#include "triage/base/text.hpp"
#include "triage/cpython/python_string.hpp"
#include "triage/report/detail/protobuf_writer.hpp"
#include "triage/report/pprof.hpp"

namespace triage::report {

namespace detail::pprof {

// The field numbers of profile.proto (package perftools.profiles), by message.
struct profile_field {
    static constexpr std::uint32_t sample_type = 1, sample = 2, location = 4, function = 5, string_table = 6,
                                   time_nanos = 9, duration_nanos = 10, period_type = 11, period = 12;
};
struct value_type_field {
    static constexpr std::uint32_t type = 1, unit = 2;
};
struct sample_field {
    static constexpr std::uint32_t location_id = 1, value = 2, label = 3;
};
struct label_field {
    static constexpr std::uint32_t key = 1, str = 2, num = 3;
};
struct location_field {
    static constexpr std::uint32_t id = 1, line = 4;
};
struct line_field {
    static constexpr std::uint32_t function_id = 1, line = 2;
};
struct function_field {
    static constexpr std::uint32_t id = 1, name = 2, system_name = 3, filename = 4;
};

// Protobuf's limit on a message (readers refuse a larger one).
inline constexpr std::size_t max_message_size = std::numeric_limits<std::int32_t>::max();

// Profile.string_table: each distinct string once, "" at index 0, made
// valid UTF-8 (protobuf `string`).
class string_table {
public:
    string_table() {
        strings_.emplace_back();
        ids_.emplace(strings_.front(), 0);
    }

    [[nodiscard]] std::int64_t index(std::string_view text) {
        std::string valid = cpython::decode_text(std::as_bytes(std::span{text.data(), text.size()}),
                                                 cpython::text_encoding::bytes_utf8);
        auto at = ids_.find(valid);
        if (at != ids_.end()) return at->second;
        const auto id = static_cast<std::int64_t>(strings_.size());
        ids_.emplace(strings_.emplace_back(std::move(valid)), id);
        return id;
    }

    [[nodiscard]] const std::deque<std::string>& strings() const noexcept { return strings_; }

private:
    std::deque<std::string> strings_;  // stable: ids_ keys view them
    std::unordered_map<std::string_view, std::int64_t> ids_;
};

// `bytes` with a gzip wrapper (RFC 1952), as zlib's deflate writes it.
[[nodiscard]] TRIAGE_DECL result<std::string> gzip(std::string_view bytes) {
    const std::string what = "compressing a pprof profile of " + std::to_string(bytes.size()) + " bytes";
    if (bytes.size() > std::numeric_limits<uInt>::max()) return fail(errc::limit_exceeded, what);
    z_stream z{};
    // windowBits 16 + 15: the gzip header and trailer around a 32 KiB window.
    int rc = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) return fail(errc::system, what + ": zlib's deflateInit2 returned " + std::to_string(rc));
    const scope_exit end{[&] { deflateEnd(&z); }};
    std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z.avail_in = static_cast<uInt>(bytes.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    rc = deflate(&z, Z_FINISH);  // one call: deflateBound leaves room for all of it
    if (rc != Z_STREAM_END) {
        return fail(errc::system, what + ": zlib's deflate returned " + std::to_string(rc) +
                                      (z.msg != nullptr ? std::string{" ("} + z.msg + ")" : std::string{}));
    }
    out.resize(z.total_out);
    return out;
}

} // namespace detail::pprof

[[nodiscard]] TRIAGE_DECL result<std::string> to_pprof_message(const profile& p, const pprof_options& options) {
    namespace d = detail::pprof;
    using detail::protobuf_writer;
    const std::string what = "writing a pprof profile";
    if (options.period.count() <= 0) {
        return fail(errc::invalid_argument, what,
                    "the sampling period must be positive, not " + std::to_string(options.period.count()) + " ns");
    }
    if (options.duration.count() < 0) {
        return fail(errc::invalid_argument, what,
                    "the duration must not be negative, not " + std::to_string(options.duration.count()) + " ns");
    }
    d::string_table strings;
    protobuf_writer out, message, inner;
    const auto value_type = [&](std::uint32_t field, std::string_view type, std::string_view unit) {
        message.clear();
        message.int64_field(d::value_type_field::type, strings.index(type));
        message.int64_field(d::value_type_field::unit, strings.index(unit));
        out.message_field(field, message);
    };
    const std::string_view kind = p.options().idle ? "wall" : "cpu";
    value_type(d::profile_field::sample_type, "samples", "count");
    value_type(d::profile_field::sample_type, kind, "nanoseconds");

    // One Function per distinct function and file; one Location per frame.
    std::map<std::pair<std::string_view, std::string_view>, std::uint64_t> functions;
    for (std::size_t i = 0; i < p.frames().size(); ++i) {
        const profile_frame& f = p.frames()[i];
        auto [at, added] = functions.try_emplace({f.function, f.file}, functions.size() + 1);
        if (added) {
            message.clear();
            const std::int64_t name = strings.index(f.function);
            message.varint_field(d::function_field::id, at->second);
            message.int64_field(d::function_field::name, name);
            message.int64_field(d::function_field::system_name, name);
            message.int64_field(d::function_field::filename, strings.index(f.file));
            out.message_field(d::profile_field::function, message);
        }
        inner.clear();
        inner.varint_field(d::line_field::function_id, at->second);
        if (f.line > 0) inner.int64_field(d::line_field::line, f.line);
        message.clear();
        message.varint_field(d::location_field::id, i + 1);
        message.message_field(d::location_field::line, inner);
        out.message_field(d::profile_field::location, message);
    }

    // Each thread's labels, encoded once: "thread", and "thread_id" when
    // the label starts with a tid ("1234 MainThread", not "ident 5678").
    struct thread_labels {
        protobuf_writer name, id;
    };
    std::vector<thread_labels> labels;
    if (p.options().by_thread) {
        const std::int64_t thread_key = strings.index("thread"), id_key = strings.index("thread_id");
        for (const std::string& label : p.threads()) {
            thread_labels& l = labels.emplace_back();
            l.name.int64_field(d::label_field::key, thread_key);
            l.name.int64_field(d::label_field::str, strings.index(label));
            std::string_view rest = label;
            if (auto tid = parse_unsigned<std::uint32_t>(next_token(rest))) {
                l.id.int64_field(d::label_field::key, id_key);
                l.id.int64_field(d::label_field::num, *tid);
            }
        }
    }

    const auto period = static_cast<std::uint64_t>(options.period.count());
    constexpr auto max_value = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::vector<std::uint64_t> locations;
    for (const profile_stack& s : p.stacks()) {
        if (s.samples > max_value / period) {
            return fail(errc::limit_exceeded, what,
                        std::to_string(s.samples) + " samples of " + std::to_string(period) +
                            " ns are more nanoseconds than an int64 holds");
        }
        locations.clear();
        for (auto f = s.frames.rbegin(); f != s.frames.rend(); ++f) locations.push_back(std::uint64_t{*f} + 1);
        const std::uint64_t values[] = {s.samples, s.samples * period};
        message.clear();
        message.packed_varint_field(d::sample_field::location_id, locations);
        message.packed_varint_field(d::sample_field::value, values);
        if (s.thread < labels.size()) {
            message.message_field(d::sample_field::label, labels[s.thread].name);
            if (labels[s.thread].id.size() > 0) message.message_field(d::sample_field::label, labels[s.thread].id);
        }
        out.message_field(d::profile_field::sample, message);
        if (out.size() > d::max_message_size) break;  // refused below
    }

    const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(options.start.time_since_epoch());
    if (since_epoch.count() != 0) out.int64_field(d::profile_field::time_nanos, since_epoch.count());
    if (options.duration.count() != 0) out.int64_field(d::profile_field::duration_nanos, options.duration.count());
    value_type(d::profile_field::period_type, kind, "nanoseconds");
    out.int64_field(d::profile_field::period, options.period.count());
    for (const std::string& s : strings.strings()) out.bytes_field(d::profile_field::string_table, s);
    if (out.size() > d::max_message_size) {
        return fail(errc::limit_exceeded, what,
                    "the message would pass protobuf's limit of 2 GiB; record fewer stacks or without lines");
    }
    return std::move(out).take();
}

[[nodiscard]] TRIAGE_DECL result<std::string> to_pprof(const profile& p, const pprof_options& options) {
    const std::string message = TRIAGE_TRY(to_pprof_message(p, options));
    return detail::pprof::gzip(message);
}

} // namespace triage::report
