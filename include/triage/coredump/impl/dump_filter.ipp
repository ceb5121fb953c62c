// triage/coredump/impl/dump_filter.ipp — the definitions of
// triage/coredump/dump_filter.hpp: included by that header when triage is header-only,
// compiled once into triage::compiled under TRIAGE_SEPARATE_COMPILATION
// (triage/base/config.hpp).
#pragma once

#include "triage/coredump/dump_filter.hpp"

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL result<dump_filter> parse_dump_filter(std::string_view text) {
    text = trim(text);
    if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
    auto bits = parse_unsigned<std::uint32_t>(text, 16);
    if (!bits) return fail(errc::malformed, "coredump_filter bits: not a hexadecimal number of 32 bits");
    return dump_filter{*bits};
}

[[nodiscard]] TRIAGE_DECL result<dump_filter> read_dump_filter(const procfs::proc_dir& dir) {
    char buffer[64];
    std::string_view text = TRIAGE_TRY(dir.read(procfs::whole_process, "coredump_filter", buffer));
    auto filter = parse_dump_filter(text);
    if (!filter) return fail(errc::malformed, "parsing " + dir.path(procfs::whole_process, "coredump_filter"));
    return filter;
}

} // namespace triage::coredump

namespace triage::coredump::detail {

[[nodiscard]] TRIAGE_DECL bool is_smaps_header(std::string_view line) noexcept {
    std::size_t dash = line.find('-');
    std::size_t space = line.find(' ');
    return dash != std::string_view::npos && dash > 0 && space != std::string_view::npos && dash < space &&
           parse_unsigned<std::uint64_t>(line.substr(0, dash), 16).has_value();
}

} // namespace triage::coredump::detail

namespace triage::coredump {

[[nodiscard]] TRIAGE_DECL result<std::vector<region>> parse_smaps(std::string_view text) {
    std::vector<region> out;
    std::size_t line_number = 0;
    while (!text.empty()) {
        std::string_view line = next_line(text);
        ++line_number;
        if (line.empty()) continue;
        if (detail::is_smaps_header(line)) {
            auto maps = procfs::parse_maps(line);
            if (!maps || maps->size() != 1)
                return fail(errc::malformed, "parsing smaps line " + std::to_string(line_number));
            out.push_back(region{std::move(maps->front())});
            continue;
        }
        if (out.empty()) return fail(errc::malformed, "parsing smaps line " + std::to_string(line_number) + ": no mapping yet");
        auto pair = split_key_value(line);
        if (!pair) return fail(errc::malformed, "parsing smaps line " + std::to_string(line_number));
        auto [key, value] = *pair;
        region& r = out.back();
        if (key == "VmFlags") {
            value = trim(value);
            while (!value.empty()) {
                std::string_view flag = next_token(value);
                if (flag == "dd") r.dont_dump = true;
                else if (flag == "ht") r.hugetlb = true;
                else if (flag == "io") r.io = true;
                else if (flag == "sh") r.vm_shared = true;
                else if (flag == "dc") r.dont_fork = true;
                else if (flag == "wf") r.wipe_on_fork = true;
            }
        } else if (key == "Anonymous" || key == "Swap") {
            if (parse_kb(value).value_or(0) > 0) r.has_anonymous = true;
        } else if (key == "Rss") {
            r.rss_kb = parse_kb(value).value_or(0);
        }
    }
    return out;
}

[[nodiscard]] TRIAGE_DECL result<std::vector<region>> read_regions(const procfs::proc_dir& dir) {
    std::string text = TRIAGE_TRY(dir.read_all(procfs::whole_process, "smaps"));
    auto regions = parse_smaps(text);
    if (!regions) return fail(std::move(regions.error()).within("reading " + dir.path(procfs::whole_process, "smaps")));
    return regions;
}

[[nodiscard]] TRIAGE_DECL extent decide(const region& r, dump_filter filter, bool file_is_executable) noexcept {
    using b = dump_filter::bit;
    if (r.special()) return extent::whole;
    if (r.dont_dump) return extent::nothing;
    if (r.hugetlb) return filter.has(r.vm_shared ? b::hugetlb_shared : b::hugetlb_private) ? extent::whole : extent::nothing;
    if (r.io) return extent::nothing;
    if (r.vm_shared) {
        bool no_links = r.map.deleted || !r.map.is_file();
        return filter.has(no_links ? b::anon_shared : b::mapped_shared) ? extent::whole : extent::nothing;
    }
    if (r.has_anonymous && filter.has(b::anon_private)) return extent::whole;
    if (!r.map.is_file()) return extent::nothing;
    if (filter.has(b::mapped_private)) return extent::whole;
    if (filter.has(b::elf_headers) && r.map.offset == 0 && r.map.readable)
        return file_is_executable ? extent::first_page : extent::first_page_if_elf;
    return extent::nothing;
}

} // namespace triage::coredump
