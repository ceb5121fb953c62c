// What the CPython fuzz targets share: reading values off the front of a
// fuzzer's input, and picking one of the known layouts by a byte of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <boost/hana/for_each.hpp>
#include <boost/hana/size.hpp>

#include "triage/cpython/layouts/all.hpp"

namespace triage_fuzz {

// The T at the front of `input` (consumed), or T{} with `input` emptied when it is shorter.
template <class T>
T take(std::span<const std::uint8_t>& input) {
    T value{};
    if (input.size() < sizeof(T)) {
        input = {};
        return value;
    }
    std::memcpy(&value, input.data(), sizeof(T));
    input = input.subspan(sizeof(T));
    return value;
}

// One of layouts::known_layouts (2.7, 3.6 ... 3.15), by `selector` modulo their count.
inline triage::cpython::layout pick_layout(std::uint8_t selector) {
    triage::cpython::layout chosen = triage::cpython::layouts::v3_11;
    std::size_t index = 0;
    const std::size_t count = boost::hana::size(triage::cpython::layouts::known_layouts);
    boost::hana::for_each(triage::cpython::layouts::known_layouts, [&]<class Entry>(Entry) {
        if (index++ == selector % count) chosen = Entry::value;
    });
    return chosen;
}

} // namespace triage_fuzz
