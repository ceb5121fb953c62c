// triage/elf/symbol.hpp — ELF symbols and the address → symbol index.
//
// Offers: `symbol{name, value, size, type, binding, section_index}` (as in
// the symbol table: `value` is a file address, add a mapped object's load
// bias for the runtime address) and `symbol_index`, built from any list of
// symbols, answering "which function or object contains this address".
// The index keeps defined STT_FUNC, STT_GNU_IFUNC and STT_OBJECT symbols with
// a non-zero size. When several contain an address it returns the one that
// starts closest below it; among aliases at the same start: global before
// weak before local, functions before objects, then the shorter name, then
// the name in byte order (so `malloc` wins over `__libc_malloc`).
// Thread-safe: const member functions yes. Signal-safe: no.
// Target process: none touched.
//
//   triage::elf::symbol_index index{symbols};
//   if (auto s = index.containing(pc - bias)) std::cout << s->name << '\n';
#pragma once

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace triage::elf {

struct symbol {
    std::string name;
    std::uint64_t value = 0;          // st_value
    std::uint64_t size = 0;           // st_size
    std::uint8_t type = STT_NOTYPE;   // STT_FUNC, STT_OBJECT, STT_GNU_IFUNC, ...
    std::uint8_t binding = STB_LOCAL; // STB_GLOBAL, STB_WEAK, STB_LOCAL
    std::uint32_t section_index = SHN_UNDEF;  // st_shndx (SHN_ABS, SHN_COMMON, or a section)

    [[nodiscard]] bool defined() const noexcept { return section_index != SHN_UNDEF; }
    [[nodiscard]] bool contains(std::uint64_t address) const noexcept {
        return address >= value && address - value < size;
    }
};

class symbol_index {
public:
    symbol_index() = default;
    explicit symbol_index(std::vector<symbol> symbols) {
        std::erase_if(symbols, [](const symbol& s) {
            bool code_or_data = s.type == STT_FUNC || s.type == STT_GNU_IFUNC || s.type == STT_OBJECT;
            return !code_or_data || !s.defined() || s.section_index == SHN_ABS || s.size == 0 ||
                   s.value > UINT64_MAX - s.size;
        });
        // Ascending by start; among equal starts the preferred symbol last,
        // because lookups walk backwards from the address.
        std::sort(symbols.begin(), symbols.end(), [](const symbol& a, const symbol& b) {
            if (a.value != b.value) return a.value < b.value;
            return less_preferred(a, b);
        });
        // The same symbol read from .symtab and .dynsym once.
        auto same = [](const symbol& a, const symbol& b) {
            return a.value == b.value && a.size == b.size && a.type == b.type && a.binding == b.binding && a.name == b.name;
        };
        symbols.erase(std::unique(symbols.begin(), symbols.end(), same), symbols.end());
        symbols_ = std::move(symbols);
        reach_.reserve(symbols_.size());
        std::uint64_t reach = 0;
        for (const symbol& s : symbols_) {
            reach = std::max(reach, s.value + s.size);
            reach_.push_back(reach);
        }
    }

    // The symbol containing `address` (a file address), if any.
    [[nodiscard]] std::optional<symbol> containing(std::uint64_t address) const {
        auto after = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                                      [](std::uint64_t a, const symbol& s) { return a < s.value; });
        // Walk back only while some earlier symbol still reaches past `address`.
        for (auto i = static_cast<std::size_t>(after - symbols_.begin()); i > 0 && reach_[i - 1] > address; --i) {
            if (symbols_[i - 1].contains(address)) return symbols_[i - 1];
        }
        return std::nullopt;
    }

    [[nodiscard]] std::size_t size() const noexcept { return symbols_.size(); }

private:
    // True when `a` loses to `b` as the name for a shared start.
    static bool less_preferred(const symbol& a, const symbol& b) {
        auto binding = [](const symbol& s) { return s.binding == STB_GLOBAL ? 2 : s.binding == STB_WEAK ? 1 : 0; };
        auto code = [](const symbol& s) { return s.type == STT_OBJECT ? 0 : 1; };
        if (binding(a) != binding(b)) return binding(a) < binding(b);
        if (code(a) != code(b)) return code(a) < code(b);
        if (a.name.size() != b.name.size()) return a.name.size() > b.name.size();
        return a.name > b.name;
    }

    std::vector<symbol> symbols_;
    std::vector<std::uint64_t> reach_;  // reach_[i]: the highest end among symbols_[0..i]
};

} // namespace triage::elf
