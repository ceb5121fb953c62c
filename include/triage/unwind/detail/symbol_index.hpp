// triage/unwind/detail/symbol_index.hpp — a module's sized symbols sorted by
// address, so that most look-ups take O(log n) and give what libdwfl's
// dwfl_module_addrinfo gives.
//
// Why: dwfl_module_addrinfo scans the whole symbol table at every call
// (41,000 symbols in python3.11's debug file).
//
// Offers (internal to unwind/): `symbol_index::of(module)` reads the table
// once through dwfl_module_getsym_info (the table and the load-biased
// values addrinfo uses) and `find(address)`, which answers only where the
// answer is sure to be libdwfl's (x86-64: no function descriptors to
// resolve). libdwfl's rules (libdwfl/dwfl_module_addrsym.c): global and
// weak symbols first; locals only when no global sized symbol contains
// the address and no global sizeless one starts exactly there; among the
// sized symbols that contain it, taken in table order, a later one wins
// when it starts closer, or has a stronger binding (global > weak >
// local), or starts at the same place and is smaller with a binding no
// weaker, or as small with a stronger one. Symbols of type section, file
// or TLS, nameless or undefined ones never count. `find` collects the
// sized symbols that contain the address (a running maximum of their ends
// bounds the walk back) and applies those rules in table order; when no
// sized symbol contains it (assembly labels without a size, a pc outside
// every symbol), it returns std::nullopt: ask dwfl_module_addrinfo.
// Names point into libelf's data: valid while the module's Dwfl lives.
// Thread-safe: const after construction. Signal-safe: no.
// Target process: none.
//
//   auto index = symbol_index::of(module);
//   if (auto s = index.find(pc)) std::printf("%s+%#lx\n", s->name, pc - s->start);
#pragma once

#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace triage::unwind::detail {

struct indexed_symbol {
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    const char* name = nullptr;
    int table_index = 0;  // its place in the module's symbol table: the order libdwfl sees them in
    int binding = 0;      // higher is preferred: global 3, weak 2, local 1, other 0
};

class symbol_index {
public:
    [[nodiscard]] static symbol_index of(Dwfl_Module* module) {
        symbol_index index;
        const int count = ::dwfl_module_getsymtab(module);
        const int first_global = ::dwfl_module_getsymtab_first_global(module);
        if (count <= 0 || first_global < 0) return index;
        for (int i = 1; i < count; ++i) {
            GElf_Sym symbol{};
            GElf_Addr value = 0;
            GElf_Word section = 0;
            const char* name = ::dwfl_module_getsym_info(module, i, &symbol, &value, &section, nullptr, nullptr);
            if (name == nullptr || *name == '\0' || symbol.st_shndx == SHN_UNDEF) continue;
            const int type = GELF_ST_TYPE(symbol.st_info);
            if (type == STT_SECTION || type == STT_FILE || type == STT_TLS) continue;
            const bool global = first_global == 0 || i >= first_global;
            if (symbol.st_size == 0) {
                if (global) index.global_sizeless_.push_back(value);
                continue;
            }
            (global ? index.globals_ : index.locals_).symbols.push_back({value, symbol.st_size, name, i, binding_value(symbol)});
        }
        index.globals_.sort();
        index.locals_.sort();
        std::sort(index.global_sizeless_.begin(), index.global_sizeless_.end());
        return index;
    }

    [[nodiscard]] std::optional<indexed_symbol> find(std::uint64_t address) const {
        if (auto found = globals_.best(address)) return found;
        if (std::binary_search(global_sizeless_.begin(), global_sizeless_.end(), address)) return std::nullopt;
        return locals_.best(address);
    }

private:
    struct table {
        std::vector<indexed_symbol> symbols;  // by start
        std::vector<std::uint64_t> max_end;   // max_end[i]: the highest end among symbols[0..i]

        void sort() {
            std::sort(symbols.begin(), symbols.end(),
                      [](const indexed_symbol& a, const indexed_symbol& b) { return a.start < b.start; });
            max_end.resize(symbols.size());
            std::uint64_t highest = 0;
            for (std::size_t i = 0; i < symbols.size(); ++i) {
                highest = std::max(highest, symbols[i].start + symbols[i].size);
                max_end[i] = highest;
            }
        }

        // libdwfl's choice among this table's sized symbols that contain `address`.
        [[nodiscard]] std::optional<indexed_symbol> best(std::uint64_t address) const {
            auto after = std::upper_bound(symbols.begin(), symbols.end(), address,
                                          [](std::uint64_t a, const indexed_symbol& s) { return a < s.start; });
            std::vector<const indexed_symbol*> containing;
            for (auto i = static_cast<std::size_t>(after - symbols.begin()); i > 0 && max_end[i - 1] > address; --i) {
                const indexed_symbol& s = symbols[i - 1];
                if (address - s.start < s.size) containing.push_back(&s);
            }
            if (containing.empty()) return std::nullopt;
            std::sort(containing.begin(), containing.end(),
                      [](const indexed_symbol* a, const indexed_symbol* b) { return a->table_index < b->table_index; });
            const indexed_symbol* chosen = nullptr;
            for (const indexed_symbol* s : containing) {
                if (chosen == nullptr || chosen->start < s->start || chosen->binding < s->binding) {
                    chosen = s;
                } else if (chosen->start == s->start &&
                           ((chosen->size > s->size && chosen->binding <= s->binding) ||
                            (chosen->size >= s->size && chosen->binding < s->binding))) {
                    chosen = s;
                }
            }
            return *chosen;
        }
    };

    [[nodiscard]] static int binding_value(const GElf_Sym& symbol) noexcept {
        switch (GELF_ST_BIND(symbol.st_info)) {
        case STB_GLOBAL: return 3;
        case STB_WEAK: return 2;
        case STB_LOCAL: return 1;
        default: return 0;
        }
    }

    table globals_;
    table locals_;
    std::vector<std::uint64_t> global_sizeless_;  // starts of the global symbols without a size
};

} // namespace triage::unwind::detail
