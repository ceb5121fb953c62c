// The cost of finding the line of an instruction near the end of a large
// function (the worst case: every decoder walks the table from its start),
// for each table format, at 1,000 and 10,000 source lines.
// The tables are built the way CPython lays them out for straight-line code:
// each line is a few instructions, the location table alternating one-line
// entries (line + 1, columns) with short-form entries (same line).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "triage/cpython/linetable_310.hpp"
#include "triage/cpython/lnotab.hpp"
#include "triage/cpython/location_table.hpp"

namespace {

constexpr int first_line = 70'000;
constexpr int units_per_line = 7;  // code units (2 bytes each) per source line

// co_lnotab (3.6+) and the 3.10 co_linetable agree for straight-line code:
// pairs of (bytes of the line, line delta).
std::vector<std::byte> byte_pair_table_for(int lines) {
    std::vector<std::byte> table;
    for (int i = 0; i < lines; ++i) {
        table.push_back(std::byte{2 * units_per_line});
        table.push_back(std::byte{1});
    }
    return table;
}

std::vector<std::byte> location_table_for(int lines) {
    std::vector<std::byte> table;
    for (int i = 0; i < lines; ++i) {
        // One-line form, line + 1, 3 code units, columns 4..20.
        table.push_back(std::byte{0x80 | (11 << 3) | 2});
        table.push_back(std::byte{4});
        table.push_back(std::byte{20});
        // Short form, same line, 4 code units, column 8 + 1, width 5.
        table.push_back(std::byte{0x80 | (1 << 3) | 3});
        table.push_back(std::byte{0x15});
    }
    return table;
}

std::int64_t last_unit(int lines) { return std::int64_t{lines} * units_per_line - 1; }

// Every benchmark first checks that it decodes the right line.
template <class Line>
bool is_last_line(const Line& line, int lines) {
    if constexpr (requires { line->has_value(); }) {
        return line && *line && **line == first_line + lines;
    } else {
        return line && *line == first_line + lines;
    }
}

void lnotab_line(benchmark::State& state) {
    const int lines = static_cast<int>(state.range(0));
    const auto table = byte_pair_table_for(lines);
    if (!is_last_line(triage::cpython::line_for_lnotab(table, first_line, 2 * last_unit(lines),
                                                       triage::cpython::lnotab_line_deltas::signed_bytes),
                      lines - 1)) {  // a pair's line starts at its end address: the first line has no pair
        state.SkipWithError("wrong line");
    }
    for (auto _ : state) {
        auto line = triage::cpython::line_for_lnotab(table, first_line, 2 * last_unit(lines),
                                                     triage::cpython::lnotab_line_deltas::signed_bytes);
        benchmark::DoNotOptimize(line);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(table.size()));
}

void linetable_310_line(benchmark::State& state) {
    const int lines = static_cast<int>(state.range(0));
    const auto table = byte_pair_table_for(lines);
    if (!is_last_line(triage::cpython::line_for_linetable_310(table, first_line, last_unit(lines)), lines)) {
        state.SkipWithError("wrong line");
    }
    for (auto _ : state) {
        auto line = triage::cpython::line_for_linetable_310(table, first_line, last_unit(lines));
        benchmark::DoNotOptimize(line);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(table.size()));
}

void location_table_line(benchmark::State& state) {
    const int lines = static_cast<int>(state.range(0));
    const auto table = location_table_for(lines);
    if (!is_last_line(triage::cpython::line_for_location_table(table, first_line, last_unit(lines)), lines)) {
        state.SkipWithError("wrong line");
    }
    for (auto _ : state) {
        auto line = triage::cpython::line_for_location_table(table, first_line, last_unit(lines));
        benchmark::DoNotOptimize(line);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(table.size()));
}

void location_table_position(benchmark::State& state) {
    const int lines = static_cast<int>(state.range(0));
    const auto table = location_table_for(lines);
    const auto check = triage::cpython::position_for_location_table(table, first_line, last_unit(lines));
    if (!check || !*check || (*check)->line != first_line + lines || (*check)->column != 9) {
        state.SkipWithError("wrong position");
    }
    for (auto _ : state) {
        auto position = triage::cpython::position_for_location_table(table, first_line, last_unit(lines));
        benchmark::DoNotOptimize(position);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(table.size()));
}

} // namespace

BENCHMARK(lnotab_line)->Arg(1'000)->Arg(10'000);
BENCHMARK(linetable_310_line)->Arg(1'000)->Arg(10'000);
BENCHMARK(location_table_line)->Arg(1'000)->Arg(10'000);
BENCHMARK(location_table_position)->Arg(1'000)->Arg(10'000);

BENCHMARK_MAIN();
