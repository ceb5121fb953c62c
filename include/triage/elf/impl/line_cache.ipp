// triage/elf/impl/line_cache.ipp — the definitions of
// triage/elf/line_cache.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <span>

#include "triage/base/scope_exit.hpp"
#include "triage/base/unique_fd.hpp"
#include "triage/elf/line_cache.hpp"

namespace triage::elf {

namespace detail {
inline constexpr std::size_t max_saved_line_table = std::size_t{1} << 30;

[[nodiscard]] TRIAGE_DECL bool is_build_id_hex(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// Creates `directory` and its missing parents (mode 0755 less the umask).
[[nodiscard]] TRIAGE_DECL result<void> make_directories(const std::string& directory) {
    for (std::size_t slash = directory.find('/', 1);; slash = directory.find('/', slash + 1)) {
        const std::string part = directory.substr(0, slash);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
            return fail(error::from_errno(errno, "creating the line-table cache directory " + part,
                                          "set TRIAGE_CACHE_DIR to a writable directory, or to \"\" for none"));
        }
        if (slash == std::string::npos) return {};
    }
}
} // namespace detail

[[nodiscard]] TRIAGE_DECL std::string default_line_cache_directory() {
    if (const char* own = std::getenv("TRIAGE_CACHE_DIR")) return *own == '\0' ? "" : std::string{own} + "/lines";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
        return std::string{xdg} + "/triage/lines";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
        return std::string{home} + "/.cache/triage/lines";
    }
    return "";
}

[[nodiscard]] TRIAGE_DECL result<line_table> line_cache::load(std::string_view build_id) const {
    if (!detail::is_build_id_hex(build_id)) {
        return fail(errc::invalid_argument, "a build-id " + std::string{build_id.substr(0, 64)} + " that is not hex");
    }
    const std::string path = directory_ + '/' + std::string{build_id} + ".lines";
    unique_fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (!fd) return fail(error::from_errno(errno, "opening the saved line table " + path));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(error::from_errno(errno, "reading the saved line table " + path));
    if (!S_ISREG(st.st_mode) || static_cast<std::size_t>(st.st_size) > detail::max_saved_line_table) {
        return fail(errc::limit_exceeded, "reading the saved line table " + path + ": not a regular file under 1 GiB");
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) return line_table::deserialize({});
    // Mapped, not read: no buffer to clear and copy into (a few MB: a few ms).
    void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (mapped == MAP_FAILED) return fail(error::from_errno(errno, "mapping the saved line table " + path));
    const scope_exit unmap{[&] { ::munmap(mapped, size); }};
    return line_table::deserialize({static_cast<const std::byte*>(mapped), size});
}

[[nodiscard]] TRIAGE_DECL result<void> line_cache::store(std::string_view build_id, const line_table& table) const {
    if (!detail::is_build_id_hex(build_id)) {
        return fail(errc::invalid_argument, "a build-id " + std::string{build_id.substr(0, 64)} + " that is not hex");
    }
    if (!enabled()) return {};
    TRIAGE_TRY(detail::make_directories(directory_));
    const std::string path = directory_ + '/' + std::string{build_id} + ".lines";
    std::string temporary = path + ".XXXXXX";
    unique_fd fd{::mkostemp(temporary.data(), O_CLOEXEC)};
    if (!fd) return fail(error::from_errno(errno, "creating " + temporary));
    const std::string bytes = table.serialize();
    auto give_up = [&](int e) {
        ::unlink(temporary.c_str());
        return fail(error::from_errno(e, "writing the saved line table " + temporary));
    };
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return give_up(n < 0 ? errno : ENOSPC);
        done += static_cast<std::size_t>(n);
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) return give_up(errno);
    return {};
}

} // namespace triage::elf
