// triage/base/impl/read_file.ipp — the definitions of
// triage/base/read_file.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/base/read_file.hpp"

namespace triage {

[[nodiscard]] TRIAGE_DECL result<std::size_t> read_fd(int fd, std::span<char> buffer, std::string_view shown_path) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno(errno, "reading " + std::string{shown_path});
        }
        done += static_cast<std::size_t>(n);
    }
    return done;
}

[[nodiscard]] TRIAGE_DECL result<std::string> read_file(const std::string& path) {
    unique_fd fd = TRIAGE_TRY(open_file(path));
    std::string out;
    std::size_t used = 0;
    out.resize(4096);
    for (;;) {
        std::size_t n = TRIAGE_TRY(read_fd(fd.get(), std::span{out.data() + used, out.size() - used}, path));
        used += n;
        if (used < out.size()) break;
        out.resize(out.size() * 2);
    }
    out.resize(used);
    return out;
}

} // namespace triage
