// triage/elf/impl/debug_file_locator.ipp — the definitions of
// triage/elf/debug_file_locator.hpp: included by that header when triage is
// header-only, compiled once into triage::compiled under
// TRIAGE_SEPARATE_COMPILATION (triage/base/config.hpp).
#pragma once

#include <elf.h>
#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <set>
#include <utility>

#include "triage/base/path.hpp"
#include "triage/base/text.hpp"
#include "triage/elf/build_id.hpp"
#include "triage/elf/debug_file_locator.hpp"
#include "triage/elf/debuglink.hpp"
#include "triage/elf/file.hpp"

namespace triage::elf {

namespace detail {


// What a file can give: function names (.symtab) and DWARF (.debug_info).
struct debug_content {
    bool symbols = false;
    bool dwarf = false;
};

[[nodiscard]] inline bool has_bytes(const file& f, std::string_view section) {
    auto s = f.section(section);
    return s && s->type != SHT_NOBITS && s->size > 0;
}

[[nodiscard]] inline debug_content content_of(const file& f) { return {has_bytes(f, ".symtab"), has_bytes(f, ".debug_info")}; }

[[nodiscard]] inline std::string directory_of(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return ".";
    return std::string{path.substr(0, slash == 0 ? 1 : slash)};
}

[[nodiscard]] inline std::string build_id_path(std::string_view directory, std::span<const std::byte> id) {
    const std::string hex_id = build_id_hex(id);
    return std::string{directory} + "/.build-id/" + hex_id.substr(0, 2) + "/" + hex_id.substr(2) + ".debug";
}

// The search, one object at a time: each candidate once (by inode: a
// process in our own root reaches the same file by two paths).
class debug_search {
public:
    debug_search(const debugged_object& object, const locator_options& options, debug_content have)
        : object_(object), options_(options) {
        if (have.symbols) found_.symbols = object_path();
        if (have.dwarf) found_.dwarf = object_path();
    }

    [[nodiscard]] bool complete() const { return !found_.symbols.empty() && !found_.dwarf.empty(); }

    [[nodiscard]] std::string object_path() const {
        return object_.opened.empty() ? under_root(options_.root, object_.path) : object_.opened;
    }

    // The debug directories: the process's own, then ours.
    [[nodiscard]] std::vector<std::string> directories() const {
        std::vector<std::string> out;
        for (const auto& d : options_.debug_directories) out.push_back(under_root(options_.root, d));
        if (options_.host_debug_directories && options_.root != "/" && !options_.root.empty())
            for (const auto& d : options_.debug_directories) out.push_back(d);
        return out;
    }

    // Tries `path`: what it holds when `accept(file)` finds it is this
    // object's (returns empty), else nothing, with the reason noted.
    template <class Accept>
    [[nodiscard]] std::optional<debug_content> consider(debug_way way, const std::string& path, Accept&& accept) {
        struct ::stat st{};
        if (::stat(path.c_str(), &st) != 0) {
            note(way, path, "no such file");
            return std::nullopt;
        }
        if (!tried_.insert({st.st_dev, st.st_ino}).second) return std::nullopt;
        auto candidate = file::open(path);
        if (!candidate) {
            note(way, path, candidate.error().message());
            return std::nullopt;
        }
        if (std::string why = accept(*candidate); !why.empty()) {
            note(way, path, why);
            return std::nullopt;
        }
        return content_of(*candidate);
    }

    // Tries `path` and takes what it holds that is still missing.
    template <class Accept>
    void try_file(debug_way way, const std::string& path, Accept&& accept) {
        if (auto content = consider(way, path, accept)) take(way, path, *content);
    }

    void take(debug_way way, const std::string& path, debug_content content) {
        bool used = false;
        if (content.symbols && found_.symbols.empty()) {
            found_.symbols = path;
            found_.symbols_from = way;
            used = true;
        }
        if (content.dwarf && found_.dwarf.empty()) {
            found_.dwarf = path;
            found_.dwarf_from = way;
            used = true;
        }
        std::string outcome = content.symbols || content.dwarf ? "found" : "has neither .symtab nor .debug_info";
        if (!used && (content.symbols || content.dwarf)) outcome += " (not needed: already found)";
        note(way, path, std::move(outcome), used);
    }

    void note(debug_way way, std::string path, std::string outcome, bool used = false) {
        found_.attempts.push_back({way, std::move(path), std::move(outcome), used});
    }

    [[nodiscard]] debug_info_location done() && { return std::move(found_); }
    [[nodiscard]] debug_info_location& found() { return found_; }

    [[nodiscard]] std::optional<fetched_debuginfo> ask_debuginfod(std::span<const std::byte> id) {
        auto got = fetch_debuginfo(id, {options_.debuginfod_budget, options_.debuginfod_progress});
        const char* urls = std::getenv("DEBUGINFOD_URLS");
        if (!got) {
            note(debug_way::debuginfod, urls ? urls : "", got.error().message());
            return std::nullopt;
        }
        return *got;
    }

private:
    const debugged_object& object_;
    const locator_options& options_;
    debug_info_location found_;
    std::set<std::pair<dev_t, ino_t>> tried_;
};

[[nodiscard]] inline std::string build_id_check(const file& candidate, std::span<const std::byte> expected) {
    auto id = candidate.build_id();
    if (!id) return "has no build-id";
    if (!std::ranges::equal(*id, expected)) return "build-id mismatch: it has " + build_id_hex(*id);
    return {};
}

// The dwz file `dwarf` names in .gnu_debugaltlink: path, then build-id.
inline void resolve_alternate(debug_search& search, const std::vector<std::string>& directories,
                              const locator_options& options) {
    debug_info_location& found = search.found();
    auto dwarf = file::open(found.dwarf);
    if (!dwarf) return;
    auto link = dwarf->section_data(".gnu_debugaltlink");
    if (!link) return;
    std::span<const std::byte> bytes = *link;
    std::size_t nul = 0;
    while (nul < bytes.size() && bytes[nul] != std::byte{0}) ++nul;
    if (nul == 0 || nul >= bytes.size()) return;
    std::string name(reinterpret_cast<const char*>(bytes.data()), nul);
    std::span<const std::byte> id = bytes.subspan(nul + 1);
    auto accept = [&](const file& f) { return build_id_check(f, id); };
    auto try_alternate = [&](const std::string& path) {
        if (!search.consider(found.dwarf_from, path, accept)) return false;
        search.note(found.dwarf_from, path, "found (dwz alternate)", true);
        found.alternate = path;
        return true;
    };
    std::string named = name.starts_with('/') ? under_root(options.root, name) : directory_of(found.dwarf) + "/" + name;
    if (try_alternate(named)) return;
    if (!id.empty()) {
        for (const auto& d : directories)
            if (try_alternate(build_id_path(d, id))) return;
        if (options.debuginfod && debuginfod_configured()) {
            if (auto got = search.ask_debuginfod(id)) {
                found.alternate = got->path;
                search.note(debug_way::debuginfod, got->path, "found (dwz alternate)", true);
                return;
            }
        }
    }
    found.alternate_missing = true;
}

} // namespace detail

[[nodiscard]] TRIAGE_DECL result<debug_info_location> locate_debug_info(const debugged_object& object,
                                                                        const locator_options& options) {
    const std::string object_path = object.opened.empty() ? under_root(options.root, object.path) : object.opened;
    file self = TRIAGE_TRY(file::open(object_path));
    const detail::debug_content own = object.other_build ? detail::debug_content{} : detail::content_of(self);
    detail::debug_search search{object, options, own};
    if (object.other_build) {
        search.note(debug_way::embedded, object_path, "another build than the one running: not used");
    } else if (own.symbols || own.dwarf) {
        std::string what = own.symbols && own.dwarf ? "has .symtab and .debug_info"
                           : own.symbols           ? "has .symtab (no .debug_info)"
                                                   : "has .debug_info (no .symtab)";
        search.note(debug_way::embedded, object.path, std::move(what), true);
    } else {
        search.note(debug_way::embedded, object.path, "stripped (.dynsym only)");
    }
    const std::vector<std::string> directories = search.directories();

    std::vector<std::byte> id = object.build_id;
    if (id.empty() && !object.other_build)
        if (auto own_id = self.build_id()) id = std::move(*own_id);

    if (!search.complete() && !id.empty()) {
        for (const auto& d : directories) {
            search.try_file(debug_way::build_id, detail::build_id_path(d, id),
                            [&](const file& f) { return detail::build_id_check(f, id); });
            if (search.complete()) break;
        }
    }

    if (!search.complete()) {
        if (auto link = object.other_build ? std::nullopt : self.gnu_debuglink()) {
            const std::string dir = detail::directory_of(object.path);
            std::vector<std::string> candidates{under_root(options.root, dir + "/" + link->file),
                                                under_root(options.root, dir + "/.debug/" + link->file)};
            for (const auto& d : directories) candidates.push_back(d + dir + "/" + link->file);
            for (const auto& path : candidates) {
                search.try_file(debug_way::debuglink, path, [&](const file& f) -> std::string {
                    auto crc = file_crc32(f.name());
                    if (!crc) return crc.error().message();
                    if (*crc != link->crc32)
                        return "CRC mismatch: the file's CRC-32 is " + hex(*crc) + ", .gnu_debuglink of " +
                               object.path + " expects " + hex(link->crc32) + " (a debug file of another build)";
                    return {};
                });
                if (search.complete()) break;
            }
        }
    }

    if (search.found().dwarf.empty() && !id.empty() && options.debuginfod && debuginfod_configured()) {
        if (auto got = search.ask_debuginfod(id)) {
            auto fetched = file::open(got->path);
            if (!fetched) {
                search.note(debug_way::debuginfod, got->path, fetched.error().message());
            } else if (std::string why = detail::build_id_check(*fetched, id); !why.empty()) {
                search.note(debug_way::debuginfod, got->path, why);
            } else {
                search.take(debug_way::debuginfod, got->path, detail::content_of(*fetched));
                auto& last = search.found().attempts.back();
                last.outcome += got->url.empty() ? " (in debuginfod's cache)" : " (downloaded from " + got->url + ")";
            }
        }
    }

    if (!search.found().dwarf.empty()) detail::resolve_alternate(search, directories, options);
    return std::move(search).done();
}

} // namespace triage::elf
